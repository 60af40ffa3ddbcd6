"""GraphQL enums, each wrapping the core enum it mirrors."""

import strawberry

from core import enums

Tier = strawberry.enum(
    enums.Tier,
    description="Account plan: decides how many jobs run at once and the queue lane.",
)
Scope = strawberry.enum(
    enums.Scope,
    description=(
        "What a token may do. GENERATE: create, cancel and watch jobs, upload images. "
        "READ: read outputs, jobs, usage and credits. MANAGE: create and revoke tokens, "
        "delete outputs, change visibility."
    ),
)
CreditType = strawberry.enum(
    enums.CreditType, description="Where a ledger row's credits came from."
)
JobKind = strawberry.enum(enums.JobKind, description="What a job does.")
JobStatus = strawberry.enum(
    enums.JobStatus,
    description="Where a job is: QUEUED, RUNNING, then one of SUCCEEDED, FAILED, CANCELLED.",
)
JobSource = strawberry.enum(
    enums.JobSource, description="Which client submitted a job."
)
GalleryStatus = strawberry.enum(
    enums.GalleryStatus, description="An output's standing in the public gallery."
)
