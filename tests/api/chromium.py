"""Headless Chromium driven over the DevTools protocol, for the GraphiQL tests.

Plain CDP over the `websockets` package Darkroom already depends on: no
browser download, no Node, no driver to keep in step with Debian's chromium.
"""

import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.sync.client import ClientConnection, connect

INSTALL = "apt-get update && apt-get install -y chromium"

# Headless, and quiet: without the background-networking switches Chromium
# phones home (updates, safe browsing, sync) and floods refused connections.
# The resolver rule makes every name but 127.0.0.1 unresolvable, so the page
# cannot reach beyond loopback even if it tried.
FLAGS = [
    "--headless",
    "--no-sandbox",  # runs as root in CI containers
    "--disable-gpu",
    "--window-size=1280,900",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    "--remote-debugging-address=127.0.0.1",
    "--remote-debugging-port=0",
]


def chromium_binary() -> str:
    """Debian's chromium, or a failure that says how to install it."""
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary is None:
        pytest.fail(f"chromium is not installed; install it: {INSTALL}")
    return binary


class Page:
    """One browser tab: send commands, keep every event it reports."""

    def __init__(self, socket: ClientConnection) -> None:
        self.socket = socket
        self.events: list[dict[str, Any]] = []
        self._last_id = 0

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        """Run one command and return its result, recording events meanwhile."""
        self._last_id += 1
        self.socket.send(
            json.dumps({"id": self._last_id, "method": method, "params": params})
        )
        while True:
            message = json.loads(self.socket.recv(timeout=60))
            if message.get("id") != self._last_id:
                self.events.append(message)
                continue
            if "error" in message:
                raise RuntimeError(f"{method}: {message['error']}")
            result: dict[str, Any] = message["result"]
            return result

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page."""
        reply = self.send(
            "Runtime.evaluate",
            expression=expression,
            returnByValue=True,
            awaitPromise=True,
        )
        if "exceptionDetails" in reply:
            raise RuntimeError(f"{expression}: {reply['exceptionDetails']}")
        return reply["result"].get("value")

    def wait_for(self, expression: str, *, timeout: float = 60) -> Any:
        """Poll an expression until it is truthy; fail with what the page shows."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = self.evaluate(expression)
            if value:
                return value
            time.sleep(0.2)
        text = self.evaluate("document.body ? document.body.innerText : ''")
        problems = self.problems()
        pytest.fail(
            f"timed out waiting for {expression}\npage: {text[:2000]}\n{problems}"
        )

    def requested_urls(self) -> list[str]:
        """Every URL the page asked for: documents, files, fetches, websockets."""
        urls = []
        for event in self.events:
            if event.get("method") == "Network.requestWillBeSent":
                urls.append(event["params"]["request"]["url"])
            elif event.get("method") == "Network.webSocketCreated":
                urls.append(event["params"]["url"])
        return urls

    def problems(self) -> list[str]:
        """Uncaught exceptions and console errors (CSP refusals among them)."""
        found = []
        for event in self.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.exceptionThrown":
                details = params["exceptionDetails"]
                exception = details.get("exception", {})
                found.append(str(exception.get("description") or details))
            elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
                entry = params["entry"]
                found.append(f"{entry['source']}: {entry['text']} {entry.get('url')}")
            elif method == "Runtime.consoleAPICalled" and params["type"] == "error":
                args = (a.get("value", a.get("description")) for a in params["args"])
                found.append(" ".join(map(str, args)))
        return found


@contextmanager
def chromium(profile: Path) -> Iterator[Page]:
    """A headless Chromium with one blank tab, its network, log and runtime on."""
    binary = chromium_binary()  # before the log opens: a failure leaks no file
    log = (profile / "chromium.log").open("w")
    process = subprocess.Popen(
        [binary, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        # Chromium writes its debugging port here once it listens.
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 60
        while not port_file.exists() or not port_file.read_text().strip():
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(
                    f"chromium did not start: {(profile / 'chromium.log').read_text()}"
                )
            time.sleep(0.1)
        port = int(port_file.read_text().split()[0])
        targets = httpx.get(f"http://127.0.0.1:{port}/json/list", timeout=10).json()
        [tab] = [t for t in targets if t["type"] == "page"]
        with connect(tab["webSocketDebuggerUrl"], max_size=None) as socket:
            page = Page(socket)
            for domain in ("Network", "Runtime", "Log", "Page"):
                page.send(f"{domain}.enable")
            yield page
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
