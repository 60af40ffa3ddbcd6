from datetime import datetime
from typing import Optional

from pydantic import Field

from .base_model import BaseModel
from .fragments import UserErrorFields


class ImageUpload(BaseModel):
    image_upload: "ImageUploadImageUpload" = Field(alias="imageUpload")


class ImageUploadImageUpload(BaseModel):
    upload: Optional["ImageUploadImageUploadUpload"]
    user_errors: list["ImageUploadImageUploadUserErrors"] = Field(alias="userErrors")


class ImageUploadImageUploadUpload(BaseModel):
    id: str
    format: str
    width: int
    height: int
    size_bytes: int = Field(alias="sizeBytes")
    created_at: datetime = Field(alias="createdAt")


ImageUploadImageUploadUserErrors = UserErrorFields
ImageUpload.model_rebuild()
ImageUploadImageUpload.model_rebuild()
