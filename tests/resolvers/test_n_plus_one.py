"""Nested output fields are batched: a page of 100 costs the same queries as 10."""

from typing import Any

import pytest
import sqlalchemy as sa

from tests.conftest import Api
from tests.resolvers.history_rows import seed_outputs, user_id_of

PAGE = """query($first: Int) { outputs(first: $first, where: {isUpscaled: {_eq: false}}) {
  totalCount
  edges { cursor node {
    id imageUrl width
    generation { prompt model { id name } scheduler { id name } }
    upscale { id imageUrl generation { model { name } } upscale { id } }
    job { id status outputs { index } }
  } }
} }"""


@pytest.fixture(autouse=True)
def _room_for_big_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    """A page of 100 with nested fields costs more than the default 1000 points."""
    monkeypatch.setenv("DARKROOM_MAX_QUERY_COST", "100000")


def statements_run(
    api: Api, token: str, query: str, variables: dict[str, Any]
) -> list[str]:
    """The SQL on outputs and jobs run while answering one request.

    Authentication (whose last-used stamp is written once a minute) and the job
    runner's polling also use the database; neither depends on the page size.
    """
    seen: list[str] = []

    def record(*args: Any) -> None:
        seen.append(args[2])  # (conn, cursor, statement, parameters, context, many)

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", record)
    try:
        body = api.post(query, variables, token=token)
    finally:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", record)
    assert not body.get("errors"), body["errors"]
    return [s for s in seen if "FROM outputs" in s or "FROM jobs" in s]


@pytest.fixture
def reader(api: Api) -> tuple[Api, str]:
    """An account with 100 upscaled outputs, and its token."""
    token = api.account("alice@example.com")
    seed_outputs(api, user_id_of(api, "alice@example.com"), 100, upscaled=True)
    return api, token


def test_a_page_of_100_outputs_runs_as_many_queries_as_a_page_of_10(
    reader: tuple[Api, str],
) -> None:
    # given 100 upscaled outputs
    api, token = reader
    # when pages of 10 and of 100 are read with generation, model, upscale and job
    small = statements_run(api, token, PAGE, {"first": 10})
    large = statements_run(api, token, PAGE, {"first": 100})
    # then both ran the same six statements: page, count, upscales, their
    # upscales, the jobs, and the jobs' outputs
    assert len(large) == len(small) == 6, (small, large)
