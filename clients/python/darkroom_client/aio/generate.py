from typing import Optional

from pydantic import Field

from .base_model import BaseModel
from .fragments import JobFields, UserErrorFields


class Generate(BaseModel):
    generation_create: "GenerateGenerationCreate" = Field(alias="generationCreate")


class GenerateGenerationCreate(BaseModel):
    job: Optional["GenerateGenerationCreateJob"]
    user_errors: list["GenerateGenerationCreateUserErrors"] = Field(alias="userErrors")


GenerateGenerationCreateJob = JobFields
GenerateGenerationCreateUserErrors = UserErrorFields
Generate.model_rebuild()
GenerateGenerationCreate.model_rebuild()
