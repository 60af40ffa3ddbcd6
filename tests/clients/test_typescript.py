"""The TypeScript client in clients/typescript: its generated types match
schema.graphql, and its node tests pass against a live server."""

import asyncio
import hashlib
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn

from core.settings import Settings
from darkroom.cli import first_start_account, prepare_embedded
from darkroom.services import build_app

PACKAGE = Path(__file__).resolve().parents[2] / "clients" / "typescript"
INSTALL_NODE = (
    "install Node.js 20 or newer with npm (Debian: apt-get install nodejs npm, "
    "where its nodejs is 20 or newer; otherwise the nodejs.org or NodeSource builds)"
)
# npm ci wipes node_modules first, so it runs only when the lock changed.
STAMP = PACKAGE / "node_modules" / ".darkroom-stamp"

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]  # npm ci on a cold cache


def run(
    *command: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command,
        cwd=PACKAGE,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture(scope="module")
def npm() -> str:
    """npm, with node_modules installed from package-lock.json."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.fail(f"node or npm is missing; {INSTALL_NODE}")
    version = run(node, "--version").stdout.strip()
    if int(version.lstrip("v").split(".")[0]) < 20:
        pytest.fail(f"node {version} is too old; {INSTALL_NODE}")
    lock = hashlib.sha256((PACKAGE / "package-lock.json").read_bytes()).hexdigest()
    if not STAMP.exists() or STAMP.read_text() != lock:
        installed = run(npm, "ci", "--no-audit", "--no-fund")
        assert installed.returncode == 0, (
            f"npm ci failed in {PACKAGE}:\n{installed.stdout}{installed.stderr}"
        )
        STAMP.write_text(lock)
    return npm


@dataclass
class LiveServer:
    url: str
    token: str


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[LiveServer]:
    """`darkroom serve` on the embedded default, in a thread, on a free port."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url="",
        redis_url="",
        public_base_url=f"http://127.0.0.1:{port}",
    )
    # What `darkroom serve` does on a first start: migrate, create an account.
    prepare_embedded(settings)
    token = asyncio.run(first_start_account(settings))
    assert token is not None
    server = uvicorn.Server(
        uvicorn.Config(build_app(settings), log_level="warning", access_log=False)
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]})
    thread.start()
    try:
        deadline = time.monotonic() + 60
        while not server.started:
            assert thread.is_alive(), "uvicorn stopped before it started"
            assert time.monotonic() < deadline, "uvicorn did not start in 60 s"
            time.sleep(0.05)
        yield LiveServer(f"http://127.0.0.1:{port}/graphql", token)
    finally:
        server.should_exit = True
        thread.join(60)
        sock.close()


def test_the_generated_types_match_schema_graphql(npm: str) -> None:
    checked = run(npm, "run", "codegen:check")
    assert checked.returncode == 0, (
        "clients/typescript/src/generated/graphql.ts is stale against "
        "schema.graphql or operations/*.graphql; regenerate and commit it: "
        f"cd clients/typescript && npm run codegen\n{checked.stdout}{checked.stderr}"
    )


def test_the_client_passes_its_node_tests_against_a_live_server(
    npm: str, live_server: LiveServer
) -> None:
    env = {
        **os.environ,
        "DARKROOM_URL": live_server.url,
        "DARKROOM_TOKEN": live_server.token,
    }
    tested = run(npm, "test", env=env)
    assert tested.returncode == 0, f"npm test failed:\n{tested.stdout}{tested.stderr}"
