"""SIGTERM to `darkroom serve`: it drains before it stops, losing nothing."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from .test_serve import free_port

pytestmark = pytest.mark.slow

CREATE = """mutation($input: GenerationCreateInput!) {
  generationCreate(input: $input) { job { id } userErrors { code } } }"""
FOLLOW = """subscription($id: ID!) { jobUpdates(jobId: $id) { type status } }"""
ME = {"query": "{ me { email } }"}


@contextmanager
def server(data_dir: Path, **env: str) -> Iterator[tuple[int, subprocess.Popen[str]]]:
    """`darkroom serve` on the embedded default; yields once it answers."""
    port = free_port()
    environ = {**os.environ, "DARKROOM_DATA_DIR": str(data_dir), **env}
    environ.pop("DARKROOM_DATABASE_URL", None)
    environ.pop("DARKROOM_REDIS_URL", None)
    with open(data_dir.parent / f"serve-{port}.log", "w") as log:
        process = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "darkroom"),
                "serve",
                "--port",
                str(port),
            ],
            env=environ,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
        )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.TransportError:
                assert process.poll() is None, log_of(data_dir, port)
                time.sleep(0.2)
        yield port, process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)


def log_of(data_dir: Path, port: int) -> str:
    return (data_dir.parent / f"serve-{port}.log").read_text()


def local_token(data_dir: Path, port: int) -> str:
    lines = log_of(data_dir, port).splitlines()
    return next(line.strip() for line in lines if line.strip().startswith("drk_"))


def submit(port: int, token: str, steps: int) -> str:
    body = {
        "query": CREATE,
        "variables": {
            "input": {
                "prompt": "a red fox",
                "width": 256,
                "height": 256,
                "inferenceSteps": steps,
            }
        },
    }
    answer = httpx.post(
        f"http://127.0.0.1:{port}/graphql",
        json=body,
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    ).json()
    assert answer["data"]["generationCreate"]["userErrors"] == [], answer
    return str(answer["data"]["generationCreate"]["job"]["id"])


def follow(port: int, token: str, job_id: str) -> ClientConnection:
    socket = connect(
        f"ws://127.0.0.1:{port}/graphql", subprotocols=["graphql-transport-ws"]
    )
    socket.send(
        json.dumps(
            {"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}
        )
    )
    assert json.loads(socket.recv(10))["type"] == "connection_ack"
    socket.send(
        json.dumps(
            {
                "id": "1",
                "type": "subscribe",
                "payload": {"query": FOLLOW, "variables": {"id": job_id}},
            }
        )
    )
    return socket


def updates_until(socket: ClientConnection, wanted: str) -> list[str]:
    """The update types received up to and including `wanted`."""
    seen = []
    while not seen or seen[-1] != wanted:
        message = json.loads(socket.recv(60))
        if message["type"] == "next":
            seen.append(message["payload"]["data"]["jobUpdates"]["type"])
    return seen


def close_code(socket: ClientConnection) -> tuple[list[str], int | None, str]:
    """What came before the server closed the socket, and its close code."""
    seen = []
    try:
        while True:
            message = json.loads(socket.recv(60))
            if message["type"] == "next":
                seen.append(message["payload"]["data"]["jobUpdates"]["type"])
    except ConnectionClosed as closed:
        frame = closed.rcvd
        return (
            seen,
            None if frame is None else frame.code,
            (frame.reason if frame else ""),
        )


def job_row(data_dir: Path, job_id: str) -> tuple[str, int, int]:
    with sqlite3.connect(data_dir / "darkroom.db") as db:
        row = db.execute(
            "SELECT status, attempts, refunded FROM jobs WHERE replace(id, '-', '') = ?",
            (job_id_hex(job_id),),
        ).fetchone()
    return row


def job_id_hex(global_id: str) -> str:
    import base64

    padded = global_id + "=" * (-len(global_id) % 4)
    return base64.b64decode(padded).decode().split(":", 1)[1].replace("-", "")


def wait_exit(process: subprocess.Popen[str], timeout: float) -> int | None:
    try:
        return process.wait(timeout)
    except subprocess.TimeoutExpired:
        return None


def test_sigterm_mid_job_refuses_new_work_finishes_the_job_then_closes_with_1001(
    tmp_path: Path,
):
    # given a server running a job that a websocket follows, with a drain long
    # enough for it on a busy machine (the default 25 s is a second's work here)
    data_dir = tmp_path / "data"
    with server(data_dir, DARKROOM_DRAIN_SECONDS="120") as (port, process):
        token = local_token(data_dir, port)
        job_id = submit(port, token, steps=30)
        socket = follow(port, token, job_id)
        assert "PROGRESS" in updates_until(socket, "PROGRESS")
        # when it is sent SIGTERM
        process.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        # then a new request is refused with a coded 503 and Retry-After
        refused = httpx.post(
            f"http://127.0.0.1:{port}/graphql",
            json=ME,
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        assert refused.status_code == 503
        assert refused.headers["retry-after"]
        assert refused.json()["errors"][0]["extensions"]["code"] == "UNAVAILABLE"
        ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=10)
        assert (ready.status_code, ready.json()["status"]) == (503, "draining")
        # and the subscriber gets the job's end, then a 1001 close with a reason
        seen, code, reason = close_code(socket)
        assert seen[-1] == "SUCCEEDED", seen
        assert code == 1001
        assert "reconnect" in reason
        # and the server exits as uvicorn does, by the signal it was sent
        assert wait_exit(process, 150) == -signal.SIGTERM, log_of(data_dir, port)
    assert job_row(data_dir, job_id) == ("SUCCEEDED", 1, 0)


def test_a_job_longer_than_the_drain_is_handed_back_and_finishes_after_a_restart(
    tmp_path: Path,
):
    # given a server that drains for at most 1 s, running a long followed job
    data_dir = tmp_path / "data"
    with server(data_dir, DARKROOM_DRAIN_SECONDS="1") as (port, process):
        token = local_token(data_dir, port)
        job_id = submit(port, token, steps=50)
        socket = follow(port, token, job_id)
        updates_until(socket, "PROGRESS")
        # when it is sent SIGTERM
        process.send_signal(signal.SIGTERM)
        # then the subscriber is told to reconnect before the job ends
        seen, code, _reason = close_code(socket)
        assert code == 1001
        assert "SUCCEEDED" not in seen
        assert wait_exit(process, 60) == -signal.SIGTERM, log_of(data_dir, port)
        assert "handed back 1 unfinished job(s)" in log_of(data_dir, port)
    status, attempts, refunded = job_row(data_dir, job_id)
    assert (status, attempts, refunded) == ("RUNNING", 1, 0)
    # and after a restart the job runs again at once and ends, charged once
    with server(data_dir) as (port, process):
        socket = follow(port, token, job_id)
        assert updates_until(socket, "SUCCEEDED")[-1] == "SUCCEEDED"
    assert job_row(data_dir, job_id) == ("SUCCEEDED", 2, 0)


def test_sigterm_ends_an_sse_stream_cleanly_once_the_drain_is_over(tmp_path: Path):
    # given a server that drains for at most 1 s, running a long job that a
    # graphql-sse stream follows
    data_dir = tmp_path / "data"
    with server(data_dir, DARKROOM_DRAIN_SECONDS="1") as (port, process):
        token = local_token(data_dir, port)
        job_id = submit(port, token, steps=50)
        headers = {"Accept": "text/event-stream", "Authorization": f"Bearer {token}"}
        body = {"query": FOLLOW, "variables": {"id": job_id}}
        url = f"http://127.0.0.1:{port}/graphql"
        with httpx.stream("POST", url, json=body, headers=headers, timeout=60) as sse:
            lines = sse.iter_lines()
            while "PROGRESS" not in next(lines):
                pass
            # when it is sent SIGTERM
            process.send_signal(signal.SIGTERM)
            # then the stream ends with a coded reason to reconnect, then
            # `complete`, rather than breaking off
            rest = [line for line in lines if line.startswith("data: ")]
        assert rest[-1] == "data: "  # the `complete` event
        last = json.loads(rest[-2].removeprefix("data: "))
        assert last["errors"][0]["extensions"]["code"] == "UNAVAILABLE"
        assert "reconnect" in last["errors"][0]["message"]
        assert wait_exit(process, 60) == -signal.SIGTERM, log_of(data_dir, port)
