from typing import Optional

from pydantic import Field

from .base_model import BaseModel
from .fragments import OutputFields, PageInfoFields


class Outputs(BaseModel):
    outputs: "OutputsOutputs"


class OutputsOutputs(BaseModel):
    total_count: Optional[int] = Field(alias="totalCount", default=None)
    page_info: "OutputsOutputsPageInfo" = Field(alias="pageInfo")
    edges: list["OutputsOutputsEdges"]


OutputsOutputsPageInfo = PageInfoFields


class OutputsOutputsEdges(BaseModel):
    cursor: str
    node: "OutputsOutputsEdgesNode"


OutputsOutputsEdgesNode = OutputFields
Outputs.model_rebuild()
OutputsOutputs.model_rebuild()
OutputsOutputsEdges.model_rebuild()
