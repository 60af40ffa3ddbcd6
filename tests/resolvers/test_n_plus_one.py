"""Nested fields load through DataLoaders: a page of 50 costs the queries of a page
of 2, and what a query does not select is never read."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from core.enums import JobStatus
from tests.conftest import Api
from tests.resolvers.history_rows import T0, job_row, seed_outputs, user_id_of

OUTPUTS = """query($first: Int) { outputs(first: $first, where: {isUpscaled: {_eq: false}}) {
  totalCount
  edges { cursor node {
    id imageUrl width
    generation { prompt model { modelId name } scheduler { schedulerId name } }
    upscale { id imageUrl generation { model { name } } upscale { id } }
    job { id status outputs { index } }
  } }
} }"""
JOBS = """query($first: Int) { jobs(first: $first) {
  edges { node { id status queuePosition etaSeconds outputs { index imageUrl } } }
} }"""
GENERATE = """mutation { generationCreate(input: {prompt: "a fox", numOutputs: 1,
  width: 64, height: 64, inferenceSteps: 1}) { job { %s } userErrors { code } } }"""


@pytest.fixture
def api(make_api: Callable[..., Api], redis_url: str) -> Api:
    """The app on arq and Redis: no in-process runner or sweeper shares the
    database with the requests whose statements are counted."""
    return make_api(redis_url=redis_url, max_query_cost=100_000)


def statements_run(
    api: Api, token: str, query: str, variables: dict[str, Any] | None = None
) -> list[str]:
    """The SQL on outputs and jobs run while answering one request.

    Authentication (on api_tokens) is left out: it does not depend on the query.
    """
    seen: list[str] = []

    def record(*args: Any) -> None:
        seen.append(args[2])  # (conn, cursor, statement, parameters, context, many)

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", record)
    try:
        body = api.post(query, variables or {}, token=token)
    finally:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", record)
    assert not body.get("errors"), body["errors"]
    return [s for s in seen if "FROM outputs" in s or "FROM jobs" in s]


def test_a_page_of_100_outputs_runs_as_many_queries_as_a_page_of_10(api: Api) -> None:
    # given 100 upscaled outputs
    token = api.account("alice@example.com")
    seed_outputs(api, user_id_of(api, "alice@example.com"), 100, upscaled=True)
    # when pages of 10 and of 100 are read with generation, model, upscale and job
    small = statements_run(api, token, OUTPUTS, {"first": 10})
    large = statements_run(api, token, OUTPUTS, {"first": 100})
    # then both ran the same six statements: page, count, upscales, their
    # upscales, the jobs, and the jobs' outputs
    assert len(large) == len(small) == 6, (small, large)


def test_a_page_of_50_queued_jobs_runs_as_many_queries_as_a_page_of_2(
    api: Api,
) -> None:
    # given 60 queued jobs, each with an output already stored
    token = api.account("bob@example.com")
    user = user_id_of(api, "bob@example.com")

    async def seed(session: AsyncSession) -> None:
        for n in range(60):
            job = job_row(
                user,
                status=JobStatus.QUEUED,
                created_at=T0 + timedelta(minutes=n),
                enqueued_at=T0 + timedelta(minutes=n),
                finished_at=None,
            )
            session.add(job)
        await session.flush()

    api.run(seed)
    # when pages of 2 and of 50 are read with queue places and outputs
    small = statements_run(api, token, JOBS, {"first": 2})
    large = statements_run(api, token, JOBS, {"first": 50})
    # then both ran the same statements: the page, the places (with the recent
    # run times behind the ETA), and the outputs
    assert len(large) == len(small) == 3, (small, large)


def test_a_submission_reads_only_what_its_payload_selects(api: Api) -> None:
    # given a token with credits
    token = api.account("carol@example.com", credits=10)
    # when jobs are submitted selecting only the id, then also place and outputs
    bare = statements_run(api, token, GENERATE % "id")
    placed = statements_run(api, token, GENERATE % "id queuePosition etaSeconds")
    full = statements_run(api, token, GENERATE % "id queuePosition outputs { index }")
    # then the bare payload reads no outputs, the place announced at submission is
    # reused, and only the selected outputs cost a statement
    assert not [s for s in bare if "FROM outputs" in s]
    assert len(placed) == len(bare)
    assert len(full) == len(bare) + 1
