"""Build the Schema: attach each domain's resolvers with descriptions and permissions."""

from collections.abc import AsyncGenerator

import strawberry
from strawberry import relay
from strawberry.extensions import MaxTokensLimiter

from api.caches import CachedParsing, CachedValidation
from api.cost import QueryCost
from api.errors import ErrorCodes, QuietSchema
from api.fanout import FanoutExecutor
from api.metrics import OperationTiming
from api.shape import ShapeLimits
from api.text_input import TextInputRules
from resolvers import nodes
from resolvers.accounts import resolvers as accounts
from resolvers.accounts.types import (
    ApiToken,
    ApiTokenCreatePayload,
    ApiTokenRevokePayload,
    Me,
    RateLimit,
)
from resolvers.catalog import resolvers as catalog
from resolvers.catalog.types import GenerationDefaults, Model, Scheduler, UpscaleModel
from resolvers.gallery import resolvers as gallery_views
from resolvers.gallery.payloads import GalleryReviewPayload
from resolvers.gallery.types import (
    GalleryImageConnection,
    GallerySubmission,
)
from resolvers.jobs import resolvers as jobs
from resolvers.jobs import subscriptions
from resolvers.jobs.payloads import (
    GenerationCreatePayload,
    ImageUploadPayload,
    JobCancelPayload,
    UpscaleCreatePayload,
)
from resolvers.jobs.types import Job, JobUpdate
from resolvers.outputs import mutations as output_mutations
from resolvers.outputs import resolvers as outputs
from resolvers.outputs.payloads import (
    OutputsDeletePayload,
    OutputsSubmitToGalleryPayload,
    OutputsUpdatePayload,
)
from resolvers.outputs.types import OutputConnection
from resolvers.permissions import (
    CanGenerate,
    CanManage,
    CanManageVisibility,
    CanRead,
    IsAdmin,
    IsAuthenticated,
    NodeCanRead,
    NodeIsAuthenticated,
    needs,
)
from resolvers.usage import resolvers as usage
from resolvers.usage.types import UsageEntry
from resolvers.webhooks import resolvers as webhooks
from resolvers.webhooks.types import (
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEndpointCreatePayload,
    WebhookEndpointDeletePayload,
    WebhookEndpointRotateSecretPayload,
    WebhookSigningSecretRotatePayload,
)
from schema.paging import Connection


