"""The caller's usage: every job with what it cost and what came back, and totals."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from core.enums import JobKind, JobSource
from core.errors import ErrorCode, ServiceError, ValidationFailed
from core.history.filters import MAX_LIST_ITEMS, DateTimeFilter
from core.history.paging import (
    Direction,
    Page,
    SortKey,
    check_window,
    fetch_page,
)
from core.models import ApiToken, Job

UsageKind = JobKind

JOBS: sa.Table = Job.__table__  # type: ignore[attr-defined]  # set by SQLModel
TOKENS: sa.Table = ApiToken.__table__  # type: ignore[attr-defined]  # set by SQLModel

# Newest first; the id orders jobs created in the same microsecond, so a page
# boundary between them neither skips nor repeats one.
_KEYS = (
    SortKey("created_at", JOBS.c.created_at, Direction.DESC, datetime),
    SortKey("id", JOBS.c.id, Direction.DESC, uuid.UUID),
)


@dataclass
class UsageWhere:
    """Which jobs to include; an empty list matches none."""

    kind: list[JobKind] | None = None
    source: list[JobSource] | None = None
    token_id: uuid.UUID | None = None
    created_at: DateTimeFilter | None = None


@dataclass
class UsageEntry:
    """One job with the token that submitted it and its credits."""

    job: Job
    token_preview: str | None
    charged: int
    refunded: int
    net: int


@dataclass
class UsageTotals:
    """Jobs and credits for one source and kind."""

    source: JobSource
    kind: JobKind
    jobs: int
    charged: int
    refunded: int
    net: int


def _time_range(
    column: sa.ColumnElement[Any], spec: DateTimeFilter, path: str
) -> tuple[list[sa.ColumnElement[bool]], list[ServiceError]]:
    parts: list[sa.ColumnElement[bool]] = []
    problems: list[ServiceError] = []
    for op, compare in (
        ("gt", column.__gt__),
        ("gte", column.__ge__),
        ("lt", column.__lt__),
        ("lte", column.__le__),
    ):
        value = getattr(spec, op)
        if value is None:
            continue
        if not isinstance(value, datetime) or value.tzinfo is None:
            problems.append(
                ServiceError(
                    ErrorCode.BAD_USER_INPUT,
                    f"{path}.{op}: must be a timezone-aware timestamp",
                    f"{path}.{op}",
                )
            )
            continue
        parts.append(compare(value))
    return parts, problems


def _usage_filter(where: UsageWhere | None) -> list[sa.ColumnElement[bool]]:
    if where is None:
        return []
    parts: list[sa.ColumnElement[bool]] = []
    problems: list[ServiceError] = []
    for name, column in (("kind", JOBS.c.kind), ("source", JOBS.c.source)):
        values: list[Any] | None = getattr(where, name)
        if values is None:
            continue
        if len(values) > MAX_LIST_ITEMS:
            problems.append(
                ServiceError(
                    ErrorCode.BAD_USER_INPUT,
                    f"where.{name}: at most {MAX_LIST_ITEMS} values; got {len(values)}",
                    f"where.{name}",
                )
            )
            continue
        parts.append(column.in_(values))
    if where.token_id is not None:
        parts.append(JOBS.c.token_id == where.token_id)
    if where.created_at is not None:
        found, bad = _time_range(
            JOBS.c.created_at, where.created_at, "where.created_at"
        )
        parts += found
        problems += bad
    if problems:
        raise ValidationFailed(problems)
    return parts


def _entry(row: sa.Row[Job, str | None]) -> UsageEntry:
    job = row[0]
    return UsageEntry(
        job=job,
        token_preview=row[1],
        charged=job.cost,
        refunded=job.refunded,
        net=job.cost - job.refunded,
    )


async def list_usage(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    where: UsageWhere | None = None,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
    with_total: bool = False,
) -> Page[UsageEntry]:
    """Page through the caller's jobs, newest first, failed and cancelled included.

    `first` or `last` is 1 to 100 (first 50 when both are omitted); `total_count`
    only when `with_total`.
    """
    window = check_window(first=first, after=after, last=last, before=before)
    stmt = (
        sa.select(Job, TOKENS.c.preview)
        .select_from(JOBS.outerjoin(TOKENS, JOBS.c.token_id == TOKENS.c.id))
        .where(JOBS.c.user_id == user_id, *_usage_filter(where))
    )
    return await fetch_page(
        session,
        stmt,
        keys=_KEYS,
        scope="usage",
        window=window,
        with_total=with_total,
        convert=_entry,
        values_of=lambda entry: [entry.job.created_at, entry.job.id],
    )


# count, charged, refunded of a group of jobs: what both summaries add up.
_CREDIT_SUMS = (
    sa.func.count(),
    sa.func.coalesce(sa.func.sum(JOBS.c.cost), 0),
    sa.func.coalesce(sa.func.sum(JOBS.c.refunded), 0),
)


def _credit_figures(jobs: int, charged: int, refunded: int) -> dict[str, int]:
    """A group's jobs and credits, net as the usage list counts it."""
    charged, refunded = int(charged), int(refunded)
    return {
        "jobs": int(jobs),
        "charged": charged,
        "refunded": refunded,
        "net": charged - refunded,
    }


