"""GraphQL types for usage: the caller's jobs with their credits, and totals."""

from datetime import datetime

import strawberry
from strawberry import relay

from schema.enums import JobKind, JobSource, JobStatus
from schema.history import DateTimeFilter


@strawberry.input(description="Which jobs to list; every given field must hold.")
class UsageWhere:
    kind: list[JobKind] | None = strawberry.field(
        default=None, description="Any of these kinds; [] matches none."
    )
    source: list[JobSource] | None = strawberry.field(
        default=None, description="Any of these sources; [] matches none."
    )
    token_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Only jobs submitted with this API token."
    )
    created_at: DateTimeFilter | None = strawberry.field(
        default=None, description="When the job was submitted."
    )


@strawberry.type(description="One job of yours and what it cost.")
class UsageEntry:
    kind: JobKind = strawberry.field(description="GENERATE or UPSCALE.")
    job_id: strawberry.ID = strawberry.field(description="The job's UUID.")
    status: JobStatus = strawberry.field(description="Where the job is now.")
    source: JobSource = strawberry.field(description="Which client submitted it.")
    token_id: relay.GlobalID | None = strawberry.field(
        description="The API token that submitted it; null when none did."
    )
    token_preview: str | None = strawberry.field(
        description="That token's preview, e.g. drk_...a1b2; null when none."
    )
    charged: int = strawberry.field(description="Credits charged at submission.")
    refunded: int = strawberry.field(
        description="Credits given back (failure, cancel)."
    )
    net: int = strawberry.field(description="Charged minus refunded.")
    created_at: datetime = strawberry.field(description="When it was submitted.")
    finished_at: datetime | None = strawberry.field(
        description="When it reached its final state; null while it runs."
    )


@strawberry.type(description="A page of your jobs with their credits, newest first.")
class UsageConnection(relay.Connection[UsageEntry]):
    count: strawberry.Private[int | None]

    @strawberry.field(
        description="How many jobs match `where` in all; counted only when asked for."
    )
    def total_count(self) -> int:
        """The count made because this field was selected."""
        assert self.count is not None, "counted whenever totalCount is selected"
        return self.count


@strawberry.type(description="Jobs and credits for one source and kind.")
class UsageSummary:
    source: JobSource = strawberry.field(description="Which client submitted them.")
    kind: JobKind = strawberry.field(description="GENERATE or UPSCALE.")
    jobs: int = strawberry.field(description="How many jobs.")
    charged: int = strawberry.field(description="Credits charged.")
    refunded: int = strawberry.field(description="Credits given back.")
    net: int = strawberry.field(description="Charged minus refunded.")
