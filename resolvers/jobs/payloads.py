"""What job mutations return: the object, or userErrors saying why not."""

import strawberry

from resolvers.jobs.types import Job, UploadedImage
from schema.errors import UserError


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
        description="True when an earlier job was returned at no cost: the same idempotency key, or an output upscaled before."
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


@strawberry.type(description="Result of imageUpload.")
class ImageUploadPayload:
    upload: UploadedImage | None = strawberry.field(description="The stored image.")
    user_errors: list[UserError] = strawberry.field(description="Why it was refused.")
