"""Subscriptions over HTTP: graphql-sse and multipart, through the app itself."""

import json
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from strawberry import relay

from core.enums import Scope
from tests.conftest import Api
from tests.resolvers.test_jobs_api import SMALL, UPDATES, create
from tests.resolvers.test_revocation import revoke_in_another_process

SSE = {"Accept": "text/event-stream"}
MULTIPART = {"Accept": "multipart/mixed;subscriptionSpec=1.0,application/json"}
MY_UPDATES = "subscription { myJobUpdates { type } }"
CHECK_SECONDS = 0.2


@pytest.fixture(autouse=True)
def quick_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Check tokens every 0.2 s (the app reads its settings from the environment)."""
    monkeypatch.setenv("DARKROOM_REVOCATION_CHECK_SECONDS", str(CHECK_SECONDS))


def sse_events(lines: Iterator[str]) -> Iterator[tuple[str, Any]]:
    """(event, data) pairs of a text/event-stream, skipping comments (pings)."""
    event, data = "", ""
    for line in lines:
        if line == "":
            if event:
                yield event, json.loads(data) if data else None
            event, data = "", ""
        elif line.startswith(":"):
            continue
        elif line.startswith("event:"):
            event = line.removeprefix("event:").strip()
        elif line.startswith("data:"):
            data += line.removeprefix("data:").strip()


def multipart_parts(response: httpx.Response) -> Iterator[Any]:
    """The JSON parts of a multipart/mixed subscription, skipping heartbeats."""
    buffer = ""
    for text in response.iter_text():
        buffer += text
        *parts, buffer = buffer.split("\r\n--graphql")
        for part in parts:
            _headers, _, body = part.partition("\r\n\r\n")
            if body.strip() and body.strip() != "{}":
                yield json.loads(body)


@contextmanager
def stream(
    api: Api,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    token: str | None,
    accept: dict[str, str] = SSE,
) -> Iterator[httpx.Response]:
    headers = {**accept, **({"Authorization": f"Bearer {token}"} if token else {})}
    with api.client.stream(
        "POST",
        "/graphql",
        json={"query": query, "variables": variables or {}},
        headers=headers,
    ) as response:
        yield response


def within(seconds: float, work: Callable[[], Any]) -> Any:
    """work()'s result, which must come within `seconds` (reads block for good)."""
    pool = ThreadPoolExecutor(max_workers=1)
    try:
        return pool.submit(work).result(timeout=seconds)
    finally:
        pool.shutdown(wait=False)


def follow_sse(api: Api, token: str, job_id: str) -> list[tuple[str, Any]]:
    with stream(api, UPDATES, {"id": job_id}, token=token) as response:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        return list(sse_events(response.iter_lines()))


def test_following_a_job_over_sse_brings_every_event_in_order_then_complete(
    api: Api,
) -> None:
    # given a submitted job
    token = api.account("sam@example.com", credits=10)
    job_id = create(api, token, numOutputs=2, inferenceSteps=4)["job"]["id"]
    # when its owner follows it over graphql-sse
    frames = follow_sse(api, token, job_id)
    # then every event comes in a `next`, in order, and `complete` ends the stream
    assert [kind for kind, _ in frames[:-1]] == ["next"] * (len(frames) - 1)
    assert frames[-1] == ("complete", None)
    events = [data["data"]["jobUpdates"] for _, data in frames[:-1]]
    types = [e["type"] for e in events]
    assert types[-1] == "SUCCEEDED"
    assert types.count("SUCCEEDED") == 1
    steps = [e["step"] for e in events if e["type"] == "PROGRESS"]
    assert steps == sorted(set(steps))
    assert steps[-1] == 4
    outputs = [e["output"]["index"] for e in events if e["type"] == "OUTPUT"]
    assert sorted(outputs) == [0, 1]
    assert types.index("OUTPUT") > max(
        i for i, t in enumerate(types) if t == "PROGRESS"
    )


