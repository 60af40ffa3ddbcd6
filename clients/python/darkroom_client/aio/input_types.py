from datetime import datetime
from typing import Optional

from pydantic import Field

from .base_model import BaseModel
from .enums import (
    AspectRatio,
    Direction,
    GalleryReviewDecision,
    GalleryStatus,
    JobHookEvent,
    JobKind,
    JobSource,
    JobStatus,
    OutputOrderField,
    Scope,
    WebhookDeliveryStatus,
    WebhookEvent,
)


class ApiTokenCreateInput(BaseModel):
    """A new API token."""

    name: Optional[str] = None
    'Label, 1 to 50 characters after trimming; default "Secret key".'
    scopes: Optional[list[Scope]] = None
    "What the token may do; default [GENERATE, READ]. Never more than the creating token has."


class AspectRatioFilter(BaseModel):
    """Aspect ratio match, computed exactly from width and height."""

    eq: Optional[AspectRatio] = Field(alias="_eq", default=None)
    "Equals."
    in_: Optional[list[AspectRatio]] = Field(alias="_in", default=None)
    "One of these."
    nin: Optional[list[AspectRatio]] = Field(alias="_nin", default=None)
    "None of these."


class BooleanFilter(BaseModel):
    """Boolean match."""

    eq: Optional[bool] = Field(alias="_eq", default=None)
    "Equals."


class DateTimeFilter(BaseModel):
    """Time range; bounds need a UTC offset, e.g. 2026-01-01T00:00:00Z."""

    gt: Optional[datetime] = Field(alias="_gt", default=None)
    "After."
    gte: Optional[datetime] = Field(alias="_gte", default=None)
    "At or after."
    lt: Optional[datetime] = Field(alias="_lt", default=None)
    "Before."
    lte: Optional[datetime] = Field(alias="_lte", default=None)
    "At or before."


class FloatFilter(BaseModel):
    """Number comparisons; every given operator must hold."""

    eq: Optional[float] = Field(alias="_eq", default=None)
    "Equals."
    neq: Optional[float] = Field(alias="_neq", default=None)
    "Differs from (NULL never matches)."
    in_: Optional[list[float]] = Field(alias="_in", default=None)
    "One of these; at most 100 values."
    nin: Optional[list[float]] = Field(alias="_nin", default=None)
    "None of these; at most 100 values."
    gt: Optional[float] = Field(alias="_gt", default=None)
    "Greater than."
    gte: Optional[float] = Field(alias="_gte", default=None)
    "At least."
    lt: Optional[float] = Field(alias="_lt", default=None)
    "Less than."
    lte: Optional[float] = Field(alias="_lte", default=None)
    "At most."
    is_null: Optional[bool] = Field(alias="_is_null", default=None)
    "True: only NULL; false: only set."


class GalleryReviewInput(BaseModel):
    """Which submissions to decide on, and how."""

    ids: list[str]
    "GalleryImage (or Output) ids, 1 to 100; repeats count once."
    decision: GalleryReviewDecision
    "APPROVE to show them in the gallery, REJECT to keep them out."


class GalleryStatusFilter(BaseModel):
    """Gallery status match."""

    eq: Optional[GalleryStatus] = Field(alias="_eq", default=None)
    "Equals."
    in_: Optional[list[GalleryStatus]] = Field(alias="_in", default=None)
    "One of these."
    nin: Optional[list[GalleryStatus]] = Field(alias="_nin", default=None)
    "None of these."


class GalleryWhere(BaseModel):
    """Conditions on gallery images, on what they show; every given field must hold. Nest _and/_or/_not up to 5 deep."""

    created_at: Optional["DateTimeFilter"] = Field(alias="createdAt", default=None)
    "When the image was stored."
    width: Optional["IntFilter"] = None
    "Width in pixels."
    height: Optional["IntFilter"] = None
    "Height in pixels."
    model_id: Optional["StringFilter"] = Field(alias="modelId", default=None)
    "Catalog model (or upscaler) id."
    scheduler_id: Optional["StringFilter"] = Field(alias="schedulerId", default=None)
    "Scheduler id, e.g. K_EULER."
    aspect_ratio: Optional["AspectRatioFilter"] = Field(
        alias="aspectRatio", default=None
    )
    "Exact width-to-height ratio."
    prompt: Optional["PromptFilter"] = None
    "Prompt text."
    is_upscaled: Optional["BooleanFilter"] = Field(alias="isUpscaled", default=None)
    "True for upscales, false for generated images."
    and_: Optional[list["GalleryWhere"]] = Field(alias="_and", default=None)
    "All of these hold; at most 100 values."
    or_: Optional[list["GalleryWhere"]] = Field(alias="_or", default=None)
    "At least one holds; at most 100 values; [] matches none."
    not_: Optional["GalleryWhere"] = Field(alias="_not", default=None)
    "Does not hold (NULLs included)."


