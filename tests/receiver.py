"""A real webhook receiver for tests: an HTTP server on loopback that records
each request and answers as told (a status per request, a redirect, or hanging)."""

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks import Webhook


class _V6Server(ThreadingHTTPServer):
    address_family = socket.AF_INET6


@dataclass(frozen=True)
class Received:
    """One request as the receiver saw it."""

    path: str
    headers: dict[str, str]
    body: str

    def verified(self, secret: str) -> dict[str, object]:
        """The body, after standardwebhooks checked its signature (raises if wrong)."""
        payload: dict[str, object] = Webhook(secret).verify(self.body, self.headers)
        return payload


class Receiver:
    """Answers each POST with the next of `statuses`, then `default`; with
    `hang`, holds every request open until closed."""

    def __init__(
        self,
        statuses: tuple[int, ...] = (),
        *,
        default: int = 200,
        location: str | None = None,
        hang: bool = False,
        host: str = "127.0.0.1",
    ) -> None:
        self.requests: list[Received] = []
        self._statuses = list(statuses)
        self._lock = threading.Lock()
        self._release = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", 0))
                body = self.rfile.read(length).decode()
                headers = {k.lower(): v for k, v in self.headers.items()}
                with receiver._lock:
                    receiver.requests.append(Received(self.path, headers, body))
                    status = (
                        receiver._statuses.pop(0) if receiver._statuses else default
                    )
                if hang:
                    receiver._release.wait(30)
                    return
                self.send_response(status)
                if location is not None:
                    self.send_header("Location", location)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: object) -> None:
                pass  # quiet test output

        server_class = _V6Server if ":" in host else ThreadingHTTPServer
        self.server = server_class((host, 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        shown = f"[{host}]" if ":" in host else host
        self.url = f"http://{shown}:{self.port}/hook"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def wait_for(self, count: int, timeout: float = 30) -> list[Received]:
        """The first `count` requests, once they have arrived."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                if len(self.requests) >= count:
                    return list(self.requests[:count])
            if time.monotonic() >= deadline:
                break
            time.sleep(0.02)
        raise AssertionError(f"{len(self.requests)} requests arrived, not {count}")

    async def arrived(self, count: int, timeout: float = 30) -> list[Received]:
        """As wait_for, from async code: the event loop keeps running meanwhile."""
        deadline = time.monotonic() + timeout
        while len(self.requests) < count and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        return self.wait_for(count, timeout=0)

    def close(self) -> None:
        """Release hanging requests and stop serving."""
        self._release.set()
        self.server.shutdown()
        self.server.server_close()


@contextmanager
def receiver(*statuses: int, **options: object) -> Iterator[Receiver]:
    """A running Receiver, closed afterwards."""
    started = Receiver(tuple(statuses), **options)  # type: ignore[arg-type]  # test helper
    try:
        yield started
    finally:
        started.close()
