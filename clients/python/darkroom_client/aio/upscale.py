from typing import Optional

from pydantic import Field

from .base_model import BaseModel
from .fragments import JobFields, UserErrorFields


class Upscale(BaseModel):
    upscale_create: "UpscaleUpscaleCreate" = Field(alias="upscaleCreate")


class UpscaleUpscaleCreate(BaseModel):
    job: Optional["UpscaleUpscaleCreateJob"]
    reused: bool
    user_errors: list["UpscaleUpscaleCreateUserErrors"] = Field(alias="userErrors")


UpscaleUpscaleCreateJob = JobFields
UpscaleUpscaleCreateUserErrors = UserErrorFields
Upscale.model_rebuild()
UpscaleUpscaleCreate.model_rebuild()