def test_the_same_job_over_multipart_subscriptions_ends_with_the_same_events(
    api: Api,
) -> None:
    # given a finished job, followed over graphql-sse
    token = api.account("max@example.com", credits=10)
    job_id = create(api, token, wait=60, numOutputs=1)["job"]["id"]
    over_sse = [d["data"] for k, d in follow_sse(api, token, job_id) if k == "next"]
    # when it is followed over Apollo's multipart subscriptions
    with stream(api, UPDATES, {"id": job_id}, token=token, accept=MULTIPART) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("multipart/mixed")
        parts = list(multipart_parts(r))
    # then it gets the same events, each under `payload`
    assert [p["payload"]["data"] for p in parts] == over_sse
    assert over_sse[-1]["jobUpdates"]["type"] == "SUCCEEDED"


@pytest.mark.parametrize("token", [None, "drk_not_a_token"])
def test_a_stream_without_a_valid_token_is_refused_with_401(
    api: Api, token: str | None
) -> None:
    with stream(api, MY_UPDATES, token=token) as response:
        body = json.loads(response.read())
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert "Authorization: Bearer" in body["errors"][0]["message"]


def test_a_token_without_generate_gets_forbidden_then_complete(api: Api) -> None:
    token = api.account("ro@example.com", scopes=[Scope.READ])
    with stream(api, MY_UPDATES, token=token) as response:
        frames = list(sse_events(response.iter_lines()))
    assert response.status_code == 200
    assert frames[0][1]["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert frames[-1] == ("complete", None)


def test_another_accounts_job_is_not_found_over_sse(api: Api) -> None:
    owner = api.account("own@example.com", credits=10)
    job_id = create(api, owner, **SMALL)["job"]["id"]
    other = api.account("nosy@example.com")
    frames = follow_sse(api, other, job_id)
    assert frames[0][1]["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert frames[-1] == ("complete", None)


@pytest.mark.parametrize(("accept", "parse"), [(SSE, "sse"), (MULTIPART, "multipart")])
def test_revoking_the_token_ends_its_stream_within_seconds(
    api: Api, accept: dict[str, str], parse: str
) -> None:
    # given a stream that would never end on its own
    secret = api.account("rev@example.com")
    with stream(api, MY_UPDATES, token=secret, accept=accept) as response:
        assert response.status_code == 200
        # when its token is revoked (as `darkroom token revoke` does)
        revoke_in_another_process(api, secret)
        revoked_at = time.monotonic()
        # then the stream ends within seconds, saying why
        if parse == "sse":
            frames = within(3, lambda: list(sse_events(response.iter_lines())))
            error = frames[-2][1]["errors"][0]
            assert frames[-1] == ("complete", None)
        else:
            parts = within(3, lambda: list(multipart_parts(response)))
            assert parts[-1]["payload"] is None
            error = parts[-1]["errors"][0]
    assert time.monotonic() - revoked_at < 3
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert "revoked" in error["message"]


def test_a_subscription_over_sse_spends_rate_limit_points(
    make_api: Callable[..., Api],
) -> None:
    # given a budget of one point, spent by a first subscription
    api = make_api(rate_limit_points=1)
    token = api.account("lim@example.com")
    missing = relay.to_base64("Job", str(uuid.uuid4()))
    first = follow_sse(api, token, missing)
    assert first[0][1]["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    # when the account subscribes again over SSE
    frames = follow_sse(api, token, missing)
    # then the stream's only message is the refusal, as on a websocket
    assert frames[0][1]["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    assert frames[-1] == ("complete", None)
    assert len(frames) == 2


def test_a_drain_ends_open_streams_with_unavailable(
    make_api: Callable[..., Api],
) -> None:
    # given a server that drains for at most 0.3 s, with an open stream
    api = make_api(drain_seconds=0.3)
    token = api.account("dr@example.com")
    with stream(api, MY_UPDATES, token=token) as response:
        assert response.status_code == 200
        # when it starts draining (what SIGTERM does in `darkroom serve`)
        portal = api.client.portal
        assert portal is not None
        portal.call(api.client.app.state.drain.begin)  # type: ignore[attr-defined]
        # then the stream ends once the drain is over, with a coded reason
        frames = within(5, lambda: list(sse_events(response.iter_lines())))
    error = frames[-2][1]["errors"][0]
    assert error["extensions"]["code"] == "UNAVAILABLE"
    assert "reconnect" in error["message"]
    assert frames[-1] == ("complete", None)
    # and a new stream is refused while it drains
    with stream(api, MY_UPDATES, token=token) as refused:
        assert refused.status_code == 503
