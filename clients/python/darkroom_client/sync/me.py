from datetime import datetime
from typing import Optional

from pydantic import Field

from .base_model import BaseModel
from .enums import CreditType, Scope, Tier


class Me(BaseModel):
    me: "MeMe"


class MeMe(BaseModel):
    email: str
    tier: Tier
    parallel_limit: int = Field(alias="parallelLimit")
    created_at: datetime = Field(alias="createdAt")
    token_scopes: list[Scope] = Field(alias="tokenScopes")
    credits: "MeMeCredits"


class MeMeCredits(BaseModel):
    total: int
    rows: list["MeMeCreditsRows"]


class MeMeCreditsRows(BaseModel):
    type_: CreditType = Field(alias="type")
    remaining: int
    expires_at: Optional[datetime] = Field(alias="expiresAt")


Me.model_rebuild()
MeMe.model_rebuild()
MeMeCredits.model_rebuild()
