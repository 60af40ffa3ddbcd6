from datetime import datetime
from typing import Optional

from pydantic import Field

from .base_model import BaseModel
from .enums import JobKind, JobSource, JobStatus
from .fragments import PageInfoFields


class Usage(BaseModel):
    usage: "UsageUsage"


class UsageUsage(BaseModel):
    total_count: int = Field(alias="totalCount")
    page_info: "UsageUsagePageInfo" = Field(alias="pageInfo")
    edges: list["UsageUsageEdges"]


UsageUsagePageInfo = PageInfoFields


class UsageUsageEdges(BaseModel):
    cursor: str
    node: "UsageUsageEdgesNode"


class UsageUsageEdgesNode(BaseModel):
    kind: JobKind
    job_id: str = Field(alias="jobId")
    status: JobStatus
    source: JobSource
    token_id: Optional[str] = Field(alias="tokenId")
    token_preview: Optional[str] = Field(alias="tokenPreview")
    charged: int
    refunded: int
    net: int
    created_at: datetime = Field(alias="createdAt")
    finished_at: Optional[datetime] = Field(alias="finishedAt")


Usage.model_rebuild()
UsageUsage.model_rebuild()
UsageUsageEdges.model_rebuild()
