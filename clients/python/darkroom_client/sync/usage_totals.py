from pydantic import Field

from .base_model import BaseModel
from .enums import JobKind, JobSource


class UsageTotals(BaseModel):
    me: "UsageTotalsMe"


class UsageTotalsMe(BaseModel):
    usage_summary: list["UsageTotalsMeUsageSummary"] = Field(alias="usageSummary")


class UsageTotalsMeUsageSummary(BaseModel):
    source: JobSource
    kind: JobKind
    jobs: int
    charged: int
    refunded: int
    net: int


UsageTotals.model_rebuild()
UsageTotalsMe.model_rebuild()
