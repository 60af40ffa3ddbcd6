"""GraphQL types for jobs: inputs, the Job node, live updates, payloads."""

from datetime import datetime

import strawberry
from strawberry import relay
from strawberry.file_uploads import Upload

from schema.enums import JobKind, JobSource, JobStatus
from schema.user_error import UserError


@strawberry.input(description="A text-to-image or image-to-image request.")
class GenerationCreateInput:
    prompt: str = strawberry.field(
        description="What to draw: 1 to 500 characters after whitespace is collapsed. Never cut."
    )
    model_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="Catalog model id (see `models`); default the default model.",
    )
    negative_prompt: str = strawberry.field(
        default="", description="What to avoid; at most 500 characters."
    )
    width: int | None = strawberry.field(
        default=None,
        description="Width in pixels: a multiple of the model's size multiple (8) within its bounds; default the model's.",
    )
    height: int | None = strawberry.field(
        default=None, description="Height in pixels, same rules as width."
    )
    num_outputs: int = strawberry.field(
        default=2, description="Images to make, 1 to 4; each costs 1 credit."
    )
    guidance_scale: float | None = strawberry.field(
        default=None,
        description="Prompt adherence, 1 to 20; default the model's (7.0).",
    )
    inference_steps: int | None = strawberry.field(
        default=None,
        description="Denoising steps within the model's range; default the model's.",
    )
    scheduler_id: str | None = strawberry.field(
        default=None,
        description="Scheduler id among the model's schedulers; default the model's. An incompatible one is refused, never swapped.",
    )
    seed: int | None = strawberry.field(
        default=None,
        description="0 to 2147483646; image i uses seed + i. Default: random, reported per output.",
    )
    init_image_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="An upload id (imageUpload): makes this image-to-image.",
    )
    prompt_strength: float | None = strawberry.field(
        default=None,
        description="Image-to-image only: how far to move from the init image, in (0, 1]; default 0.5.",
    )
    is_public: bool | None = strawberry.field(
        default=None,
        description="Show in the public gallery. Free-tier images are always public; paid default private.",
    )
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Up to 100 characters: a repeat with the same key and input returns the first job, charged once.",
    )
    previews: int = strawberry.field(
        default=0,
        description="0: no previews; N: a low-resolution preview in the updates every N steps.",
    )


@strawberry.input(description="A 4x upscale of an upload or of one's own output.")
class UpscaleCreateInput:
    image_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="An upload id (imageUpload), at most 1,048,576 pixels.",
    )
    output_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="One of your outputs; one already upscaled is returned again at no cost.",
    )
    model_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="Upscale model id (see `upscaleModels`); default the default one.",
    )
    idempotency_key: str | None = strawberry.field(
        default=None, description="As for generationCreate."
    )


@strawberry.input(description="Which jobs to list.")
class JobWhere:
    status: list[JobStatus] | None = strawberry.field(
        default=None, description="Only jobs in one of these states."
    )


@strawberry.type(description="Why a job failed.")
class JobError:
    code: str = strawberry.field(
        description="Stable code, e.g. ENGINE_ERROR, TIMEOUT, EXPIRED."
    )
    message: str = strawberry.field(description="What went wrong.")


@strawberry.type(description="One stored image of a job.")
class JobOutput:
    id: strawberry.ID = strawberry.field(description="Global id of the Output.")
    index: int = strawberry.field(description="Position in the job, from 0.")
    image_url: str = strawberry.field(
        description="Where to download it; private images get a time-limited signed link."
    )
    width: int = strawberry.field(description="Width in pixels.")
    height: int = strawberry.field(description="Height in pixels.")
    seed: int | None = strawberry.field(
        description="The seed that reproduces this image."
    )


