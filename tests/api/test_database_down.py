"""HTTP while PostgreSQL restarts: a coded UNAVAILABLE with Retry-After meanwhile,
never a 500 or a traceback, and answers again as soon as the server is back."""

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from core.settings import Settings
from darkroom.services import build_app
from tests.conftest import Api
from tests.pg_server import PostgresServer

CREDITS = "{ me { email credits { total } } }"


@pytest.fixture
def api(tmp_path: Path, postgres: PostgresServer) -> Iterator[Api]:
    settings = Settings(data_dir=tmp_path / "data", database_url=postgres.url)
    with TestClient(build_app(settings), raise_server_exceptions=False) as client:
        yield Api(client, settings)


def test_requests_while_postgresql_is_down_are_refused_with_a_code_and_recover(
    api: Api, postgres: PostgresServer
) -> None:
    # given an account whose token is in use (and so in the caller cache)
    token = api.account("ann@example.com", credits=7)
    assert api.data(CREDITS, token=token)["me"]["credits"]["total"] == 7
    # when PostgreSQL crashes
    postgres.crash()
    answers = [
        api.client.post(
            "/graphql",
            json={"query": CREDITS},
            headers={"Authorization": f"Bearer {token}"},
        )
        for _ in range(3)
    ]
    # then each request is refused with UNAVAILABLE (no 500, no traceback)
    for answer in answers:
        assert answer.status_code in (200, 503), answer.text
        body = answer.json()
        assert [e["extensions"]["code"] for e in body["errors"]] == ["UNAVAILABLE"]
        assert "Traceback" not in answer.text
        assert "retry" in body["errors"][0]["message"]
        if answer.status_code == 503:
            assert answer.headers["retry-after"] == "2"
    # and an unknown token (no cached caller) gets the same refusal, not a 500
    unknown = api.client.post(
        "/graphql",
        json={"query": CREDITS},
        headers={"Authorization": "Bearer drk_" + "0" * 64},
    )
    assert unknown.status_code == 503, unknown.text
    assert unknown.json()["errors"][0]["extensions"]["code"] == "UNAVAILABLE"
    # when PostgreSQL is back, the stale pooled connections are replaced
    postgres.start()
    deadline = time.monotonic() + 10
    while True:
        body = api.post(CREDITS, token=token)
        if not body.get("errors") or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    # then requests answer again within seconds
    assert body.get("errors") is None, body
    assert body["data"]["me"]["credits"]["total"] == 7


def test_the_first_query_after_a_restart_is_answered_not_refused(
    api: Api, postgres: PostgresServer
) -> None:
    # given an account that has just been read, its connection back in the pool
    token = api.account("bea@example.com", credits=3)
    assert api.data(CREDITS, token=token)["me"]["credits"]["total"] == 3
    # when PostgreSQL restarts between two requests
    postgres.crash()
    postgres.start()
    # then the next query is answered: the dead connection is replaced under it
    assert api.data(CREDITS, token=token)["me"]["credits"]["total"] == 3


TOKEN_CREATE = """mutation { apiTokenCreate(input: {name: "after the restart"}) {
  apiToken { name } userErrors { code } } }"""
TOKEN_NAMES = "{ apiTokens { name } }"


def test_the_first_mutation_after_a_restart_is_answered_once(
    api: Api, postgres: PostgresServer
) -> None:
    # given an account that has just been read, its connection back in the pool
    token = api.account("cid@example.com", credits=3)
    assert api.data(CREDITS, token=token)["me"]["credits"]["total"] == 3
    # when PostgreSQL restarts between two requests
    postgres.crash()
    postgres.start()
    # then the next mutation is answered, not refused: it had committed nothing
    # when its connection failed, so it went again on a fresh one
    made = api.data(TOKEN_CREATE, token=token)["apiTokenCreate"]
    assert made == {"apiToken": {"name": "after the restart"}, "userErrors": []}
    # and it took effect once
    names = [t["name"] for t in api.data(TOKEN_NAMES, token=token)["apiTokens"]]
    assert names.count("after the restart") == 1
