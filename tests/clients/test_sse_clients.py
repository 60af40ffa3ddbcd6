"""Subscriptions over HTTP with real clients: the graphql-sse npm package, curl -N."""

import json
import logging
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY

from tests.clients.conftest import LiveServer
from tests.clients.node_project import installed, run_in

PROJECT = Path(__file__).resolve().parent / "sse_node"
CREATE = """mutation($input: GenerationCreateInput!) {
  generationCreate(input: $input) { job { id } userErrors { code message } }
}"""
UPDATES = "subscription($id: ID!) { jobUpdates(jobId: $id) { type step } }"
SMALL = {"prompt": "a lighthouse", "width": 64, "height": 64, "inferenceSteps": 3}

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


def in_project(*command: str) -> subprocess.CompletedProcess[str]:
    return run_in(PROJECT, *command, timeout=240)


@pytest.fixture(scope="module")
def node() -> str:
    """node, with graphql-sse installed at its pinned version from the lock."""
    return installed(PROJECT)[0]


def submit(server: LiveServer) -> str:
    response = httpx.post(
        server.url,
        json={"query": CREATE, "variables": {"input": SMALL}},
        headers={"Authorization": f"Bearer {server.token}"},
        timeout=30,
    )
    payload = response.json()["data"]["generationCreate"]
    assert payload["userErrors"] == [], payload
    job_id: str = payload["job"]["id"]
    return job_id


def follow_with_node(node: str, *args: str) -> dict[str, Any]:
    ran = in_project(node, "follow.mjs", *args)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    result: dict[str, Any] = json.loads(ran.stdout.strip().splitlines()[-1])
    return result


def test_the_graphql_sse_client_follows_a_job_to_its_end(
    node: str, live_server: LiveServer
) -> None:
    # given a submitted job
    job_id = submit(live_server)
    # when the graphql-sse client follows it
    result = follow_with_node(node, live_server.url, live_server.token, job_id)
    # then it gets every update in order and completes without an error
    assert "error" not in result, result
    updates = [event["data"]["jobUpdates"] for event in result["events"]]
    assert updates[-1]["type"] == "SUCCEEDED"
    steps = [u["step"] for u in updates if u["type"] == "PROGRESS"]
    assert steps == sorted(set(steps))
    assert steps[-1] == 3
    outputs = [u["output"]["index"] for u in updates if u["type"] == "OUTPUT"]
    assert sorted(outputs) == [0, 1]


def test_the_graphql_sse_client_sees_a_bad_token_refused(
    node: str, live_server: LiveServer
) -> None:
    result = follow_with_node(node, live_server.url, "drk_wrong", "--refused")
    assert result["events"] == []
    assert result["status"] == 401
    code = json.loads(result["body"])["errors"][0]["extensions"]["code"]
    assert code == "UNAUTHENTICATED"


def test_curl_streams_a_job_as_server_sent_events(live_server: LiveServer) -> None:
    curl = shutil.which("curl")
    if curl is None:
        pytest.fail("curl is missing; install it (Debian: apt-get install curl)")
    # given a submitted job
    job_id = submit(live_server)
    body = json.dumps({"query": UPDATES, "variables": {"id": job_id}})
    # when curl -N follows it, as the README shows
    ran = subprocess.run(
        [
            curl,
            "-sS",
            "-N",
            "--max-time",
            "60",
            "-H",
            "Accept: text/event-stream",
            "-H",
            "Content-Type: application/json",
            "-H",
            f"Authorization: Bearer {live_server.token}",
            "--data",
            body,
            live_server.url,
        ],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert ran.returncode == 0, ran.stderr
    # then the output is `next` events up to SUCCEEDED, then `complete` (text
    # mode reads the events' CRLFs as plain newlines)
    blocks = [b for b in ran.stdout.split("\n\n") if b and not b.startswith(":")]
    assert blocks[-1] == "event: complete\ndata: "
    updates = [
        json.loads(b.split("data: ", 1)[1])["data"]["jobUpdates"] for b in blocks[:-1]
    ]
    assert all(b.startswith("event: next\n") for b in blocks[:-1])
    assert updates[-1]["type"] == "SUCCEEDED"


def running_subscriptions() -> float:
    value = REGISTRY.get_sample_value("darkroom_subscriptions_active")
    assert value is not None, "darkroom_subscriptions_active is not registered"
    return value


def eventually(check: Callable[[], bool], seconds: float = 3) -> bool:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def test_a_client_leaving_mid_stream_frees_its_subscription_without_an_error(
    live_server: LiveServer,
    caplog: pytest.LogCaptureFixture,
    request: pytest.FixtureRequest,
) -> None:
    # given an open stream that would never end on its own (the server runs in
    # this process, so its gauge is ours to read)
    before = running_subscriptions()
    headers = {
        "Accept": "text/event-stream",
        "Authorization": f"Bearer {live_server.token}",
    }
    query = {"query": "subscription { myJobUpdates { type } }"}
    # uvicorn's own loggers stop short of the root logger that caplog listens on.
    uvicorn_errors = logging.getLogger("uvicorn.error")
    uvicorn_errors.addHandler(caplog.handler)
    request.addfinalizer(lambda: uvicorn_errors.removeHandler(caplog.handler))
    with (
        caplog.at_level(logging.ERROR),
        httpx.stream(
            "POST", live_server.url, json=query, headers=headers, timeout=30
        ) as response,
    ):
        assert response.status_code == 200
        assert eventually(lambda: running_subscriptions() == before + 1)
    # when the client hangs up, then the subscription ends and nothing failed
    assert eventually(lambda: running_subscriptions() == before)
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
