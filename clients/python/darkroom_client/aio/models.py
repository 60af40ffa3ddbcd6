from pydantic import Field

from .base_model import BaseModel
from .enums import ModelFamily


class Models(BaseModel):
    models: list["ModelsModels"]


class ModelsModels(BaseModel):
    id: str
    model_id: str = Field(alias="modelId")
    name: str
    description: str
    is_default: bool = Field(alias="isDefault")
    family: ModelFamily
    default_width: int = Field(alias="defaultWidth")
    default_height: int = Field(alias="defaultHeight")
    default_steps: int = Field(alias="defaultSteps")
    min_width: int = Field(alias="minWidth")
    max_width: int = Field(alias="maxWidth")
    min_height: int = Field(alias="minHeight")
    max_height: int = Field(alias="maxHeight")
    size_multiple: int = Field(alias="sizeMultiple")
    min_steps: int = Field(alias="minSteps")
    max_steps: int = Field(alias="maxSteps")
    schedulers: list["ModelsModelsSchedulers"]


class ModelsModelsSchedulers(BaseModel):
    scheduler_id: str = Field(alias="schedulerId")
    name: str


Models.model_rebuild()
ModelsModels.model_rebuild()
