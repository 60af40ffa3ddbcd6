"""Usage history: every job once, newest first, with credits charged and refunded."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.db import Database
from core.enums import JobKind, JobSource, JobStatus, Tier
from core.errors import ErrorCode, ServiceError
from core.history.filters import DateTimeFilter
from core.models import ApiToken, Job, User
from core.usage import (
    UsageDay,
    UsageTotals,
    UsageWhere,
    list_usage,
    usage_daily,
    usage_summary,
)

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


async def add_account(db: Database) -> tuple[uuid.UUID, uuid.UUID]:
    """A user and one of their API tokens."""
    async with db.session() as session:
        user = User(email=f"{uuid.uuid4().hex}@example.com", tier=Tier.PRO)
        session.add(user)
        await session.flush()
        token = ApiToken(
            user_id=user.id,
            name="ci",
            secret_hash=uuid.uuid4().hex,
            preview="drk...abcd",
            scopes="READ",
        )
        session.add(token)
        await session.flush()
        return user.id, token.id


def make_job(user_id: uuid.UUID, **fields: Any) -> Job:
    values: dict[str, Any] = {
        "user_id": user_id,
        "kind": JobKind.GENERATE,
        "source": JobSource.API,
        "status": JobStatus.SUCCEEDED,
        "model_id": "sd15",
        "cost": 2,
        "created_at": T0,
    }
    values.update(fields)
    return Job(**values)


async def add_jobs(db: Database, jobs: list[Job]) -> None:
    async with db.session() as session:
        session.add_all(jobs)


async def _reset(db: Database) -> None:
    async with db.session() as session:
        for table in (Job, ApiToken, User):
            await session.execute(sa.delete(table))


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
async def test_paging_through_usage_never_skips_or_repeats_a_job(
    db: Database, data: st.DataObject
) -> None:
    # given jobs of every status, many created at the same instant, some via a token
    await _reset(db)
    (alice, token), (bob, _) = await add_account(db), await add_account(db)
    count = data.draw(st.integers(0, 40), label="count")
    ids = data.draw(st.lists(st.uuids(), min_size=count, max_size=count, unique=True))
    jobs = [
        make_job(
            alice,
            id=job_id,
            kind=data.draw(st.sampled_from(JobKind)),
            source=data.draw(st.sampled_from(JobSource)),
            status=data.draw(st.sampled_from(JobStatus)),
            token_id=data.draw(st.sampled_from([None, token])),
            cost=(cost := data.draw(st.integers(0, 4))),
            refunded=data.draw(st.integers(0, cost)),
            created_at=T0 + timedelta(seconds=data.draw(st.integers(0, 3))),
        )
        for job_id in ids
    ]
    await add_jobs(db, [*jobs, make_job(bob)])
    kinds = data.draw(st.none() | st.lists(st.sampled_from(JobKind), max_size=2))
    where = UsageWhere(kind=kinds) if kinds is not None else None
    size = data.draw(st.integers(1, 15), label="size")
    wanted = [j for j in jobs if kinds is None or j.kind in kinds]
    expected = sorted(wanted, key=lambda j: (j.created_at, j.id), reverse=True)

    # when alice reads every page
    seen: list[Any] = []
    after = None
    while True:
        async with db.session() as session:
            page = await list_usage(
                session,
                user_id=alice,
                where=where,
                first=size,
                after=after,
                with_total=True,
            )
        seen += [entry for _, entry in page.items]
        assert page.total_count == len(expected)
        assert page.has_previous_page == (after is not None)
        if not page.has_next_page:
            break
        after = page.items[-1][0]

    # then each job appears once, in order, with its credits and token
    assert [e.job.id for e in seen] == [j.id for j in expected]
    by_id = {j.id: j for j in jobs}
    for entry in seen:
        job = by_id[entry.job.id]
        assert (entry.charged, entry.refunded, entry.net) == (
            job.cost,
            job.refunded,
            job.cost - job.refunded,
        )
        assert entry.token_preview == ("drk...abcd" if job.token_id else None)


async def test_usage_filters_by_source_token_and_time(db: Database) -> None:
    # given jobs from the web, from the API with a token, and an older one
    alice, token = await add_account(db)
    web = make_job(alice, source=JobSource.WEB, created_at=T0 + timedelta(hours=1))
    api = make_job(alice, token_id=token, created_at=T0 + timedelta(hours=2))
    old = make_job(alice, token_id=token, created_at=T0 - timedelta(days=3))
    await add_jobs(db, [web, api, old])
    async with db.session() as session:
        # when filtering by token and time, and by source
        recent = await list_usage(
            session,
            user_id=alice,
            where=UsageWhere(token_id=token, created_at=DateTimeFilter(gte=T0)),
        )
        webs = await list_usage(
            session, user_id=alice, where=UsageWhere(source=[JobSource.WEB])
        )
        nothing = await list_usage(session, user_id=alice, where=UsageWhere(kind=[]))
    # then each returns just its jobs
    assert [e.job.id for _, e in recent.items] == [api.id]
    assert [e.job.id for _, e in webs.items] == [web.id]
    assert nothing.items == []


async def test_the_summary_totals_charges_and_refunds_per_source_and_kind(
    db: Database,
) -> None:
    # given generations (one failed and refunded), an upscale, and an old job
    alice, _ = await add_account(db)
    await add_jobs(
        db,
        [
            make_job(alice, cost=4),
            make_job(alice, cost=2, refunded=2, status=JobStatus.FAILED),
            make_job(alice, kind=JobKind.UPSCALE, cost=1),
            make_job(alice, source=JobSource.CLI, cost=3, refunded=1),
            make_job(alice, cost=9, created_at=T0 - timedelta(days=30)),
        ],
    )
    # when she asks for totals since a week ago
    async with db.session() as session:
        totals = await usage_summary(
            session, user_id=alice, since=T0 - timedelta(days=7)
        )
        ever = await usage_summary(session, user_id=alice, since=None)
    # then each source and kind is summed, net of refunds
    assert totals == [
        UsageTotals(
            JobSource.API, JobKind.GENERATE, jobs=2, charged=6, refunded=2, net=4
        ),
        UsageTotals(
            JobSource.API, JobKind.UPSCALE, jobs=1, charged=1, refunded=0, net=1
        ),
        UsageTotals(
            JobSource.CLI, JobKind.GENERATE, jobs=1, charged=3, refunded=1, net=2
        ),
    ]
    assert ever[0].jobs == 3


async def test_bad_usage_arguments_are_refused(db: Database) -> None:
    # given a user
    alice, _ = await add_account(db)
    async with db.session() as session:
        # when the page size is out of range, the cursor foreign, or a time naive
        with pytest.raises(ServiceError) as size:
            await list_usage(session, user_id=alice, first=101)
        with pytest.raises(ServiceError) as cursor:
            await list_usage(session, user_id=alice, after="eyJvIjoiIiwidiI6W119")
        with pytest.raises(ServiceError) as naive:
            await list_usage(
                session,
                user_id=alice,
                where=UsageWhere(created_at=DateTimeFilter(lt=datetime(2025, 1, 1))),
            )
    # then each is refused naming the argument
    assert (size.value.code, size.value.field) == (ErrorCode.OUT_OF_RANGE, "first")
    assert (cursor.value.code, cursor.value.field) == (
        ErrorCode.BAD_USER_INPUT,
        "after",
    )
    assert naive.value.field == "where.created_at.lt"


async def test_daily_usage_sums_each_utc_day_and_source_net_of_refunds(
    db: Database,
) -> None:
    # given jobs either side of UTC midnights, a refunded failure, a partial
    # refund, one just outside a 3-day window, and bob's job
    alice, _ = await add_account(db)
    bob, _ = await add_account(db)
    today = T0.date()
    midnight = datetime(2025, 3, 1, tzinfo=UTC)
    jobs = [
        make_job(alice, cost=4, created_at=midnight),
        make_job(alice, cost=2, created_at=midnight - timedelta(microseconds=1)),
        make_job(
            alice,
            cost=2,
            refunded=2,
            status=JobStatus.FAILED,
            created_at=midnight + timedelta(hours=23, minutes=59),
        ),
        make_job(alice, source=JobSource.CLI, cost=3, refunded=1, created_at=T0),
        make_job(alice, cost=9, created_at=midnight - timedelta(days=2, seconds=1)),
        make_job(alice, cost=7, created_at=midnight + timedelta(days=1)),
        make_job(bob, cost=5, created_at=T0),
    ]
    await add_jobs(db, jobs)
    # when she asks for the last 3 days ending 1 March
    async with db.session() as session:
        days = await usage_daily(session, user_id=alice, days=3, today=today)
        listed = await list_usage(
            session,
            user_id=alice,
            first=100,
            where=UsageWhere(
                created_at=DateTimeFilter(
                    gte=midnight - timedelta(days=2), lt=midnight + timedelta(days=1)
                )
            ),
        )
    # then each UTC day and source is summed as the usage list shows its jobs
    feb28 = today - timedelta(days=1)
    assert days == [
        UsageDay(feb28, JobSource.API, jobs=1, charged=2, refunded=0, net=2),
        UsageDay(today, JobSource.API, jobs=2, charged=6, refunded=2, net=4),
        UsageDay(today, JobSource.CLI, jobs=1, charged=3, refunded=1, net=2),
    ]
    assert sum(d.net for d in days) == sum(e.net for _, e in listed.items)


async def test_daily_usage_refuses_a_window_out_of_range(db: Database) -> None:
    # given a user
    alice, _ = await add_account(db)
    async with db.session() as session:
        for days in (0, -1, 367):
            # when the window is empty, negative or over a year
            with pytest.raises(ServiceError) as refused:
                await usage_daily(session, user_id=alice, days=days, today=T0.date())
            # then it is refused naming the argument and the value
            assert (refused.value.code, refused.value.field) == (
                ErrorCode.BAD_USER_INPUT,
                "days",
            )
            assert str(days) in refused.value.message
