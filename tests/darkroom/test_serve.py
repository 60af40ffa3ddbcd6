"""`darkroom serve` as a real process: first start, printed token, HTTP queries."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ME = {"query": "{ me { email credits { total } } }"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_starts_from_nothing_and_answers_with_the_printed_token(
    tmp_path: Path,
) -> None:
    # given an empty data folder and a free port
    port = free_port()
    env = {**os.environ, "DARKROOM_DATA_DIR": str(tmp_path / "data")}
    env.pop("DARKROOM_DATABASE_URL", None)
    env.pop("DARKROOM_REDIS_URL", None)
    darkroom = Path(sys.executable).parent / "darkroom"
    process = subprocess.Popen(
        [str(darkroom), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        # when it has printed its token and is listening
        lines: list[str] = []
        deadline = time.monotonic() + 120
        token = None
        while token is None and time.monotonic() < deadline:
            line = process.stdout.readline() if process.stdout else ""
            if not line and process.poll() is not None:
                break
            lines.append(line)
            if line.strip().startswith("drk_"):
                token = line.strip()
        assert token, "".join(lines)
        url = f"http://127.0.0.1:{port}/graphql"
        while time.monotonic() < deadline:
            try:
                httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        # then the token answers with the local account
        me = httpx.post(
            url, json=ME, headers={"Authorization": f"Bearer {token}"}
        ).json()
        assert me["data"]["me"]["email"] == "local@darkroom.localhost"
        assert me["data"]["me"]["credits"]["total"] == 1000
        # and a wrong token is UNAUTHENTICATED with HTTP 200, never a 500
        wrong = httpx.post(url, json=ME, headers={"Authorization": "Bearer drk_nope"})
        assert wrong.status_code == 200
        assert wrong.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    finally:
        process.terminate()
        process.wait(timeout=30)
        if process.stdout:
            process.stdout.close()
