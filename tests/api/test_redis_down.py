"""HTTP while Redis is down (scale-out path): reads answer, submissions are
accepted as rows, nothing is a 500; the rate limits count in-process meanwhile."""

import asyncio
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis.asyncio import Redis
from starlette.testclient import TestClient

from core.settings import Settings
from darkroom.services import build_app
from tests.conftest import Api, empty_database
from tests.jobs.test_redis_outage import RedisServer

ME = "{ me { email } rateLimit { limit remaining } }"
CREATE = """mutation { generationCreate(input: {prompt: "a red fox", width: 64,
  height: 64, inferenceSteps: 2, numOutputs: 1}) {
  job { status } userErrors { code message } } }"""


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path)
    asyncio.run(server.start())
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def api(
    tmp_path: Path, postgresql_database_url: str, redis_server: RedisServer
) -> Iterator[Api]:
    empty_database(postgresql_database_url)
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=postgresql_database_url,
        redis_url=redis_server.url,
    )
    with TestClient(build_app(settings)) as client:
        yield Api(client, settings)


def shared_buckets(url: str) -> int:
    async def count() -> int:
        client = Redis.from_url(url)
        try:
            return len(await client.keys("darkroom:ratelimit:*"))
        finally:
            await client.aclose()

    return asyncio.run(count())


def test_reads_and_submissions_answer_while_redis_is_down(
    api: Api, redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    # given an account whose requests spend from Redis's shared buckets
    token = api.account("ann@example.com", credits=10)
    assert api.data(ME, token=token)["me"] == {"email": "ann@example.com"}
    assert shared_buckets(redis_server.url) > 0
    # when Redis goes away
    redis_server.stop()
    with caplog.at_level(logging.WARNING, logger="core.ratelimit"):
        # then plain reads still answer (HTTP 200, no error), limits still counted
        seen = [api.data(ME, token=token) for _ in range(5)]
    assert all(d["me"] == {"email": "ann@example.com"} for d in seen)
    remaining = [d["rateLimit"]["remaining"] for d in seen]
    assert remaining == sorted(remaining, reverse=True)
    assert remaining[0] > remaining[-1]
    # and Redis's absence is logged once, not once per request
    assert sum("Redis is unavailable" in r.message for r in caplog.records) == 1
    # and a submission is accepted as a queued row (the sweeper sends it later)
    created = api.data(CREATE, token=token)["generationCreate"]
    assert created == {"job": {"status": "QUEUED"}, "userErrors": []}
    # when Redis is back (empty), requests count in Redis's buckets again
    asyncio.run(redis_server.start())
    assert shared_buckets(redis_server.url) == 0

    def back_on_redis() -> bool:
        api.data(ME, token=token)
        return shared_buckets(redis_server.url) > 0

    assert any(
        back_on_redis() for _ in range(40) if not asyncio.run(asyncio.sleep(0.1))
    )
