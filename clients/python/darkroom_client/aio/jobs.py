from typing import Optional

from pydantic import Field

from .base_model import BaseModel
from .fragments import JobFields, PageInfoFields


class Jobs(BaseModel):
    jobs: "JobsJobs"


class JobsJobs(BaseModel):
    total_count: Optional[int] = Field(alias="totalCount", default=None)
    page_info: "JobsJobsPageInfo" = Field(alias="pageInfo")
    edges: list["JobsJobsEdges"]


JobsJobsPageInfo = PageInfoFields


class JobsJobsEdges(BaseModel):
    cursor: str
    node: "JobsJobsEdgesNode"


JobsJobsEdgesNode = JobFields
Jobs.model_rebuild()
JobsJobs.model_rebuild()
JobsJobsEdges.model_rebuild()
