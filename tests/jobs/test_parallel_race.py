"""Racing submissions of one account from two API processes never dispatch more
jobs than its tier runs at once, and each is charged once."""

import asyncio
import dataclasses

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import col

from core.db import Database
from core.enums import JobSource, Tier
from core.models import Job
from jobs.params import GenerationParams
from jobs.services import Jobs
from jobs.submission import submit_generation
from tests.conftest import _empty_tables

from .conftest import Accounts

ONE_STEP = GenerationParams(
    prompt="a fox", width=64, height=64, inference_steps=1, num_outputs=1
)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    tier=st.sampled_from([Tier.FREE, Tier.STARTER, Tier.PRO]),
    sides=st.lists(st.sampled_from([0, 1]), min_size=1, max_size=8),
)
async def test_racing_submissions_from_two_processes_respect_the_parallel_limit(
    jobs: Jobs, accounts: Accounts, tier: Tier, sides: list[int]
) -> None:
    # given one account, and a second process's own connection pool on the database
    await _empty_tables(jobs.db)
    caller = await accounts.caller("racer@example.com", tier=tier, credits=100)
    before = await accounts.balance(caller)
    other = Database(jobs.db.url)
    processes = [jobs, dataclasses.replace(jobs, db=other)]
    try:
        # when its submissions race, each sent to one of the two
        submitted = await asyncio.gather(
            *(
                submit_generation(
                    processes[side],
                    caller=caller,
                    params=ONE_STEP,
                    source=JobSource.API,
                )
                for side in sides
            )
        )
    finally:
        await other.dispose()
    # then all were taken, at most the tier's limit dispatched, the rest waiting
    async with jobs.db.session() as session:
        rows = list(
            await session.execute(
                sa.select(col(Job.enqueued_at).is_not(None), col(Job.cost)).where(
                    col(Job.user_id) == caller.user.id
                )
            )
        )
    dispatched = sum(1 for is_dispatched, _cost in rows if is_dispatched)
    limit = jobs.settings.parallel_limit(tier)
    assert len(rows) == len(sides) == len(submitted)
    assert dispatched == min(len(sides), limit)
    # and each was charged once
    assert before - await accounts.balance(caller) == sum(cost for _d, cost in rows)
