from datetime import datetime
from typing import Optional

from pydantic import Field

from .base_model import BaseModel
from .fragments import PageInfoFields


class Gallery(BaseModel):
    gallery: "GalleryGallery"


class GalleryGallery(BaseModel):
    page_info: "GalleryGalleryPageInfo" = Field(alias="pageInfo")
    edges: list["GalleryGalleryEdges"]


GalleryGalleryPageInfo = PageInfoFields


class GalleryGalleryEdges(BaseModel):
    cursor: str
    score: Optional[float]
    node: "GalleryGalleryEdgesNode"


class GalleryGalleryEdgesNode(BaseModel):
    id: str
    width: int
    height: int
    format: str
    seed: Optional[int]
    created_at: datetime = Field(alias="createdAt")
    url: str
    author: "GalleryGalleryEdgesNodeAuthor"
    generation: "GalleryGalleryEdgesNodeGeneration"


class GalleryGalleryEdgesNodeAuthor(BaseModel):
    handle: str


class GalleryGalleryEdgesNodeGeneration(BaseModel):
    prompt: str
    negative_prompt: str = Field(alias="negativePrompt")
    model_id: str = Field(alias="modelId")


Gallery.model_rebuild()
GalleryGallery.model_rebuild()
GalleryGalleryEdges.model_rebuild()
GalleryGalleryEdgesNode.model_rebuild()
