"""GraphQL types for usage: the caller's jobs with their credits, and totals."""

import dataclasses
import uuid
from datetime import date, datetime
from typing import Any

import strawberry
from strawberry import relay
from strawberry.types import Info

from core import usage
from resolvers.context import Context
from resolvers.jobs.types import Job
from schema.enums import JobKind, JobSource, JobStatus
from schema.filters import DateTimeFilter
from schema.ids import global_id


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
    job_id: relay.GlobalID = strawberry.field(description="The job's id.")
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
    job_row_id: strawberry.Private[uuid.UUID]

    @classmethod
    def from_entry(cls, entry: usage.UsageEntry) -> "UsageEntry":
        """The GraphQL view of one usage row."""
        job = entry.job
        return cls(
            kind=job.kind,
            job_id=global_id("Job", job.id),
            status=job.status,
            source=job.source,
            token_id=None
            if job.token_id is None
            else global_id("ApiToken", job.token_id),
            token_preview=entry.token_preview,
            charged=entry.charged,
            refunded=entry.refunded,
            net=entry.net,
            created_at=job.created_at,
            finished_at=job.finished_at,
            job_row_id=job.id,
        )

    @strawberry.field(description="The job itself.")
    async def job(self, info: Info[Context, Any]) -> Job:
        """Loaded for the whole page at once, only when selected."""
        row = await info.context.loaders.job_by_id.load(self.job_row_id)
        assert row is not None, "a usage row is one of the caller's jobs"
        return Job.from_row(row)


@strawberry.type(description="Jobs and credits for one source and kind.")
class UsageSummary:
    source: JobSource = strawberry.field(description="Which client submitted them.")
    kind: JobKind = strawberry.field(description="GENERATE or UPSCALE.")
    jobs: int = strawberry.field(description="How many jobs.")
    charged: int = strawberry.field(description="Credits charged.")
    refunded: int = strawberry.field(description="Credits given back.")
    net: int = strawberry.field(description="Charged minus refunded.")

    @classmethod
    def from_totals(cls, totals: usage.UsageTotals) -> "UsageSummary":
        """The GraphQL view of one source-and-kind total."""
        return cls(**dataclasses.asdict(totals))


@strawberry.type(description="Your jobs of one UTC day and one source.")
class UsageDay:
    day: date = strawberry.field(description="The UTC day the jobs were submitted.")
    source: JobSource = strawberry.field(description="Which client submitted them.")
    jobs: int = strawberry.field(description="How many jobs.")
    charged: int = strawberry.field(description="Credits charged.")
    refunded: int = strawberry.field(description="Credits given back.")
    net: int = strawberry.field(description="Charged minus refunded: credits spent.")

    @classmethod
    def from_day(cls, day: usage.UsageDay) -> "UsageDay":
        """The GraphQL view of one day-and-source total."""
        return cls(**dataclasses.asdict(day))
