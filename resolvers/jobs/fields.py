"""Root fields of the jobs domain, merged into the schema's roots by api/schema.py."""

from collections.abc import AsyncGenerator

import strawberry

from resolvers.jobs import resolvers as jobs
from resolvers.jobs import subscriptions
from resolvers.jobs.payloads import (
    GenerationCreatePayload,
    ImageUploadPayload,
    JobCancelPayload,
    UpscaleCreatePayload,
)
from resolvers.jobs.types import Job, JobUpdate
from resolvers.permissions import (
    CanGenerate,
    CanRead,
    needs,
)
from schema.paging import Connection


@strawberry.type(name="JobsQuery")
class Query:
    job: Job = strawberry.field(
        resolver=jobs.resolve_job,
        description="One of your jobs by id; another account's id is NOT_FOUND. Needs READ.",
        permission_classes=needs(CanRead),
    )
    jobs: Connection[Job] = strawberry.field(
        resolver=jobs.resolve_jobs,
        description="Your jobs, newest first; `first` 1 to 100 (default 50). Needs READ.",
        permission_classes=needs(CanRead),
    )


@strawberry.type(name="JobsMutation")
class Mutation:
    generation_create: GenerationCreatePayload = strawberry.mutation(
        resolver=jobs.resolve_generation_create,
        description=(
            "Queue a generation; returns the job at once, charged 1 credit per image. "
            "`wait` (0 to 60 seconds) returns it finished if it finishes in time. Needs GENERATE."
        ),
        permission_classes=needs(CanGenerate),
    )
    upscale_create: UpscaleCreatePayload = strawberry.mutation(
        resolver=jobs.resolve_upscale_create,
        description="Queue a 4x upscale (1 credit; an output already upscaled is free). Needs GENERATE.",
        permission_classes=needs(CanGenerate),
    )
    job_cancel: JobCancelPayload = strawberry.mutation(
        resolver=jobs.resolve_job_cancel,
        description="Cancel your job: queued ones are refunded fully, running ones for images not delivered. Needs GENERATE.",
        permission_classes=needs(CanGenerate),
    )
    image_upload: ImageUploadPayload = strawberry.mutation(
        resolver=jobs.resolve_image_upload,
        description="Upload an input image (GraphQL multipart request): PNG, JPEG or WebP, at most 10 MB. Needs GENERATE.",
        permission_classes=needs(CanGenerate),
    )


@strawberry.type(name="JobsSubscription")
class Subscription:
    job_updates: AsyncGenerator[JobUpdate, None] = strawberry.subscription(
        resolver=subscriptions.resolve_job_updates,
        description="Follow one of your jobs: its current state first, then every change until it ends. Needs GENERATE.",
        permission_classes=needs(CanGenerate),
    )
    my_job_updates: AsyncGenerator[JobUpdate, None] = strawberry.subscription(
        resolver=subscriptions.resolve_my_job_updates,
        description="Follow every job of yours as it changes. Needs GENERATE.",
        permission_classes=needs(CanGenerate),
    )
