"""GraphQL types for jobs: the Job node, its live updates, and uploads.

Job is lazy: its place in the queue and its outputs are field resolvers backed by
the request's DataLoaders, so they cost nothing unless selected and one query per
page when they are.
"""

import base64
import uuid
from datetime import datetime
from typing import Any

import strawberry
from strawberry import relay
from strawberry.types import Info

from core import models
from core.enums import JobStatus as CoreJobStatus
from core.webhooks.job_hooks import parse_hook_events
from jobs.events import JobEvent
from jobs.positions import QueuePlace
from resolvers.context import Context
from resolvers.outputs.types import Output
from schema.enums import (
    JobErrorCode,
    JobHookEvent,
    JobKind,
    JobSource,
    JobStatus,
    JobUpdateType,
)
from schema.ids import global_id


@strawberry.type(description="Why a job failed.")
class JobError:
    code: JobErrorCode = strawberry.field(description="Stable code.")
    message: str = strawberry.field(description="What went wrong, for a person.")


@strawberry.type(description="The job's own webhook, as submitted.")
class JobHook:
    url: str = strawberry.field(description="Where its events are POSTed.")
    events: list[JobHookEvent] = strawberry.field(description="The events sent.")


@strawberry.type(description="A generation or upscale and where it stands.")
class Job(relay.Node):
    job_id: relay.NodeID[str]
    kind: JobKind = strawberry.field(description="GENERATE or UPSCALE.")
    status: JobStatus = strawberry.field(description="Where the job is.")
    source: JobSource = strawberry.field(description="Which client submitted it.")
    model_id: str = strawberry.field(
        description="Catalog id of the model (or upscaler) it runs on."
    )
    prompt: str | None = strawberry.field(
        description="The prompt, whitespace collapsed; null for upscales."
    )
    negative_prompt: str | None = strawberry.field(
        description="What to avoid; null for upscales."
    )
    width: int | None = strawberry.field(
        description="Width of each image in pixels (of the input, for upscales)."
    )
    height: int | None = strawberry.field(
        description="Height of each image in pixels (of the input, for upscales)."
    )
    num_outputs: int = strawberry.field(description="Images it makes.")
    inference_steps: int | None = strawberry.field(
        description="Denoising steps asked for; null for upscales."
    )
    guidance_scale: float | None = strawberry.field(
        description="Prompt adherence; null for upscales."
    )
    scheduler_id: str | None = strawberry.field(
        description="Scheduler id; null for upscales."
    )
    seed: int | None = strawberry.field(
        description="Seed of the first image; image i has seed + i."
    )
    prompt_strength: float | None = strawberry.field(
        description="Image-to-image only: how far it moves from the init image."
    )
    preview_every: int | None = strawberry.field(
        description="Steps between previews in its updates; 0 for none."
    )
    init_image_id: relay.GlobalID | None = strawberry.field(
        description="The upload an image-to-image job starts from."
    )
    is_public: bool = strawberry.field(
        description="Whether its images go to the public gallery."
    )
    step: int = strawberry.field(description="Denoising steps done so far.")
    total_steps: int = strawberry.field(description="Denoising steps the job runs.")
    progress: float = strawberry.field(description="0 to 1.")
    cost: int = strawberry.field(description="Credits charged at submission.")
    refunded: int = strawberry.field(
        description="Credits given back (failure, cancel)."
    )
    error: JobError | None = strawberry.field(
        description="Why it failed; null unless FAILED."
    )
    webhook: JobHook | None = strawberry.field(
        description="Its own webhook, given at submission; null without one."
    )
    created_at: datetime = strawberry.field(description="When it was submitted.")
    started_at: datetime | None = strawberry.field(
        description="When a worker started it."
    )
    finished_at: datetime | None = strawberry.field(
        description="When it reached its final state."
    )
    row_id: strawberry.Private[uuid.UUID]
    # The place a submission announced, so the payload need not look it up again.
    known_place: strawberry.Private[QueuePlace | None] = None

    @classmethod
    def from_row(cls, row: models.Job, place: QueuePlace | None = None) -> "Job":
        """The GraphQL view of a job row; lazy fields load when selected."""
        params = row.params
        init = params.get("init_image_id")
        succeeded = row.status is CoreJobStatus.SUCCEEDED
        return cls(
            job_id=str(row.id),
            kind=row.kind,
            status=row.status,
            source=row.source,
            model_id=row.model_id,
            prompt=params.get("prompt"),
            negative_prompt=params.get("negative_prompt"),
            width=params.get("width"),
            height=params.get("height"),
            num_outputs=int(params.get("num_outputs", 1)),
            inference_steps=params.get("inference_steps"),
            guidance_scale=params.get("guidance_scale"),
            scheduler_id=params.get("scheduler_id"),
            seed=params.get("seed"),
            prompt_strength=params.get("prompt_strength"),
            preview_every=params.get("preview_every"),
            init_image_id=None if init is None else global_id("UploadedImage", init),
            is_public=bool(params.get("is_public")),
            step=row.step,
            total_steps=row.total_steps,
            progress=1.0
            if succeeded
            else (row.step / row.total_steps if row.total_steps else 0.0),
            cost=row.cost,
            refunded=row.refunded,
            error=None
            if row.error_code is None
            else JobError(code=row.error_code, message=row.error_message or ""),
            webhook=None
            if row.webhook_url is None
            else JobHook(
                url=row.webhook_url, events=parse_hook_events(row.webhook_events)
            ),
            created_at=row.created_at,
            started_at=row.started_at,
            finished_at=row.finished_at,
            row_id=row.id,
            known_place=place,
        )

    async def _place(self, info: Info[Context, Any]) -> QueuePlace | None:
        if self.status is not CoreJobStatus.QUEUED:
            return None
        if self.known_place is not None:
            return self.known_place
        return await info.context.loaders.queue_place_by_job_id.load(self.row_id)

    @strawberry.field(
        description="1-based place in the queue while QUEUED; null otherwise."
    )
    async def queue_position(self, info: Info[Context, Any]) -> int | None:
        """Looked up for the whole page at once, only when selected."""
        place = await self._place(info)
        return None if place is None else place.position

    @strawberry.field(
        description="Rough seconds until it starts while QUEUED; null when unknown."
    )
    async def eta_seconds(self, info: Info[Context, Any]) -> float | None:
        """From the same lookup as queuePosition."""
        place = await self._place(info)
        return None if place is None else place.eta_seconds

    @strawberry.field(description="Images stored so far, in index order.")
    async def outputs(self, info: Info[Context, Any]) -> list[Output]:
        """Loaded for the whole page at once, only when selected."""
        rows = await info.context.loaders.outputs_by_job_id.load(self.row_id)
        return [Output.from_row(row) for row in rows]


