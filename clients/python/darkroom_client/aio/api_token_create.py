from typing import Optional

from pydantic import Field

from .base_model import BaseModel
from .fragments import ApiTokenFields, UserErrorFields


class ApiTokenCreate(BaseModel):
    api_token_create: "ApiTokenCreateApiTokenCreate" = Field(alias="apiTokenCreate")


class ApiTokenCreateApiTokenCreate(BaseModel):
    api_token: Optional["ApiTokenCreateApiTokenCreateApiToken"] = Field(
        alias="apiToken"
    )
    secret: Optional[str]
    user_errors: list["ApiTokenCreateApiTokenCreateUserErrors"] = Field(
        alias="userErrors"
    )


ApiTokenCreateApiTokenCreateApiToken = ApiTokenFields
ApiTokenCreateApiTokenCreateUserErrors = UserErrorFields
ApiTokenCreate.model_rebuild()
ApiTokenCreateApiTokenCreate.model_rebuild()
