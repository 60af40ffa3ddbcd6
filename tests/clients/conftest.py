"""A live server for the client tests: `darkroom serve` on the embedded default."""

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn

from core.settings import Settings
from darkroom.first_start import local_access, prepare_embedded
from darkroom.services import build_app


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
        # The clients' tests register webhook endpoints on loopback addresses.
        webhook_allow_private=True,
    )
    # What `darkroom serve` does on a first start: migrate, create an account.
    prepare_embedded(settings)
    token = asyncio.run(local_access(settings)).secret
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
