"""GraphQL types for image history: outputs, their filters and order, and usage."""

from collections.abc import Awaitable, Callable
from datetime import datetime

import strawberry
from strawberry import relay

from core.history import filters, paging, queries
from schema.catalog import Scheduler
from schema.enums import GalleryStatus, JobSource, described
from schema.jobs import Job

AspectRatio = described(
    strawberry.enum(
        filters.AspectRatio,
        description="Width to height, matched exactly (width * h == height * w).",
    ),
    {
        "SQUARE_1_1": "1:1.",
        "LANDSCAPE_16_9": "16:9.",
        "PORTRAIT_9_16": "9:16.",
        "LANDSCAPE_3_2": "3:2.",
        "PORTRAIT_2_3": "2:3.",
        "LANDSCAPE_4_3": "4:3.",
        "PORTRAIT_3_4": "3:4.",
        "LANDSCAPE_5_4": "5:4.",
        "PORTRAIT_4_5": "4:5.",
        "LANDSCAPE_2_4_1": "2.4:1 (12:5).",
    },
)
Direction = described(
    strawberry.enum(
        paging.Direction, description="Sort direction; NULLs come last either way."
    ),
    {"ASC": "Smallest or oldest first.", "DESC": "Largest or newest first."},
)
OutputOrderField = described(
    strawberry.enum(
        queries.OutputOrderField,
        description="What outputs can be sorted by; the id always breaks ties.",
    ),
    {
        "CREATED_AT": "When the output was stored.",
        "WIDTH": "Width in pixels.",
        "HEIGHT": "Height in pixels.",
        "INFERENCE_STEPS": "Denoising steps (NULL for upscales, sorted last).",
        "GUIDANCE_SCALE": "Guidance scale (NULL for upscales, sorted last).",
    },
)

_LIST = "at most 100 values"


@strawberry.input(description="Integer comparisons; every given operator must hold.")
class IntFilter:
    eq: int | None = strawberry.field(default=None, name="_eq", description="Equals.")
    neq: int | None = strawberry.field(
        default=None, name="_neq", description="Differs from (NULL never matches)."
    )
    in_: list[int] | None = strawberry.field(
        default=None, name="_in", description=f"One of these; {_LIST}."
    )
    nin: list[int] | None = strawberry.field(
        default=None, name="_nin", description=f"None of these; {_LIST}."
    )
    gt: int | None = strawberry.field(
        default=None, name="_gt", description="Greater than."
    )
    gte: int | None = strawberry.field(
        default=None, name="_gte", description="At least."
    )
    lt: int | None = strawberry.field(
        default=None, name="_lt", description="Less than."
    )
    lte: int | None = strawberry.field(
        default=None, name="_lte", description="At most."
    )
    is_null: bool | None = strawberry.field(
        default=None, name="_is_null", description="True: only NULL; false: only set."
    )


@strawberry.input(description="Number comparisons; every given operator must hold.")
class FloatFilter:
    eq: float | None = strawberry.field(default=None, name="_eq", description="Equals.")
    neq: float | None = strawberry.field(
        default=None, name="_neq", description="Differs from (NULL never matches)."
    )
    in_: list[float] | None = strawberry.field(
        default=None, name="_in", description=f"One of these; {_LIST}."
    )
    nin: list[float] | None = strawberry.field(
        default=None, name="_nin", description=f"None of these; {_LIST}."
    )
    gt: float | None = strawberry.field(
        default=None, name="_gt", description="Greater than."
    )
    gte: float | None = strawberry.field(
        default=None, name="_gte", description="At least."
    )
    lt: float | None = strawberry.field(
        default=None, name="_lt", description="Less than."
    )
    lte: float | None = strawberry.field(
        default=None, name="_lte", description="At most."
    )
    is_null: bool | None = strawberry.field(
        default=None, name="_is_null", description="True: only NULL; false: only set."
    )


@strawberry.input(
    description="Time range; bounds need a UTC offset, e.g. 2026-01-01T00:00:00Z."
)
class DateTimeFilter:
    gt: datetime | None = strawberry.field(
        default=None, name="_gt", description="After."
    )
    gte: datetime | None = strawberry.field(
        default=None, name="_gte", description="At or after."
    )
    lt: datetime | None = strawberry.field(
        default=None, name="_lt", description="Before."
    )
    lte: datetime | None = strawberry.field(
        default=None, name="_lte", description="At or before."
    )


