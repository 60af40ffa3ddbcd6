"""GraphQL enums, each wrapping the core enum it mirrors, every value described."""

from typing import Any

import strawberry

from core import enums


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
        "APPROVED": "Shown in the public gallery (when public).",
        "REJECTED": "Not shown in the gallery.",
    },
)