@strawberry.type(description="One live change to a job.")
class JobUpdate:
    job_id: relay.GlobalID = strawberry.field(description="Global id of the job.")
    type: JobUpdateType = strawberry.field(
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
    output: Output | None = strawberry.field(
        description="The image just stored (OUTPUT)."
    )
    error: JobError | None = strawberry.field(description="Why it failed (FAILED).")
    charged: int | None = strawberry.field(description="Credits charged.")
    refunded: int | None = strawberry.field(
        description="Credits refunded (terminal events)."
    )

    @classmethod
    def from_event(cls, event: JobEvent) -> "JobUpdate":
        """The update an event becomes; an OUTPUT event carries its output's row."""
        output = None
        if event.output is not None:
            output = Output.from_row(models.Output.model_validate(event.output))
        preview = None
        if event.preview_png:
            encoded = base64.b64encode(event.preview_png).decode()
            preview = "data:image/png;base64," + encoded
        error = None
        if event.error_code:
            error = JobError(code=event.error_code, message=event.error_message or "")
        return cls(
            job_id=global_id("Job", event.job_id),
            type=event.type,
            status=event.status,
            at=event.at,
            queue_position=event.queue_position,
            eta_seconds=event.eta_seconds,
            step=event.step,
            total_steps=event.total_steps,
            percent=event.percent,
            preview=preview,
            output=output,
            error=error,
            charged=event.charged,
            refunded=event.refunded,
        )


@strawberry.type(description="An uploaded input image.")
class UploadedImage(relay.Node):
    upload_id: relay.NodeID[str]
    format: str = strawberry.field(
        description="PNG, JPEG or WEBP, from the decoded content."
    )
    width: int = strawberry.field(description="Width in pixels.")
    height: int = strawberry.field(description="Height in pixels.")
    size_bytes: int = strawberry.field(description="File size.")
    created_at: datetime = strawberry.field(description="When it was uploaded.")

    @classmethod
    def from_row(cls, row: models.Upload) -> "UploadedImage":
        """The GraphQL view of an upload row."""
        return cls(
            upload_id=str(row.id),
            format=row.format,
            width=row.width,
            height=row.height,
            size_bytes=row.size_bytes,
            created_at=row.created_at,
        )
