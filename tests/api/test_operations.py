"""Operations endpoints: /metrics after a real job, its authentication, and the
liveness and readiness probes (with a Redis of the test's own stopped)."""

import asyncio
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

from core.enums import Scope
from core.settings import Settings
from darkroom.services import build_app
from tests.conftest import Api, empty_database
from tests.jobs.test_redis_outage import RedisServer

CREATE = """mutation($input: GenerationCreateInput!) {
  generationCreate(input: $input, wait: 60) {
    job { id status cost } userErrors { code message } } }"""
TOKEN_CREATE = """mutation($input: ApiTokenCreateInput!) {
  apiTokenCreate(input: $input) { apiToken { scopes } secret userErrors { code message } } }"""
PROMPT = "a secret lighthouse at dusk"
SMALL = {"prompt": PROMPT, "width": 64, "height": 64, "inferenceSteps": 2}
EVERY_NAME = [
    "darkroom_http_requests_total",
    "darkroom_graphql_operation_seconds",
    "darkroom_jobs_submitted_total",
    "darkroom_jobs_finished_total",
    "darkroom_job_queue_wait_seconds",
    "darkroom_job_run_seconds",
    "darkroom_queue_depth",
    "darkroom_subscriptions_active",
    "darkroom_events_published_total",
    "darkroom_webhook_deliveries_total",
    "darkroom_credits_charged_total",
]
# Every label our metrics carry, and the values it may take.
BOUNDED = {
    "operation_type": re.compile(r"query|mutation|subscription|none"),
    "status": re.compile(r"[1-5]\d\d|QUEUED|RUNNING|SUCCEEDED|FAILED|CANCELLED"),
    "kind": re.compile(r"GENERATE|UPSCALE"),
    "lane": re.compile(r"free|paid"),
    "type": re.compile(r"QUEUED|STARTED|PROGRESS|OUTPUT|SUCCEEDED|FAILED|CANCELLED"),
    "result": re.compile(r"delivered|retrying|failed"),
    "model": re.compile(r"darkroom-tiny|realesrgan-x4|other|[a-z0-9-]+"),
    "le": re.compile(r"[0-9.e+]+|\+Inf"),
}

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(api: Api, token: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return api.client.get("/metrics", headers=headers)


def samples(text: str) -> Samples:
    """Every sample of our metrics by (name, sorted labels)."""
    found: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name.startswith("darkroom_"):
                found[(sample.name, tuple(sorted(sample.labels.items())))] = (
                    sample.value
                )
    return found


def value(found: Samples, name: str, **labels: str) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


def metrics_token(api: Api, email: str = "ops@example.com") -> str:
    return api.account(email, scopes=(Scope.METRICS,))


def test_metrics_after_a_real_job_name_everything_and_the_counters_moved(
    api: Api,
) -> None:
    # given an operator's METRICS token, an account with credits, and a scrape
    ops = metrics_token(api)
    user = api.account("ana@example.com", credits=10)
    before = samples(scrape(api, ops).text)
    # when the account runs a two-image job to its end
    created = api.data(CREATE, {"input": {**SMALL, "numOutputs": 2}}, token=user)
    assert created["generationCreate"]["job"]["status"] == "SUCCEEDED"
    response = scrape(api, ops)
    # then every metric is named, and the job moved the counters
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    for name in EVERY_NAME:
        assert f"# TYPE {name.removesuffix('_total')}" in response.text, name
    after = samples(response.text)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("darkroom_jobs_submitted_total", kind="GENERATE") == 1
    assert (
        moved("darkroom_jobs_finished_total", kind="GENERATE", status="SUCCEEDED") == 1
    )
    assert moved("darkroom_credits_charged_total") == 2
    assert moved("darkroom_job_queue_wait_seconds_count") == 1
    assert moved("darkroom_job_run_seconds_count", model="darkroom-tiny") == 1
    assert moved("darkroom_events_published_total", type="SUCCEEDED") == 1
    assert moved("darkroom_events_published_total", type="OUTPUT") == 2
    assert (
        moved("darkroom_http_requests_total", operation_type="mutation", status="200")
        == 1
    )
    assert (
        moved("darkroom_graphql_operation_seconds_count", operation_type="mutation")
        == 1
    )
    assert value(after, "darkroom_queue_depth", lane="paid") == 0
    assert value(after, "darkroom_queue_depth", lane="free") == 0


def test_no_label_takes_an_unbounded_value(api: Api) -> None:
    # given a finished job, a refused request and a scrape
    ops = metrics_token(api)
    user = api.account("ben@example.com", credits=10)
    job_id = api.data(CREATE, {"input": SMALL}, token=user)["generationCreate"]["job"][
        "id"
    ]
    api.client.post("/graphql", json={"query": "{ nope"})
    text = scrape(api, ops).text
    # then no secret, id, address or prompt is in it, and every label is bounded
    for private in (user, ops, job_id, PROMPT, "ben@example.com"):
        assert private not in text
    for (_name, labels), _value in samples(text).items():
        for label, label_value in labels:
            assert label in BOUNDED, label
            assert BOUNDED[label].fullmatch(label_value), (label, label_value)


def test_metrics_refuse_anonymous_callers_and_tokens_without_the_scope(
    api: Api,
) -> None:
    reader = api.account("cy@example.com")  # GENERATE, READ, MANAGE
    anonymous, bad, unscoped = (
        scrape(api, None),
        scrape(api, "drk_not_a_token"),
        scrape(api, reader),
    )
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"].startswith("Bearer")
    assert bad.status_code == 401
    assert unscoped.status_code == 403
    assert "darkroom_" not in anonymous.text + bad.text + unscoped.text


def test_only_a_token_holding_metrics_can_grant_it(api: Api) -> None:
    # given a manager without METRICS and an operator with both
    manager = api.account("dee@example.com")
    operator = api.account("eli@example.com", scopes=(Scope.MANAGE, Scope.METRICS))
    wanted = {"input": {"name": "scraper", "scopes": ["METRICS"]}}
    # when each asks for a METRICS token, and the manager for a default one
    refused = api.data(TOKEN_CREATE, wanted, token=manager)["apiTokenCreate"]
    granted = api.data(TOKEN_CREATE, wanted, token=operator)["apiTokenCreate"]
    default = api.data(TOKEN_CREATE, {"input": {"name": "d"}}, token=manager)
    # then the manager is refused, the operator's token scrapes, and no default has it
    assert refused["secret"] is None
    assert [e["code"] for e in refused["userErrors"]] == ["FORBIDDEN"]
    assert granted["apiToken"]["scopes"] == ["METRICS"]
    assert scrape(api, granted["secret"]).status_code == 200
    assert "METRICS" not in default["apiTokenCreate"]["apiToken"]["scopes"]


def test_a_subscription_counts_while_it_runs(api: Api) -> None:
    ops = metrics_token(api)
    user = api.account("flo@example.com", credits=10)
    gauge = "darkroom_subscriptions_active"
    idle = value(samples(scrape(api, ops).text), gauge)
    with api.client.websocket_connect(
        "/graphql", subprotocols=["graphql-transport-ws"]
    ) as ws:
        ws.send_json(
            {"type": "connection_init", "payload": {"Authorization": f"Bearer {user}"}}
        )
        assert ws.receive_json()["type"] == "connection_ack"
        ws.send_json(
            {
                "id": "1",
                "type": "subscribe",
                "payload": {"query": "subscription { myJobUpdates { type } }"},
            }
        )
        running = wait_for(
            lambda: value(samples(scrape(api, ops).text), gauge), idle + 1
        )
        ws.send_json({"id": "1", "type": "complete"})
    assert running == idle + 1
    assert wait_for(lambda: value(samples(scrape(api, ops).text), gauge), idle) == idle


def wait_for(read: Any, expected: float, seconds: float = 5) -> float:
    deadline = time.monotonic() + seconds
    while (got := read()) != expected and time.monotonic() < deadline:
        time.sleep(0.05)
    return float(got)


def test_a_metrics_address_serves_them_without_a_token(
    make_api: Any, tmp_path: Path
) -> None:
    # given an operator who set a private metrics address
    api = make_api(metrics_address="127.0.0.1:0")
    port = api.client.app.state.metrics_port
    # when a scraper without a token reads it
    response = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10)
    # then it gets every metric, queue depth included; the app's page still asks
    assert response.status_code == 200
    assert 'darkroom_queue_depth{lane="free"} 0.0' in response.text
    assert scrape(api, None).status_code == 401