@strawberry.type(description="A generation or upscale and where it stands.")
class Job(relay.Node):
    job_id: relay.NodeID[str]
    kind: JobKind = strawberry.field(description="GENERATE or UPSCALE.")
    status: JobStatus = strawberry.field(description="Where the job is.")
    source: JobSource = strawberry.field(description="Which client submitted it.")
    model_id: str = strawberry.field(description="Catalog model it runs on.")
    prompt: str | None = strawberry.field(description="The prompt, for generations.")
    num_outputs: int = strawberry.field(description="Images it makes.")
    seed: int | None = strawberry.field(
        description="Seed of the first image; image i has seed + i."
    )
    width: int | None = strawberry.field(description="Width of each image in pixels.")
    height: int | None = strawberry.field(description="Height of each image in pixels.")
    step: int = strawberry.field(description="Denoising steps done so far.")
    total_steps: int = strawberry.field(description="Denoising steps the job runs.")
    progress: float = strawberry.field(description="0 to 1.")
    queue_position: int | None = strawberry.field(
        description="1-based place in the queue while QUEUED; null otherwise."
    )
    eta_seconds: float | None = strawberry.field(
        description="Rough wait until it starts while QUEUED; null when unknown."
    )
    cost: int = strawberry.field(description="Credits charged at submission.")
    refunded: int = strawberry.field(
        description="Credits given back (failure, cancel)."
    )
    error: JobError | None = strawberry.field(
        description="Why it failed; null unless FAILED."
    )
    created_at: datetime = strawberry.field(description="When it was submitted.")
    started_at: datetime | None = strawberry.field(
        description="When a worker started it."
    )
    finished_at: datetime | None = strawberry.field(
        description="When it reached its final state."
    )
    outputs: list[JobOutput] = strawberry.field(
        description="Images stored so far, in order."
    )


@strawberry.type(description="An edge in a job list.")
class JobEdge:
    cursor: str = strawberry.field(description="Opaque cursor for `after`.")
    node: Job = strawberry.field(description="The job.")


@strawberry.type(description="A page of jobs, newest first.")
class JobConnection:
    edges: list[JobEdge] = strawberry.field(description="The jobs on this page.")
    page_info: relay.PageInfo = strawberry.field(description="Whether more follow.")


@strawberry.type(description="One live change to a job.")
class JobUpdate:
    job_id: strawberry.ID = strawberry.field(description="Global id of the job.")
    type: str = strawberry.field(
        description="QUEUED, STARTED, PROGRESS, OUTPUT, then one of SUCCEEDED, FAILED, CANCELLED."
    )
    status: JobStatus = strawberry.field(
        description="The job's state after this change."
    )
    at: datetime = strawberry.field(description="When it happened.")
    queue_position: int | None = strawberry.field(
        description="Place in the queue (QUEUED)."
    )
    eta_seconds: float | None = strawberry.field(
        description="Seconds until it starts (QUEUED) or finishes (PROGRESS)."
    )
    step: int | None = strawberry.field(description="Steps done (PROGRESS).")
    total_steps: int | None = strawberry.field(description="Steps in all (PROGRESS).")
    percent: float | None = strawberry.field(
        description="Share of the steps done, 0 to 1 (PROGRESS; 1 on success)."
    )
    preview: str | None = strawberry.field(
        description="A small PNG preview as a data: URL, when previews were asked for."
    )
    output: JobOutput | None = strawberry.field(
        description="The image just stored (OUTPUT)."
    )
    error: JobError | None = strawberry.field(description="Why it failed (FAILED).")
    charged: int | None = strawberry.field(description="Credits charged.")
    refunded: int | None = strawberry.field(
        description="Credits refunded (terminal events)."
    )


@strawberry.type(description="Result of generationCreate.")
class GenerationCreatePayload:
    job: Job | None = strawberry.field(
        description="The queued (or, with wait, finished) job."
    )
    user_errors: list[UserError] = strawberry.field(
        description="Why nothing was submitted."
    )


@strawberry.type(description="Result of upscaleCreate.")
class UpscaleCreatePayload:
    job: Job | None = strawberry.field(description="The upscale job.")
    reused: bool = strawberry.field(
        description="True when an earlier upscale of the same output was returned at no cost."
    )
    user_errors: list[UserError] = strawberry.field(
        description="Why nothing was submitted."
    )


@strawberry.type(description="Result of jobCancel.")
class JobCancelPayload:
    job: Job | None = strawberry.field(description="The job after the cancel request.")
    user_errors: list[UserError] = strawberry.field(
        description="Why it was not cancelled."
    )


@strawberry.type(description="An uploaded input image.")
class UploadedImage:
    id: strawberry.ID = strawberry.field(description="Use as initImageId or imageId.")
    format: str = strawberry.field(
        description="PNG, JPEG or WEBP, from the decoded content."
    )
    width: int = strawberry.field(description="Width in pixels.")
    height: int = strawberry.field(description="Height in pixels.")
    size_bytes: int = strawberry.field(description="File size.")


@strawberry.type(description="Result of imageUpload.")
class ImageUploadPayload:
    upload: UploadedImage | None = strawberry.field(description="The stored image.")
    user_errors: list[UserError] = strawberry.field(description="Why it was refused.")


__all__ = ["Upload"]
