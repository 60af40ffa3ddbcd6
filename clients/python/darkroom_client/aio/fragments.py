from datetime import datetime
from typing import Optional

from pydantic import Field

from .base_model import BaseModel
from .enums import (
    ErrorCode,
    JobErrorCode,
    JobKind,
    JobStatus,
    JobUpdateType,
    Scope,
    WebhookEvent,
)


class ApiTokenFields(BaseModel):
    id: str
    name: str
    preview: str
    scopes: list[Scope]
    is_active: bool = Field(alias="isActive")
    created_at: datetime = Field(alias="createdAt")
    revoked_at: Optional[datetime] = Field(alias="revokedAt")
    last_used_at: Optional[datetime] = Field(alias="lastUsedAt")
    uses: int
    credits_spent: int = Field(alias="creditsSpent")


class OutputFields(BaseModel):
    id: str
    job_id: str = Field(alias="jobId")
    index: int
    width: int
    height: int
    seed: Optional[int]
    format: str
    is_favorite: bool = Field(alias="isFavorite")
    is_public: bool = Field(alias="isPublic")
    is_upscaled: bool = Field(alias="isUpscaled")
    created_at: datetime = Field(alias="createdAt")
    image_url: str = Field(alias="imageUrl")


class JobFields(BaseModel):
    id: str
    kind: JobKind
    status: JobStatus
    model_id: str = Field(alias="modelId")
    prompt: Optional[str]
    negative_prompt: Optional[str] = Field(alias="negativePrompt")
    width: Optional[int]
    height: Optional[int]
    num_outputs: int = Field(alias="numOutputs")
    inference_steps: Optional[int] = Field(alias="inferenceSteps")
    guidance_scale: Optional[float] = Field(alias="guidanceScale")
    scheduler_id: Optional[str] = Field(alias="schedulerId")
    seed: Optional[int]
    step: int
    total_steps: int = Field(alias="totalSteps")
    progress: float
    cost: int
    refunded: int
    error: Optional["JobFieldsError"]
    created_at: datetime = Field(alias="createdAt")
    started_at: Optional[datetime] = Field(alias="startedAt")
    finished_at: Optional[datetime] = Field(alias="finishedAt")
    queue_position: Optional[int] = Field(alias="queuePosition")
    eta_seconds: Optional[float] = Field(alias="etaSeconds")
    outputs: list["JobFieldsOutputs"]


class JobFieldsError(BaseModel):
    code: JobErrorCode
    message: str


class JobFieldsOutputs(OutputFields):
    pass


class JobUpdateFields(BaseModel):
    job_id: str = Field(alias="jobId")
    type_: JobUpdateType = Field(alias="type")
    status: JobStatus
    at: datetime
    queue_position: Optional[int] = Field(alias="queuePosition")
    eta_seconds: Optional[float] = Field(alias="etaSeconds")
    step: Optional[int]
    total_steps: Optional[int] = Field(alias="totalSteps")
    percent: Optional[float]
    preview: Optional[str]
    output: Optional["JobUpdateFieldsOutput"]
    error: Optional["JobUpdateFieldsError"]
    charged: Optional[int]
    refunded: Optional[int]


class JobUpdateFieldsOutput(OutputFields):
    pass


class JobUpdateFieldsError(BaseModel):
    code: JobErrorCode
    message: str


class PageInfoFields(BaseModel):
    has_next_page: bool = Field(alias="hasNextPage")
    has_previous_page: bool = Field(alias="hasPreviousPage")
    start_cursor: Optional[str] = Field(alias="startCursor")
    end_cursor: Optional[str] = Field(alias="endCursor")


class UserErrorFields(BaseModel):
    field: Optional[list[str]]
    code: ErrorCode
    message: str


class WebhookEndpointFields(BaseModel):
    id: str
    url: str
    events: list[WebhookEvent]
    is_active: bool = Field(alias="isActive")
    created_at: datetime = Field(alias="createdAt")


ApiTokenFields.model_rebuild()
OutputFields.model_rebuild()
JobFields.model_rebuild()
JobUpdateFields.model_rebuild()
PageInfoFields.model_rebuild()
UserErrorFields.model_rebuild()
WebhookEndpointFields.model_rebuild()
