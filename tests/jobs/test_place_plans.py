"""Queue places read index ranges even when PostgreSQL's statistics are stale.

A burst grows the queue faster than autovacuum analyzes the table, so the
planner still believes QUEUED is rare. Before migration 0012 it then read each
lane's head and tail through the plain index on status, sorting every queued
row for each of the place's subqueries (4.5 s a place at 100,000 queued).
"""

import dataclasses
import json
from typing import Any

import pytest
import sqlalchemy as sa

from core.enums import JobSource
from core.models import Job
from jobs.params import GenerationParams
from jobs.positions import _places_of_jobs, queue_places
from jobs.services import Jobs
from jobs.submission import submit_generation

from .conftest import Accounts

FINISHED, PER_LANE = 3_000, 1_500
JOBS: sa.Table = Job.__table__  # type: ignore[attr-defined]


def _copies(overrides: dict[str, str]) -> str:
    """INSERT ... SELECT of the template job (:template), once per n of the series
    :count, with some columns replaced by SQL expressions of n."""
    names = [c.name for c in JOBS.columns]
    values = {name: overrides.get(name, name) for name in names}
    values["id"] = "gen_random_uuid()"
    return (
        f"INSERT INTO jobs ({', '.join(names)})"
        f" SELECT {', '.join(values[name] for name in names)}"
        " FROM jobs, generate_series(1, :count) AS n WHERE jobs.id = :template"
    )


def _rows_read(plan: Any) -> int:
    """Every row each node of an EXPLAIN (ANALYZE, FORMAT JSON) plan produced."""
    rows = plan.get("Actual Rows", 0) * plan.get("Actual Loops", 1)
    rows += plan.get("Rows Removed by Filter", 0) * plan.get("Actual Loops", 1)
    return int(rows) + sum(_rows_read(child) for child in plan.get("Plans", []))


@pytest.mark.parametrize("db", ["postgresql"], indirect=True)
async def test_a_place_reads_a_few_rows_when_statistics_say_nothing_is_queued(
    jobs: Jobs, accounts: Accounts
) -> None:
    # given a table of finished jobs, analyzed: to the planner QUEUED is rare
    caller = await accounts.caller("burst@example.com")
    params = GenerationParams(prompt="a red fox", width=64, height=64)
    template = await submit_generation(
        jobs, caller=caller, params=dataclasses.replace(params, seed=1),
        source=JobSource.API,
    )  # fmt: skip
    bind = {"template": template.job.id}
    async with jobs.db.engine.begin() as conn:
        finished = _copies({"status": "'SUCCEEDED'", "queue_ticket": "NULL",
                            "finished_at": "now()", "started_at": "now()"})  # fmt: skip
        await conn.execute(sa.text(finished), {**bind, "count": FINISHED})
        await conn.execute(sa.text("DELETE FROM jobs WHERE id = :template"), bind)
        await conn.exec_driver_sql("ANALYZE jobs")
    # when a burst queues two lanes' worth of dispatched jobs, not analyzed yet
    async with jobs.db.engine.begin() as conn:
        # copies of a finished job: the template's own row is gone
        source = await conn.scalar(sa.text("SELECT id FROM jobs LIMIT 1"))
        for paid in (True, False):
            queued = _copies({"status": "'QUEUED'", "queue_ticket": "n",
                              "paid_lane": str(paid).lower(), "finished_at": "NULL",
                              "started_at": "NULL", "enqueued_at": "now()"})  # fmt: skip
            await conn.execute(sa.text(queued), {"template": source, "count": PER_LANE})
        last = await conn.scalar(
            sa.text(
                "SELECT id FROM jobs WHERE status = 'QUEUED' AND NOT paid_lane"
                " ORDER BY queue_ticket DESC LIMIT 1"
            )
        )

    # then the last free job's place reads index ranges, not the queue
    statement = _places_of_jobs("postgresql").params(job_ids=[last])
    async with jobs.db.engine.begin() as conn:
        compiled = statement.compile(
            dialect=conn.dialect, compile_kwargs={"literal_binds": True}
        )
        plan = await conn.scalar(sa.text(f"EXPLAIN (ANALYZE, FORMAT JSON) {compiled}"))
    document = plan if isinstance(plan, list) else json.loads(plan)
    read = _rows_read(document[0]["Plan"])
    assert read < 100, f"read {read:,} rows for one place: {json.dumps(document)}"
    # and the place is right: every paid job, then every free one
    places = await queue_places(jobs, job_ids=[last])
    assert places[last].position == 2 * PER_LANE
