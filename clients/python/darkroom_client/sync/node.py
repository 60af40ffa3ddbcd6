from typing import Literal, Union

from pydantic import Field

from .base_model import BaseModel
from .enums import JobStatus


class Node(BaseModel):
    node: Union["NodeNodeNode", "NodeNodeJob", "NodeNodeOutput"] = Field(
        discriminator="typename__"
    )


class NodeNodeNode(BaseModel):
    typename__: Literal[
        "ApiToken",
        "GalleryImage",
        "Model",
        "Node",
        "UploadedImage",
        "WebhookDelivery",
        "WebhookEndpoint",
    ] = Field(alias="__typename")
    id: str


class NodeNodeJob(BaseModel):
    typename__: Literal["Job"] = Field(alias="__typename")
    id: str
    status: JobStatus


class NodeNodeOutput(BaseModel):
    typename__: Literal["Output"] = Field(alias="__typename")
    id: str
    image_url: str = Field(alias="imageUrl")


Node.model_rebuild()
