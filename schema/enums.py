"""GraphQL enums, each wrapping the core enum it mirrors, every value described."""

from enum import Enum
from typing import Any

import strawberry

from core import enums, errors, gallery
from core.history import filters, paging, queries


def described(enum: Any, descriptions: dict[str, str]) -> Any:
    """Give each value of a wrapped core enum its description (core cannot)."""
    for value in enum.__strawberry_definition__.values:
        value.description = descriptions[value.name]
    return enum


Tier = described(
    strawberry.enum(
        enums.Tier,
        description="Account plan: decides how many jobs run at once and the queue lane.",
    ),
    {
        "FREE": "1 job at a time by default; free lane; 50 credits, topped up by 10 every 12 hours.",
        "STARTER": "2 jobs at a time by default; paid lane, served before free jobs.",
        "PRO": "3 jobs at a time by default; paid lane.",
        "ULTIMATE": "4 jobs at a time by default; paid lane.",
    },
)
Scope = described(
    strawberry.enum(enums.Scope, description="What a token may do."),
    {
        "GENERATE": "Create, cancel and watch jobs; upload input images.",
        "READ": "Read outputs, jobs, usage, credits; favorite outputs.",
        "MANAGE": "Create and revoke tokens, delete outputs, change visibility and gallery status.",
        "METRICS": "Read /metrics (Prometheus). Never a default; only a token holding it can grant it.",
        "ADMIN": "Moderate the public gallery. Never a default; only a token holding it can grant it.",
    },
)
CreditType = described(
    strawberry.enum(
        enums.CreditType, description="Where a ledger row's credits came from."
    ),
    {
        "FREE": "Free-tier credits: at sign-up and the periodic top-ups.",
        "PURCHASE": "Bought credits.",
        "GRANT": "Given by an operator.",
        "REFUND": "Returned for a failed or cancelled job; spent first.",
    },
)
JobKind = described(
    strawberry.enum(enums.JobKind, description="What a job does."),
    {
        "GENERATE": "Text-to-image or image-to-image; 1 credit per image.",
        "UPSCALE": "A 4x upscale; 1 credit.",
    },
)
JobStatus = described(
    strawberry.enum(
        enums.JobStatus,
        description="Where a job is: QUEUED, RUNNING, then one of SUCCEEDED, FAILED, CANCELLED.",
    ),
    {
        "QUEUED": "Accepted and charged; waiting for a slot or a worker.",
        "RUNNING": "A worker is on it; progress events flow.",
        "SUCCEEDED": "Every image is stored.",
        "FAILED": "Stopped by an error, a timeout or expiry; refunded in full.",
        "CANCELLED": "Stopped on request; images not delivered are refunded.",
    },
)
JobSource = described(
    strawberry.enum(enums.JobSource, description="Which client submitted a job."),
    {
        "API": "Any API client (the default).",
        "WEB": "The web app (it sends X-Darkroom-Source: WEB).",
        "CLI": "The darkroom CLI and client (X-Darkroom-Source: CLI).",
    },
)
GalleryStatus = described(
    strawberry.enum(
        enums.GalleryStatus, description="An output's standing in the public gallery."
    ),
    {
        "NOT_SUBMITTED": "Not offered to the gallery.",
        "SUBMITTED": "Offered; waiting for a moderator.",
        "WAITING_FOR_APPROVAL": "Under review.",
        "APPROVED": "Shown in the public gallery (while public and not deleted).",
        "REJECTED": "Not shown in the gallery.",
    },
)
ErrorCode = described(
    strawberry.enum(
        errors.ErrorCode,
        description=(
            "Why a request or one of its inputs was refused: in userErrors { code } and "
            "in errors[].extensions.code. Stable: values are added, never renamed."
        ),
    ),
    {
        "UNAUTHENTICATED": "No valid token: missing, malformed, unknown or revoked.",
        "FORBIDDEN": "The token lacks the scope this needs, or the rule forbids it.",
        "NOT_FOUND": "No such object of yours (another account's ids are not found either).",
        "BAD_USER_INPUT": "A value that breaks a rule of the schema or of its field.",
        "REQUIRED": "A value that must be given (or must not be empty) is missing.",
        "TOO_LONG": "A text over its length limit; never cut.",
        "OUT_OF_RANGE": "A number outside its allowed range; never clamped.",
        "ALREADY_EXISTS": "Something with this identity exists already.",
        "TOO_MANY_TOKENS": "The account has as many active tokens as it may.",
        "TOO_MANY_WEBHOOK_ENDPOINTS": "The account has as many webhook endpoints as it may.",
        "URL_NOT_ALLOWED": "A webhook URL that is not https, carries credentials, or names a loopback, private, link-local or metadata address.",
        "NOT_PUBLIC": "A gallery review would approve an output that is private or deleted.",
        "NOT_SUBMITTED": "A gallery review names an output its owner never submitted.",
        "INSUFFICIENT_CREDITS": "The balance does not cover the cost; nothing was charged.",
        "INVALID_SIZE": "Width or height is not a multiple of 8 within the model's bounds.",
        "UNKNOWN_MODEL": "No model or upscaler with this id in the catalog.",
        "UNKNOWN_SCHEDULER": "A scheduler the model does not accept; never swapped.",
        "PROMPT_TOO_LONG": "A prompt over 500 characters; never cut.",
        "INVALID_IMAGE": "An image that is empty, corrupt, truncated or not PNG, JPEG or WebP.",
        "IMAGE_TOO_LARGE": "An image over 10 MB or its pixel limit.",
        "QUEUE_LIMIT_REACHED": "Too many of the account's jobs wait for a free slot already.",
        "IDEMPOTENCY_CONFLICT": "The idempotency key was used before with different input.",
        "JOB_FINISHED": "The job has finished already, so it cannot change.",
        "QUERY_TOO_COMPLEX": "The operation is over the cost, depth, alias or size limits.",
        "RATE_LIMITED": "The caller's points or job-creation budget is spent; retry later.",
        "BAD_REQUEST": "The HTTP request itself is malformed (not a GraphQL request).",
        "PAYLOAD_TOO_LARGE": "The request body is over its size limit.",
        "METHOD_NOT_ALLOWED": "An HTTP method /graphql does not serve.",
        "OPERATION_NOT_ALLOWED": "An operation type this transport does not carry.",
        "TOO_MANY_SUBSCRIPTIONS": "One connection runs as many operations as it may.",
        "UNAVAILABLE": "A dependency is away for a moment; nothing changed, try again.",
        "INTERNAL": "An unexpected server error; it was logged. Retrying may help.",
    },
)
JobErrorCode = described(
    strawberry.enum(
        errors.JobErrorCode,
        description="Why a job failed (it was refunded). Stable: values are added, never renamed.",
    ),
    {
        "ENGINE_ERROR": "The model failed on the worker, or could not be loaded.",
        "INVALID_REQUEST": "The request no longer fits the catalog (its model was removed).",
        "STORAGE_ERROR": "An input could not be read or an output could not be stored.",
        "TIMEOUT": "The job ran longer than the job time limit.",
        "EXPIRED": "The job waited in the queue longer than the queue time limit.",
    },
)
JobUpdateType = described(
    strawberry.enum(
        enums.EventType, name="JobUpdateType", description="What happened to a job."
    ),
    {
        "QUEUED": "Accepted, or its place in the queue changed.",
        "STARTED": "A worker started it.",
        "PROGRESS": "A denoising step (or an upscale tile) finished.",
        "OUTPUT": "An image was stored.",
        "SUCCEEDED": "Every image is stored; the last update.",
        "FAILED": "It failed and was refunded; the last update.",
        "CANCELLED": "It was cancelled; the last update.",
    },
)


