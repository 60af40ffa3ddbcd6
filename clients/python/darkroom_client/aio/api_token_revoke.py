from typing import Optional

from pydantic import Field

from .base_model import BaseModel
from .fragments import ApiTokenFields, UserErrorFields


class ApiTokenRevoke(BaseModel):
    api_token_revoke: "ApiTokenRevokeApiTokenRevoke" = Field(alias="apiTokenRevoke")


class ApiTokenRevokeApiTokenRevoke(BaseModel):
    api_token: Optional["ApiTokenRevokeApiTokenRevokeApiToken"] = Field(
        alias="apiToken"
    )
    user_errors: list["ApiTokenRevokeApiTokenRevokeUserErrors"] = Field(
        alias="userErrors"
    )


ApiTokenRevokeApiTokenRevokeApiToken = ApiTokenFields
ApiTokenRevokeApiTokenRevokeUserErrors = UserErrorFields
ApiTokenRevoke.model_rebuild()
ApiTokenRevokeApiTokenRevoke.model_rebuild()