@strawberry.input(description="Exact id match, e.g. a model or scheduler id.")
class IdFilter:
    eq: strawberry.ID | None = strawberry.field(
        default=None, name="_eq", description="Equals; at most 1000 characters."
    )
    in_: list[strawberry.ID] | None = strawberry.field(
        default=None, name="_in", description=f"One of these; {_LIST}."
    )
    nin: list[strawberry.ID] | None = strawberry.field(
        default=None, name="_nin", description=f"None of these; {_LIST}."
    )


@strawberry.input(description="Gallery status match.")
class GalleryStatusFilter:
    eq: GalleryStatus | None = strawberry.field(
        default=None, name="_eq", description="Equals."
    )
    in_: list[GalleryStatus] | None = strawberry.field(
        default=None, name="_in", description="One of these."
    )
    nin: list[GalleryStatus] | None = strawberry.field(
        default=None, name="_nin", description="None of these."
    )


@strawberry.input(description="Job source match.")
class JobSourceFilter:
    eq: JobSource | None = strawberry.field(
        default=None, name="_eq", description="Equals."
    )
    in_: list[JobSource] | None = strawberry.field(
        default=None, name="_in", description="One of these."
    )
    nin: list[JobSource] | None = strawberry.field(
        default=None, name="_nin", description="None of these."
    )


@strawberry.input(
    description="Aspect ratio match, computed exactly from width and height."
)
class AspectRatioFilter:
    eq: AspectRatio | None = strawberry.field(
        default=None, name="_eq", description="Equals."
    )
    in_: list[AspectRatio] | None = strawberry.field(
        default=None, name="_in", description="One of these."
    )
    nin: list[AspectRatio] | None = strawberry.field(
        default=None, name="_nin", description="None of these."
    )


@strawberry.input(description="Boolean match.")
class BooleanFilter:
    eq: bool | None = strawberry.field(default=None, name="_eq", description="Equals.")


@strawberry.input(description="Prompt text match; both given means both must hold.")
class PromptFilter:
    ilike: str | None = strawberry.field(
        default=None,
        name="_ilike",
        description=(
            "Case-insensitive LIKE: % is any run, _ any one character, a backslash "
            "makes the next one literal; at most 1000 characters."
        ),
    )
    search: str | None = strawberry.field(
        default=None,
        name="_search",
        description="Every word must appear (full text on PostgreSQL); at most 1000 characters.",
    )


@strawberry.input(
    description="Conditions on your outputs; every given field must hold. Nest _and/_or/_not up to 5 deep."
)
class OutputWhere:
    created_at: DateTimeFilter | None = strawberry.field(
        default=None, description="When the image was stored."
    )
    width: IntFilter | None = strawberry.field(
        default=None, description="Width in pixels."
    )
    height: IntFilter | None = strawberry.field(
        default=None, description="Height in pixels."
    )
    inference_steps: IntFilter | None = strawberry.field(
        default=None, description="Denoising steps; NULL for upscales."
    )
    seed: IntFilter | None = strawberry.field(
        default=None, description="Seed; NULL for upscales."
    )
    guidance_scale: FloatFilter | None = strawberry.field(
        default=None, description="Guidance scale; NULL for upscales."
    )
    model_id: IdFilter | None = strawberry.field(
        default=None, description="Catalog model (or upscaler) id."
    )
    scheduler_id: IdFilter | None = strawberry.field(
        default=None, description="Scheduler id, e.g. K_EULER."
    )
    gallery_status: GalleryStatusFilter | None = strawberry.field(
        default=None, description="Standing in the public gallery."
    )
    source: JobSourceFilter | None = strawberry.field(
        default=None, description="Which client submitted the job."
    )
    is_favorite: BooleanFilter | None = strawberry.field(
        default=None, description="Marked as a favorite."
    )
    is_public: BooleanFilter | None = strawberry.field(
        default=None, description="Visible in the public gallery."
    )
    is_upscaled: BooleanFilter | None = strawberry.field(
        default=None, description="True for upscales, false for generated images."
    )
    aspect_ratio: AspectRatioFilter | None = strawberry.field(
        default=None, description="Exact width-to-height ratio."
    )
    job_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="Only the outputs of this job (its UUID, as Output.jobId).",
    )
    prompt: PromptFilter | None = strawberry.field(
        default=None, description="Prompt text."
    )
    and_: list["OutputWhere"] | None = strawberry.field(
        default=None, name="_and", description=f"All of these hold; {_LIST}."
    )
    or_: list["OutputWhere"] | None = strawberry.field(
        default=None,
        name="_or",
        description=f"At least one holds; {_LIST}; [] matches none.",
    )
    not_: "OutputWhere | None" = strawberry.field(
        default=None, name="_not", description="Does not hold (NULLs included)."
    )


