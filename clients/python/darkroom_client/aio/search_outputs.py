from typing import Optional

from pydantic import Field

from .base_model import BaseModel
from .fragments import OutputFields, PageInfoFields


class SearchOutputs(BaseModel):
    outputs: "SearchOutputsOutputs"


class SearchOutputsOutputs(BaseModel):
    total_count: Optional[int] = Field(alias="totalCount", default=None)
    page_info: "SearchOutputsOutputsPageInfo" = Field(alias="pageInfo")
    edges: list["SearchOutputsOutputsEdges"]


SearchOutputsOutputsPageInfo = PageInfoFields


class SearchOutputsOutputsEdges(BaseModel):
    cursor: str
    score: Optional[float]
    node: "SearchOutputsOutputsEdgesNode"


class SearchOutputsOutputsEdgesNode(OutputFields):
    generation: "SearchOutputsOutputsEdgesNodeGeneration"


class SearchOutputsOutputsEdgesNodeGeneration(BaseModel):
    prompt: str


SearchOutputs.model_rebuild()
SearchOutputsOutputs.model_rebuild()
SearchOutputsOutputsEdges.model_rebuild()
SearchOutputsOutputsEdgesNode.model_rebuild()
