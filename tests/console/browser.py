"""A live server and a signed-in Chromium tab for the console's browser tests:
the GraphiQL test's uvicorn-in-a-thread server and CDP driver (tests/api/)."""

import asyncio
import json
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import uvicorn

from core.accounts import create_user
from core.credits import FreeCreditPolicy
from core.db import Database
from core.enums import Scope, Tier
from core.sessions import create_login_code
from core.settings import Settings
from core.tokens import create_token
from tests.api.chromium import Page


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(settings: Settings) -> Iterator[str]:
    """The app under uvicorn on the settings' loopback port, in this process."""
    from darkroom.services import build_app

    port = urlsplit(settings.public_base_url).port
    server = uvicorn.Server(
        uvicorn.Config(
            build_app(settings), host="127.0.0.1", port=port, log_level="warning"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    try:
        yield settings.public_base_url
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def new_account(
    settings: Settings, *, credits: int = 50, scopes: tuple[Scope, ...] = ()
) -> tuple[str, str, str | None]:
    """A new PRO account on the server's database: its email, a sign-in code,
    and a token with `scopes` when any are asked for."""

    async def make() -> tuple[str, str, str | None]:
        database = Database(settings.resolved_database_url)
        try:
            async with database.session() as session:
                user = await create_user(
                    session,
                    email=f"{uuid.uuid4().hex[:10]}@example.com",
                    tier=Tier.PRO,
                    credits=credits,
                    policy=FreeCreditPolicy.from_settings(settings),
                )
                code = await create_login_code(session, user_id=user.id)
                secret = None
                if scopes:
                    _token, secret = await create_token(
                        session, user_id=user.id, scopes=scopes
                    )
                return user.email, code, secret
        finally:
            await database.dispose()

    return asyncio.run(make())


def sign_in(page: Page, base: str, code: str) -> None:
    """Open the link, press its button, land on the account page."""
    page.send("Page.navigate", url=f"{base}/console/login?code={code}")
    page.wait_for("!!document.querySelector('#sign-in')")
    page.evaluate("document.querySelector('#sign-in').click()")
    page.wait_for("!!document.querySelector('#account-email')")


def click(page: Page, selector: str) -> None:
    """Click the element the selector names (waiting for it first)."""
    found = f"document.querySelector({json.dumps(selector)})"
    page.wait_for(f"!!{found}")
    page.evaluate(f"{found}.click()")


def type_into(page: Page, selector: str, text: str) -> None:
    """Set a field's value and fire the input event the page listens to."""
    found = f"document.querySelector({json.dumps(selector)})"
    page.wait_for(f"!!{found}")
    page.evaluate(
        f"(() => {{ const e = {found}; e.value = {json.dumps(text)};"
        " e.dispatchEvent(new Event('input', {bubbles: true})); })()"
    )


def text_of(page: Page, selector: str) -> str:
    value = page.evaluate(
        f"document.querySelector({json.dumps(selector)})?.innerText ?? ''"
    )
    return str(value)


def leaving_loopback(page: Page, base: str) -> list[str]:
    """Requested URLs that are neither the server itself nor inline data."""
    origin = urlsplit(base).netloc
    return [
        url
        for url in page.requested_urls()
        if not url.startswith(("data:", "blob:")) and urlsplit(url).netloc != origin
    ]


def received_frames(page: Page) -> list[dict[str, object]]:
    """The websocket messages the page received, decoded."""
    return [
        json.loads(e["params"]["response"]["payloadData"])
        for e in page.events
        if e.get("method") == "Network.webSocketFrameReceived"
    ]


def profile_dir(tmp_path: Path) -> Path:
    profile = tmp_path / "chromium"
    profile.mkdir()
    return profile


# What a page is made of, as opposed to the data it shows (API answers, images).
CODE_TYPES = ("Document", "Script", "Stylesheet", "Font")


def page_weight(page: Page) -> dict[str, int]:
    """Gzipped bytes of each file (document, scripts, styles, fonts) the page
    loaded: fetched again with Accept-Encoding gzip, or gzipped here when the
    server sends it plain (the HTML)."""
    import gzip

    import httpx

    urls = {
        e["params"]["response"]["url"]
        for e in page.events
        if e.get("method") == "Network.responseReceived"
        and e["params"]["type"] in CODE_TYPES
    }
    sizes = {}
    for url in sorted(urls):
        with httpx.stream("GET", url, headers={"Accept-Encoding": "gzip"}) as response:
            raw = b"".join(response.iter_raw())
            encoding = response.headers.get("content-encoding")
        if encoding != "gzip":
            raw = gzip.compress(raw, compresslevel=9)
        sizes[url] = len(raw)
    return sizes