@strawberry.input(description="One sort term; give several to break ties in order.")
class OutputOrderBy:
    field: OutputOrderField = strawberry.field(description="What to sort by.")
    direction: Direction = strawberry.field(
        default=paging.Direction.DESC, description="ASC or DESC (default DESC)."
    )


@strawberry.type(description="A model by catalog id, as recorded on an output.")
class ModelRef:
    id: strawberry.ID = strawberry.field(
        description="Catalog model (or upscaler) id, as given to generationCreate."
    )
    name: str = strawberry.field(
        description="Display name; the id when the model is no longer in the catalog."
    )
    in_catalog: bool = strawberry.field(
        description="False when the model has been removed from the catalog."
    )


@strawberry.type(description="The settings an output was made with.")
class Generation:
    prompt: str = strawberry.field(description="The prompt, whitespace collapsed.")
    negative_prompt: str = strawberry.field(
        description="What was avoided; may be empty."
    )
    model: ModelRef = strawberry.field(description="The model that made it.")
    scheduler: Scheduler | None = strawberry.field(
        description="The scheduler; null for upscales."
    )
    inference_steps: int | None = strawberry.field(
        description="Denoising steps; null for upscales."
    )
    guidance_scale: float | None = strawberry.field(
        description="Prompt adherence; null for upscales."
    )
    prompt_strength: float | None = strawberry.field(
        description="How far it moved from its init image; null for text-to-image."
    )


@strawberry.type(description="One stored image of yours.")
class Output(relay.Node):
    output_id: relay.NodeID[str]
    image_url: str = strawberry.field(
        description="Where to download it: a plain link when public, else a signed link valid for an hour."
    )
    width: int = strawberry.field(description="Width in pixels.")
    height: int = strawberry.field(description="Height in pixels.")
    seed: int | None = strawberry.field(
        description="The seed that reproduces it; null for upscales."
    )
    format: str = strawberry.field(description="File format, e.g. png.")
    is_favorite: bool = strawberry.field(description="Marked as a favorite.")
    is_public: bool = strawberry.field(description="Visible in the public gallery.")
    gallery_status: GalleryStatus = strawberry.field(
        description="Standing in the public gallery."
    )
    is_upscaled: bool = strawberry.field(
        description="True when this image is the result of an upscale (of an output or an upload)."
    )
    created_at: datetime = strawberry.field(description="When it was stored.")
    generation: Generation = strawberry.field(description="How it was made.")
    job_id: strawberry.ID = strawberry.field(
        description="The UUID of the job that made it."
    )
    # Set by the resolver: per-request DataLoader lookups, so a page costs one query.
    load_upscale: strawberry.Private[Callable[[], Awaitable["Output | None"]]]
    load_job: strawberry.Private[Callable[[], Awaitable[Job | None]]]

    @strawberry.field(description="The job that made it.")
    async def job(self) -> Job | None:
        """Load through the request's DataLoader."""
        return await self.load_job()

    @strawberry.field(description="The upscale of this image, if one was made.")
    async def upscale(self) -> "Output | None":
        """Load through the request's DataLoader."""
        return await self.load_upscale()


@strawberry.type(description="A page of your outputs.")
class OutputConnection(relay.Connection[Output]):
    count: strawberry.Private[int | None]

    @strawberry.field(
        description="How many outputs match `where` in all, on every page; counted only when asked for."
    )
    def total_count(self) -> int:
        """The count made because this field was selected."""
        assert self.count is not None, "counted whenever totalCount is selected"
        return self.count