class GenerationCreateInput(BaseModel):
    """A text-to-image or image-to-image request."""

    prompt: str
    "What to draw: 1 to 500 characters after whitespace is collapsed. Never cut."
    model_id: Optional[str] = Field(alias="modelId", default=None)
    "The model: its `id` or `modelId` from `models`; default the default model."
    negative_prompt: Optional[str] = Field(alias="negativePrompt", default="")
    "What to avoid; at most 500 characters."
    width: Optional[int] = None
    "Width in pixels: a multiple of the model's size multiple (8) within its bounds; default the model's."
    height: Optional[int] = None
    "Height in pixels, same rules as width."
    num_outputs: Optional[int] = Field(alias="numOutputs", default=2)
    "Images to make, 1 to 4; each costs 1 credit."
    inference_steps: Optional[int] = Field(alias="inferenceSteps", default=None)
    "Denoising steps within the model's range; default the model's."
    guidance_scale: Optional[float] = Field(alias="guidanceScale", default=None)
    "Prompt adherence, 1 to 20; default the model's (7.0)."
    scheduler_id: Optional[str] = Field(alias="schedulerId", default=None)
    "Scheduler id among the model's schedulers; default the model's. An incompatible one is refused, never swapped."
    seed: Optional[int] = None
    "0 to 2147483646; image i uses seed + i. Default: random, reported per output."
    init_image_id: Optional[str] = Field(alias="initImageId", default=None)
    "An uploaded image's id (imageUpload): makes this image-to-image."
    prompt_strength: Optional[float] = Field(alias="promptStrength", default=None)
    "Image-to-image only: how far to move from the init image, in (0, 1]; default 0.5."
    preview_every: Optional[int] = Field(alias="previewEvery", default=0)
    "0: no previews; N: a low-resolution preview in the updates every N steps (and on the last)."
    is_public: Optional[bool] = Field(alias="isPublic", default=None)
    "Show in the public gallery. Free-tier images are always public; paid default private."
    idempotency_key: Optional[str] = Field(alias="idempotencyKey", default=None)
    "Up to 100 characters: a repeat with the same key and input returns the first job, charged once."
    webhook: Optional["JobHookInput"] = None
    "POST this job's events to a URL of yours, as well as to your webhook endpoints; default none."


class IntFilter(BaseModel):
    """Integer comparisons; every given operator must hold."""

    eq: Optional[int] = Field(alias="_eq", default=None)
    "Equals."
    neq: Optional[int] = Field(alias="_neq", default=None)
    "Differs from (NULL never matches)."
    in_: Optional[list[int]] = Field(alias="_in", default=None)
    "One of these; at most 100 values."
    nin: Optional[list[int]] = Field(alias="_nin", default=None)
    "None of these; at most 100 values."
    gt: Optional[int] = Field(alias="_gt", default=None)
    "Greater than."
    gte: Optional[int] = Field(alias="_gte", default=None)
    "At least."
    lt: Optional[int] = Field(alias="_lt", default=None)
    "Less than."
    lte: Optional[int] = Field(alias="_lte", default=None)
    "At most."
    is_null: Optional[bool] = Field(alias="_is_null", default=None)
    "True: only NULL; false: only set."


class JobHookInput(BaseModel):
    """A job's own webhook: its events are POSTed there, signed with webhookSigningSecret."""

    url: str
    "https URL, at most 2000 characters, without credentials; its host must resolve to public addresses only (checked at submission and at every send)."
    events: Optional[list[JobHookEvent]] = None
    "The events to send; default STARTED, OUTPUT and COMPLETED. Not empty."


class JobSourceFilter(BaseModel):
    """Job source match."""

    eq: Optional[JobSource] = Field(alias="_eq", default=None)
    "Equals."
    in_: Optional[list[JobSource]] = Field(alias="_in", default=None)
    "One of these."
    nin: Optional[list[JobSource]] = Field(alias="_nin", default=None)
    "None of these."


class JobWhere(BaseModel):
    """Which jobs to list; every given field must hold."""

    status: Optional[list[JobStatus]] = None
    "Only jobs in one of these states; [] matches none."
    kind: Optional[list[JobKind]] = None
    "Only jobs of these kinds; [] matches none."


class OutputOrderBy(BaseModel):
    """One sort term; give several to break ties in order."""

    field: OutputOrderField
    "What to sort by."
    direction: Optional[Direction] = Direction.DESC
    "ASC or DESC (default DESC)."