# --- health -----------------------------------------------------------------------


def test_healthz_answers_without_asking_anything_else(api: Api) -> None:
    response = api.client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "alive"}


def test_readyz_is_ready_with_the_database_storage_and_the_in_process_worker(
    api: Api,
) -> None:
    response = wait_ready(api.client)
    assert response.json() == {
        "status": "ready",
        "checks": {"database": "ok", "storage": "ok", "worker": "ok"},
    }
    # the storage probe leaves nothing behind
    assert not (api.settings.storage_root / "health").exists() or not list(
        (api.settings.storage_root / "health").iterdir()
    )


def wait_ready(client: TestClient, seconds: float = 10) -> httpx.Response:
    """The in-process worker reports itself just after the app starts."""
    deadline = time.monotonic() + seconds
    while (response := client.get("/readyz")).status_code != 200:
        if time.monotonic() > deadline:
            break
        time.sleep(0.05)
    return response


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path)
    asyncio.run(server.start())
    try:
        yield server
    finally:
        server.stop()


def test_readyz_is_unavailable_while_redis_is_down(
    tmp_path: Path, postgresql_database_url: str, redis_server: RedisServer
) -> None:
    # given the scale-out setup on a Redis of the test's own
    empty_database(postgresql_database_url)
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=postgresql_database_url,
        redis_url=redis_server.url,
    )
    with TestClient(build_app(settings)) as client:
        up = client.get("/readyz").json()["checks"]
        # when Redis goes away
        redis_server.stop()
        response = client.get("/readyz")
    # then readiness fails naming Redis, and the database is still fine
    assert up["redis"] == "ok"
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["redis"].startswith("down: ")
    assert body["checks"]["database"] == "ok"
    # no worker runs beside this API
    assert body["checks"]["worker"].startswith("down: no worker")