async def usage_summary(
    session: AsyncSession, *, user_id: uuid.UUID, since: datetime | None = None
) -> list[UsageTotals]:
    """Jobs and credits per source and kind, from `since` (inclusive) or ever."""
    conditions = [JOBS.c.user_id == user_id]
    if since is not None:
        if since.tzinfo is None:
            raise ServiceError(
                ErrorCode.BAD_USER_INPUT,
                "since must be a timezone-aware timestamp",
                "since",
            )
        conditions.append(JOBS.c.created_at >= since)
    stmt = (
        sa.select(JOBS.c.source, JOBS.c.kind, *_CREDIT_SUMS)
        .where(*conditions)
        .group_by(JOBS.c.source, JOBS.c.kind)
        .order_by(JOBS.c.source, JOBS.c.kind)
    )
    rows: Sequence[sa.Row[str, str, int, int, int]] = (
        await session.execute(stmt)
    ).all()
    return [
        UsageTotals(
            source=JobSource(source),
            kind=JobKind(kind),
            **_credit_figures(jobs, charged, refunded),
        )
        for source, kind, jobs, charged, refunded in rows
    ]


MAX_DAILY_DAYS = 366


@dataclass
class UsageDay:
    """Jobs and credits of one UTC day (by submission) and one source."""

    day: date
    source: JobSource
    jobs: int
    charged: int
    refunded: int
    net: int


def _utc_day(column: sa.ColumnElement[Any], dialect: str) -> sa.ColumnElement[Any]:
    if dialect == "postgresql":
        return sa.cast(sa.func.timezone("UTC", column), sa.Date)
    # SQLite keeps UTC text ("YYYY-MM-DD HH:MM:SS..."); date() takes its day.
    return sa.func.date(column)


async def usage_daily(
    session: AsyncSession, *, user_id: uuid.UUID, days: int, today: date
) -> list[UsageDay]:
    """Credits per UTC day and source over the `days` days ending `today`, oldest
    first; days and sources without jobs are left out.

    A job counts on the day it was submitted, charged minus refunded, as the usage
    list shows it.
    """
    if not 1 <= days <= MAX_DAILY_DAYS:
        raise ServiceError(
            ErrorCode.BAD_USER_INPUT,
            f"days must be 1 to {MAX_DAILY_DAYS}; got {days}",
            "days",
        )
    end = datetime.combine(today + timedelta(days=1), time(), tzinfo=UTC)
    start = end - timedelta(days=days)
    day = _utc_day(JOBS.c.created_at, session.get_bind().dialect.name).label("day")
    stmt = (
        sa.select(day, JOBS.c.source, *_CREDIT_SUMS)
        .where(
            JOBS.c.user_id == user_id,
            JOBS.c.created_at >= start,
            JOBS.c.created_at < end,
        )
        .group_by(day, JOBS.c.source)
        .order_by(day, JOBS.c.source)
    )
    rows: Sequence[sa.Row[Any, str, int, int, int]] = (
        await session.execute(stmt)
    ).all()
    return [
        UsageDay(
            day=value if isinstance(value, date) else date.fromisoformat(value),
            source=JobSource(source),
            **_credit_figures(jobs, charged, refunded),
        )
        for value, source, jobs, charged, refunded in rows
    ]