@strawberry.type(description="Read the caller's account, tokens and catalog.")
class Query:
    me: Me = strawberry.field(
        resolver=accounts.resolve_me,
        description="The account behind the token in use, with its credits. Needs READ.",
        permission_classes=needs(CanRead),
    )
    api_tokens: list[ApiToken] = strawberry.field(
        resolver=accounts.resolve_api_tokens,
        description="The account's API tokens, active and revoked, newest first. Needs READ.",
        permission_classes=needs(CanRead),
    )
    # --- rate limit ---
    rate_limit: RateLimit | None = strawberry.field(
        resolver=accounts.resolve_rate_limit,
        description=(
            "Your points budget after this operation was charged: the token's, or "
            "your IP's when anonymous. Null when the server runs without limits. "
            "No token needed."
        ),
    )
    # --- history & catalog ---
    models: list[Model] = strawberry.field(
        resolver=catalog.resolve_models,
        description="Generation models on offer, in catalog order, with their limits. No token needed.",
    )
    schedulers: list[Scheduler] = strawberry.field(
        resolver=catalog.resolve_schedulers,
        description="Every scheduler; each model lists those it accepts. No token needed.",
    )
    upscale_models: list[UpscaleModel] = strawberry.field(
        resolver=catalog.resolve_upscale_models,
        description="Upscalers on offer, in catalog order. No token needed.",
    )
    defaults: GenerationDefaults = strawberry.field(
        resolver=catalog.resolve_defaults,
        description=(
            "The settings generationCreate uses for what it leaves out; an unknown "
            "modelId is NOT_FOUND. No token needed."
        ),
    )
    outputs: OutputConnection = strawberry.field(
        resolver=outputs.resolve_outputs,
        description=(
            "Your stored images, newest first unless orderBy says otherwise, public and "
            "private alike; deleted ones never appear. With search or similarTo, ranked "
            "by relevance instead, filters applied inside the search. Needs READ."
        ),
        permission_classes=needs(CanRead),
    )
    node: relay.Node = strawberry.field(
        resolver=nodes.resolve_node,
        description=(
            "Any of your objects by global id (Output, Job, ApiToken, Model); another "
            "account's id is NOT_FOUND. Needs READ, but for a GalleryImage, which "
            "anyone may look up (NOT_FOUND once it leaves the gallery)."
        ),
        permission_classes=[NodeIsAuthenticated, NodeCanRead],
    )
    usage: Connection[UsageEntry] = strawberry.field(
        resolver=usage.resolve_usage,
        description=(
            "Your jobs, newest first, with credits charged and refunded; failed and "
            "cancelled ones included. Needs READ."
        ),
        permission_classes=needs(CanRead),
    )
    # --- gallery ---
    gallery: GalleryImageConnection = strawberry.field(
        resolver=gallery_views.resolve_gallery,
        description=(
            "The public gallery: approved public images of every account, newest "
            "first; deleted or private ones never appear. No token needed."
        ),
    )
    gallery_review_queue: Connection[GallerySubmission] = strawberry.field(
        resolver=gallery_views.resolve_gallery_review_queue,
        description=(
            "Public submissions awaiting a moderator (SUBMITTED or "
            "WAITING_FOR_APPROVAL), oldest first; `first` 1 to 100 (default 50). "
            "Needs ADMIN."
        ),
        permission_classes=needs(IsAdmin),
    )
    # --- jobs ---
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
    # --- webhooks ---
    webhook_endpoints: list[WebhookEndpoint] = strawberry.field(
        resolver=webhooks.resolve_webhook_endpoints,
        description="Your webhook endpoints, newest first; never their secrets. Needs MANAGE.",
        permission_classes=needs(CanManage),
    )
    webhook_deliveries: Connection[WebhookDelivery] = strawberry.field(
        resolver=webhooks.resolve_webhook_deliveries,
        description=(
            "Your webhook deliveries, newest first, with status, attempts and the last "
            "response code; `first` 1 to 100 (default 50). Needs READ."
        ),
        permission_classes=needs(CanRead),
    )
    webhook_signing_secret: str = strawberry.field(
        resolver=webhooks.resolve_webhook_signing_secret,
        description=(
            "The secret (whsec_...) signing the webhooks jobs are submitted with "
            "(`webhook` on generationCreate and upscaleCreate), per Standard "
            "Webhooks; made on first use. Needs MANAGE."
        ),
        permission_classes=needs(CanManage),
    )


