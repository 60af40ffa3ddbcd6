"""`darkroom serve` as a real process: first start, printed token, HTTP queries,
and the in-process engine's threads and warm-up."""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

ME = {"query": "{ me { email credits { total } } }"}
CREATE = """mutation { generationCreate(input: {prompt: "a red fox", width: 64,
  height: 64, inferenceSteps: 2, numOutputs: 1}, wait: 60) {
  job { status outputs { index } } userErrors { code } } }"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Served:
    """A running `darkroom serve`: where it listens, its token, its output so far."""

    url: str
    token: str
    process: "subprocess.Popen[str]"
    lines: list[str]

    def output(self) -> str:
        """Everything it printed (stdout and stderr), once it has stopped."""
        self.process.terminate()
        rest, _ = self.process.communicate(timeout=30)
        self.lines.append(rest)
        return "".join(self.lines)


@contextmanager
def serve(data_dir: Path, **env: str) -> Iterator[Served]:
    """Start `darkroom serve` on an empty data folder; yield once it answers."""
    port = free_port()
    environ = {**os.environ, "DARKROOM_DATA_DIR": str(data_dir), **env}
    environ.pop("DARKROOM_DATABASE_URL", None)
    environ.pop("DARKROOM_REDIS_URL", None)
    darkroom = Path(sys.executable).parent / "darkroom"
    process = subprocess.Popen(
        [str(darkroom), "serve", "--port", str(port)],
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
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
        while time.monotonic() < deadline:
            try:
                httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        yield Served(f"http://127.0.0.1:{port}/graphql", token, process, lines)
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=30)
        if process.stdout:
            process.stdout.close()


def test_serve_starts_from_nothing_and_answers_with_the_printed_token(
    tmp_path: Path,
) -> None:
    # given an empty data folder
    # when the server has printed its token and is listening
    with serve(tmp_path / "data") as served:
        # then the token answers with the local account
        auth = {"Authorization": f"Bearer {served.token}"}
        me = httpx.post(served.url, json=ME, headers=auth).json()
        assert me["data"]["me"]["email"] == "local@darkroom.localhost"
        assert me["data"]["me"]["credits"]["total"] == 1000
        # and a wrong token is UNAUTHENTICATED with HTTP 200, never a 500
        wrong = httpx.post(
            served.url, json=ME, headers={"Authorization": "Bearer drk_nope"}
        )
        assert wrong.status_code == 200
        assert wrong.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_serve_sets_torch_threads_before_torch_loads_and_warms_up_behind_requests(
    tmp_path: Path,
) -> None:
    # given a server asked for one torch thread, whose OpenMP prints its settings
    with serve(
        tmp_path / "data", DARKROOM_TORCH_THREADS="1", OMP_DISPLAY_ENV="VERBOSE"
    ) as served:
        auth = {"Authorization": f"Bearer {served.token}"}
        # when a query and a job come in at once, while the engine warms up
        me = httpx.post(served.url, json=ME, headers=auth, timeout=30).json()
        created = httpx.post(
            served.url, json={"query": CREATE}, headers=auth, timeout=90
        ).json()
        output = served.output()
    # then the query was answered, and the job waited for the engine and succeeded
    assert me["data"]["me"]["email"] == "local@darkroom.localhost", output
    payload = created["data"]["generationCreate"]
    assert payload["userErrors"] == []
    assert payload["job"] == {"status": "SUCCEEDED", "outputs": [{"index": 0}]}
    # and torch's OpenMP loaded with the passive policy (it never spins) after
    # the engine took one thread, and the warm-up loaded the default models
    assert "GOMP_SPINCOUNT = '0'" in output
    assert "GOMP_SPINCOUNT = '300000'" not in output
    assert "engine: 1 torch thread(s)" in output
    assert "did not take effect" not in output
    assert "engine ready in" in output
