from pydantic import Field

from .base_model import BaseModel
from .fragments import ApiTokenFields


class ApiTokens(BaseModel):
    api_tokens: list["ApiTokensApiTokens"] = Field(alias="apiTokens")


ApiTokensApiTokens = ApiTokenFields
ApiTokens.model_rebuild()