class OutputWhere(BaseModel):
    """Conditions on your outputs; every given field must hold. Nest _and/_or/_not up to 5 deep."""

    created_at: Optional["DateTimeFilter"] = Field(alias="createdAt", default=None)
    "When the image was stored."
    width: Optional["IntFilter"] = None
    "Width in pixels."
    height: Optional["IntFilter"] = None
    "Height in pixels."
    inference_steps: Optional["IntFilter"] = Field(alias="inferenceSteps", default=None)
    "Denoising steps; NULL for upscales."
    seed: Optional["IntFilter"] = None
    "Seed; NULL for upscales."
    guidance_scale: Optional["FloatFilter"] = Field(alias="guidanceScale", default=None)
    "Guidance scale; NULL for upscales."
    model_id: Optional["StringFilter"] = Field(alias="modelId", default=None)
    "Catalog model (or upscaler) id."
    scheduler_id: Optional["StringFilter"] = Field(alias="schedulerId", default=None)
    "Scheduler id, e.g. K_EULER."
    gallery_status: Optional["GalleryStatusFilter"] = Field(
        alias="galleryStatus", default=None
    )
    "Standing in the public gallery."
    source: Optional["JobSourceFilter"] = None
    "Which client submitted the job."
    is_favorite: Optional["BooleanFilter"] = Field(alias="isFavorite", default=None)
    "Marked as a favorite."
    is_public: Optional["BooleanFilter"] = Field(alias="isPublic", default=None)
    "Visible in the public gallery."
    is_upscaled: Optional["BooleanFilter"] = Field(alias="isUpscaled", default=None)
    "True for upscales, false for generated images."
    aspect_ratio: Optional["AspectRatioFilter"] = Field(
        alias="aspectRatio", default=None
    )
    "Exact width-to-height ratio."
    job_id: Optional[str] = Field(alias="jobId", default=None)
    "Only the outputs of this job (its `id`)."
    prompt: Optional["PromptFilter"] = None
    "Prompt text."
    and_: Optional[list["OutputWhere"]] = Field(alias="_and", default=None)
    "All of these hold; at most 100 values."
    or_: Optional[list["OutputWhere"]] = Field(alias="_or", default=None)
    "At least one holds; at most 100 values; [] matches none."
    not_: Optional["OutputWhere"] = Field(alias="_not", default=None)
    "Does not hold (NULLs included)."


class OutputsUpdateInput(BaseModel):
    """Which outputs to change, and how."""

    is_favorite: Optional[bool] = Field(alias="isFavorite", default=None)
    "Mark or unmark as favorites; needs READ."
    is_public: Optional[bool] = Field(alias="isPublic", default=None)
    "Show in or hide from the public gallery; needs MANAGE. Free-tier outputs stay public."


class PromptFilter(BaseModel):
    """Prompt text match; both given means both must hold."""

    ilike: Optional[str] = Field(alias="_ilike", default=None)
    "Case-insensitive LIKE: % is any run, _ any one character, a backslash makes the next one literal; at most 1000 characters."
    search: Optional[str] = Field(alias="_search", default=None)
    "Every word must appear (full text on PostgreSQL); at most 1000 characters."


class StringFilter(BaseModel):
    """Exact text match, e.g. a catalog model or scheduler id."""

    eq: Optional[str] = Field(alias="_eq", default=None)
    "Equals; at most 1000 characters."
    in_: Optional[list[str]] = Field(alias="_in", default=None)
    "One of these; at most 100 values."
    nin: Optional[list[str]] = Field(alias="_nin", default=None)
    "None of these; at most 100 values."


class UpscaleCreateInput(BaseModel):
    """A 4x upscale of an upload or of one's own output."""

    image_id: Optional[str] = Field(alias="imageId", default=None)
    "An uploaded image's id (imageUpload), at most 1,048,576 pixels."
    output_id: Optional[str] = Field(alias="outputId", default=None)
    "One of your outputs; one already upscaled is returned again at no cost."
    model_id: Optional[str] = Field(alias="modelId", default=None)
    "The upscaler: its `modelId` from `upscaleModels`; default the default one."
    idempotency_key: Optional[str] = Field(alias="idempotencyKey", default=None)
    "As for generationCreate."
    webhook: Optional["JobHookInput"] = None
    "As for generationCreate: POST this job's events to a URL of yours, as well as to your webhook endpoints; default none."


class UsageWhere(BaseModel):
    """Which jobs to list; every given field must hold."""

    kind: Optional[list[JobKind]] = None
    "Any of these kinds; [] matches none."
    source: Optional[list[JobSource]] = None
    "Any of these sources; [] matches none."
    token_id: Optional[str] = Field(alias="tokenId", default=None)
    "Only jobs submitted with this API token."
    created_at: Optional["DateTimeFilter"] = Field(alias="createdAt", default=None)
    "When the job was submitted."


class WebhookDeliveryWhere(BaseModel):
    """Which webhook deliveries to list; every given field must hold."""

    endpoint_id: Optional[str] = Field(alias="endpointId", default=None)
    "Only deliveries to this endpoint (deleted ones too)."
    job_id: Optional[str] = Field(alias="jobId", default=None)
    "Only deliveries about this job."
    status: Optional[list[WebhookDeliveryStatus]] = None
    "Only deliveries in one of these states; [] matches none."


class WebhookEndpointCreateInput(BaseModel):
    """A new webhook endpoint."""

    url: str
    "https URL, at most 2000 characters, without credentials; it may not name a loopback, private, link-local or metadata address (checked again at every send, after resolving)."
    events: Optional[list[WebhookEvent]] = None
    "The events to send; default all of them. Not empty."


GalleryWhere.model_rebuild()
GenerationCreateInput.model_rebuild()
OutputWhere.model_rebuild()
UpscaleCreateInput.model_rebuild()
UsageWhere.model_rebuild()