@strawberry.type(description="Change things; refusals come back as userErrors.")
class Mutation:
    api_token_create: ApiTokenCreatePayload = strawberry.mutation(
        resolver=accounts.resolve_api_token_create,
        description=(
            "Create an API token. The secret is in the payload this once. At most 10 "
            "active tokens per account. Needs MANAGE."
        ),
        permission_classes=needs(CanManage),
    )
    api_token_revoke: ApiTokenRevokePayload = strawberry.mutation(
        resolver=accounts.resolve_api_token_revoke,
        description=(
            "Revoke an API token: refused at once here, within a few seconds by every "
            "API process, and its open websockets close. Needs MANAGE."
        ),
        permission_classes=needs(CanManage),
    )
    # --- history & catalog ---
    outputs_update: OutputsUpdatePayload = strawberry.mutation(
        resolver=output_mutations.resolve_outputs_update,
        description=(
            "Favorite or unfavorite outputs (needs READ) and make them public or private "
            "(needs MANAGE). All ids change or none; an unknown or foreign id is NOT_FOUND."
        ),
        permission_classes=[IsAuthenticated, CanRead, CanManageVisibility],
    )
    outputs_submit_to_gallery: OutputsSubmitToGalleryPayload = strawberry.mutation(
        resolver=output_mutations.resolve_outputs_submit_to_gallery,
        description=(
            "Submit outputs to the public gallery, making them public. All or none. "
            "Needs MANAGE."
        ),
        permission_classes=needs(CanManage),
    )
    outputs_delete: OutputsDeletePayload = strawberry.mutation(
        resolver=output_mutations.resolve_outputs_delete,
        description=(
            "Delete outputs and their upscales (no refund); they vanish from every list. "
            "All or none. Needs MANAGE."
        ),
        permission_classes=needs(CanManage),
    )
    # --- gallery ---
    gallery_review: GalleryReviewPayload = strawberry.mutation(
        resolver=gallery_views.resolve_gallery_review,
        description=(
            "Approve or reject gallery submissions of any account. All ids or none; "
            "an unknown id is NOT_FOUND, a private or deleted output cannot be "
            "approved (NOT_PUBLIC). Needs ADMIN."
        ),
        permission_classes=needs(IsAdmin),
    )
    # --- jobs ---
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
    # --- webhooks ---
    webhook_endpoint_create: WebhookEndpointCreatePayload = strawberry.mutation(
        resolver=webhooks.resolve_webhook_endpoint_create,
        description=(
            "Register a URL for your jobs' events. The signing secret is in the payload "
            "this once. At most 10 endpoints per account by default. Needs MANAGE."
        ),
        permission_classes=needs(CanManage),
    )
    webhook_endpoint_delete: WebhookEndpointDeletePayload = strawberry.mutation(
        resolver=webhooks.resolve_webhook_endpoint_delete,
        description=(
            "Stop sending to an endpoint; its deliveries stay listed and pending ones "
            "fail. Needs MANAGE."
        ),
        permission_classes=needs(CanManage),
    )
    webhook_endpoint_rotate_secret: WebhookEndpointRotateSecretPayload = (
        strawberry.mutation(
            resolver=webhooks.resolve_webhook_endpoint_rotate_secret,
            description=(
                "Replace an endpoint's signing secret; the new one is in the payload "
                "this once and signs every attempt from now on, beside the old one "
                "for 24 hours so receivers can switch over. Needs MANAGE."
            ),
            permission_classes=needs(CanManage),
        )
    )
    webhook_signing_secret_rotate: WebhookSigningSecretRotatePayload = (
        strawberry.mutation(
            resolver=webhooks.resolve_webhook_signing_secret_rotate,
            description=(
                "Replace the per-job webhooks' signing secret; the new one signs every "
                "attempt from now on, beside the old one for 24 hours so receivers "
                "can switch over. Needs MANAGE."
            ),
            permission_classes=needs(CanManage),
        )
    )


@strawberry.type(description="Live streams over graphql-transport-ws (or graphql-ws).")
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


def build_schema(*, debug: bool = False) -> QuietSchema:
    """The schema with its protective extensions; `debug` unmasks unexpected errors."""
    return QuietSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        # Subscription events from compiled selections, not per-subscriber execution.
        execution_context_class=FanoutExecutor,
        # Factories, so each request gets fresh extension state.
        extensions=[
            OperationTiming,  # first: its time spans every other extension's work
            lambda: MaxTokensLimiter(max_token_count=2000),
            CachedParsing,
            # Depth, aliases and expanded size, before validation walks anything.
            ShapeLimits,
            QueryCost,  # prices and charges before execution; refusals get codes below
            lambda: ErrorCodes(debug=debug),
            # Its check runs before validation whatever its place here, so before
            # pricing and charging too.
            TextInputRules,
            CachedValidation,  # last: it validates only what the checks above let by
        ],
    )


schema = build_schema()