class _Family(Enum):
    # The engine's Family, which the schema may not import; a test keeps them equal.
    SD15 = "SD15"
    SD2 = "SD2"
    SDXL = "SDXL"


ModelFamily = described(
    strawberry.enum(
        _Family,
        name="ModelFamily",
        description="Architecture family of a generation model.",
    ),
    {
        "SD15": "Stable Diffusion 1.x.",
        "SD2": "Stable Diffusion 2.x.",
        "SDXL": "Stable Diffusion XL.",
    },
)
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
WebhookEvent = described(
    strawberry.enum(
        enums.WebhookEvent,
        description=(
            "A job event webhooks announce; the payload's `type` is the value in "
            'lower case with a dot, e.g. "job.succeeded".'
        ),
    ),
    {
        "JOB_STARTED": "job.started: a worker started the job. Sent once, not retried.",
        "JOB_OUTPUT": "job.output: one image was stored. Sent once, not retried.",
        "JOB_SUCCEEDED": "job.succeeded: every image is stored; carries them all. Retried until delivered.",
        "JOB_FAILED": "job.failed: the job failed and was refunded. Retried until delivered.",
        "JOB_CANCELLED": "job.cancelled: the job was cancelled. Retried until delivered.",
        "JOB_PROGRESS": "job.progress: a step was denoised; only a job's own webhook gets it, at most one progress or output per 500 ms. Sent once.",
    },
)
JobHookEvent = described(
    strawberry.enum(
        enums.JobHookEvent,
        description="What a job's own webhook (given at submission) is sent.",
    ),
    {
        "STARTED": "job.started: a worker started the job. Sent once.",
        "PROGRESS": "job.progress: a step was done. With OUTPUT, at most one per 500 ms per job; the rest are dropped. Sent once.",
        "OUTPUT": "job.output: one image was stored. With PROGRESS, at most one per 500 ms per job. Sent once.",
        "COMPLETED": "The end: job.succeeded (with every output), job.failed or job.cancelled. Never dropped; retried until delivered.",
    },
)
WebhookDeliveryStatus = described(
    strawberry.enum(
        enums.WebhookDeliveryStatus, description="Where one webhook delivery is."
    ),
    {
        "PENDING": "Not delivered yet: its first attempt or a retry is due.",
        "DELIVERED": "The endpoint answered 2xx.",
        "FAILED": "Given up: its attempts are spent, its address was refused, or its endpoint was deleted.",
    },
)
GalleryReviewDecision = described(
    strawberry.enum(
        gallery.ReviewDecision,
        name="GalleryReviewDecision",
        description="A moderator's decision on gallery submissions.",
    ),
    {
        "APPROVE": "Show it in the public gallery; it must be public and not deleted.",
        "REJECT": "Keep it out of the gallery (and take it down if it was shown).",
    },
)
