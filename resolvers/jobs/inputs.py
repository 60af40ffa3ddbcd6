"""What job mutations and queries take: generation and upscale requests, filters.

A field with a default is nullable with that default, so generated clients do not
make it required; null means the default too. The names are the request's own,
from this input through the engine to the stored job and the PNG metadata.
"""

import strawberry
from strawberry import relay

from engine.requests import DEFAULT_NUM_OUTPUTS
from schema.enums import JobHookEvent, JobKind, JobStatus


@strawberry.input(
    description="A job's own webhook: its events are POSTed there, signed with webhookSigningSecret."
)
class JobHookInput:
    url: str = strawberry.field(
        description=(
            "https URL, at most 2000 characters, without credentials; its host must "
            "resolve to public addresses only (checked at submission and at every send)."
        )
    )
    events: list[JobHookEvent] | None = strawberry.field(
        default=None,
        description="The events to send; default STARTED, OUTPUT and COMPLETED. Not empty.",
    )


@strawberry.input(description="A text-to-image or image-to-image request.")
class GenerationCreateInput:
    prompt: str = strawberry.field(
        description="What to draw: 1 to 500 characters after whitespace is collapsed. Never cut."
    )
    model_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="The model: its `id` or `modelId` from `models`; default the default model.",
    )
    negative_prompt: str | None = strawberry.field(
        default="", description="What to avoid; at most 500 characters."
    )
    width: int | None = strawberry.field(
        default=None,
        description="Width in pixels: a multiple of the model's size multiple (8) within its bounds; default the model's.",
    )
    height: int | None = strawberry.field(
        default=None, description="Height in pixels, same rules as width."
    )
    num_outputs: int | None = strawberry.field(
        default=DEFAULT_NUM_OUTPUTS,
        description="Images to make, 1 to 4; each costs 1 credit.",
    )
    inference_steps: int | None = strawberry.field(
        default=None,
        description="Denoising steps within the model's range; default the model's.",
    )
    guidance_scale: float | None = strawberry.field(
        default=None,
        description="Prompt adherence, 1 to 20; default the model's (7.0).",
    )
    scheduler_id: str | None = strawberry.field(
        default=None,
        description="Scheduler id among the model's schedulers; default the model's. An incompatible one is refused, never swapped.",
    )
    seed: int | None = strawberry.field(
        default=None,
        description="0 to 2147483646; image i uses seed + i. Default: random, reported per output.",
    )
    init_image_id: relay.GlobalID | None = strawberry.field(
        default=None,
        description="An uploaded image's id (imageUpload): makes this image-to-image.",
    )
    prompt_strength: float | None = strawberry.field(
        default=None,
        description="Image-to-image only: how far to move from the init image, in (0, 1]; default 0.5.",
    )
    preview_every: int | None = strawberry.field(
        default=0,
        description="0: no previews; N: a low-resolution preview in the updates every N steps (and on the last).",
    )
    is_public: bool | None = strawberry.field(
        default=None,
        description="Show in the public gallery. Free-tier images are always public; paid default private.",
    )
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Up to 100 characters: a repeat with the same key and input returns the first job, charged once.",
    )
    webhook: JobHookInput | None = strawberry.field(
        default=None,
        description="POST this job's events to a URL of yours, as well as to your webhook endpoints; default none.",
    )


@strawberry.input(description="A 4x upscale of an upload or of one's own output.")
class UpscaleCreateInput:
    image_id: relay.GlobalID | None = strawberry.field(
        default=None,
        description="An uploaded image's id (imageUpload), at most 1,048,576 pixels.",
    )
    output_id: relay.GlobalID | None = strawberry.field(
        default=None,
        description="One of your outputs; one already upscaled is returned again at no cost.",
    )
    model_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="The upscaler: its `modelId` from `upscaleModels`; default the default one.",
    )
    idempotency_key: str | None = strawberry.field(
        default=None, description="As for generationCreate."
    )
    webhook: JobHookInput | None = strawberry.field(
        default=None,
        description="As for generationCreate: POST this job's events to a URL of yours, as well as to your webhook endpoints; default none.",
    )


@strawberry.input(description="Which jobs to list; every given field must hold.")
class JobWhere:
    status: list[JobStatus] | None = strawberry.field(
        default=None, description="Only jobs in one of these states; [] matches none."
    )
    kind: list[JobKind] | None = strawberry.field(
        default=None, description="Only jobs of these kinds; [] matches none."
    )
