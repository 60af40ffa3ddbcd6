"""GraphiQL in real headless Chromium, served by a real server on loopback."""

import asyncio
import json
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import uvicorn

from core.credits import FreeCreditPolicy
from core.db import Database
from core.enums import Scope, Tier
from core.settings import Settings
from tests.api.chromium import Page, chromium

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]

TINY_MODEL = "Darkroom tiny (random noise)"
QUERY_EDITOR = (
    "document.querySelector('[aria-label=\"Query Editor\"] .CodeMirror')?.CodeMirror"
)
# The open tool below the query editor: Headers, as the page opens it.
OPEN_TOOL = (
    "document.querySelector('.graphiql-editor-tool .graphiql-editor:not(.hidden) "
    ".CodeMirror')?.CodeMirror"
)
RESULT = (
    '(() => { const e = document.querySelector(\'[aria-label="Result Window"] '
    ".CodeMirror'); return e ? e.CodeMirror.getValue() : ''; })()"
)
ACTIVE_TAB = "document.querySelector('.graphiql-tab-active').innerText.trim()"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def settings(tmp_path: Path, sqlite_database_url: str) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url=sqlite_database_url)


@pytest.fixture
def live_server(settings: Settings) -> Iterator[str]:
    """The app under uvicorn on a free loopback port, in this process."""
    from darkroom.services import build_app

    port = free_port()
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
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=30)


@pytest.fixture
def page(tmp_path: Path) -> Iterator[Page]:
    profile = tmp_path / "chromium"
    profile.mkdir()
    with chromium(profile) as tab:
        yield tab


def token_for(settings: Settings) -> str:
    """A new account's token secret, made on the server's database."""
    from core.accounts import create_user
    from core.tokens import create_token

    async def make() -> str:
        database = Database(settings.resolved_database_url)
        try:
            async with database.session() as session:
                user = await create_user(
                    session,
                    email=f"{uuid.uuid4().hex[:10]}@example.com",
                    tier=Tier.PRO,
                    credits=0,
                    policy=FreeCreditPolicy.from_settings(settings),
                )
                _token, secret = await create_token(
                    session, user_id=user.id, scopes=[Scope.GENERATE, Scope.READ]
                )
                return secret
        finally:
            await database.dispose()

    return asyncio.run(make())


def open_graphiql(page: Page, base: str) -> None:
    page.send("Page.navigate", url=f"{base}/graphql")
    page.wait_for(f"!!{QUERY_EDITOR}")


def run(page: Page, query: str) -> dict:
    """Replace the query, run it with the play button, return the result pane."""
    page.evaluate(f"{QUERY_EDITOR}.setValue({json.dumps(query)})")
    # GraphiQL reads the operation name from the editor after a short delay;
    # the tab's title follows it, so wait for the title before pressing play.
    page.wait_for(f"{ACTIVE_TAB} !== 'Catalog'")
    page.evaluate("document.querySelector('.graphiql-execute-button').click()")
    return json.loads(page.wait_for(RESULT))


def leaving_loopback(page: Page, base: str) -> list[str]:
    """Requested URLs that are neither the server itself nor inline data."""
    origin = urlsplit(base).netloc
    return [
        url
        for url in page.requested_urls()
        if not url.startswith("data:") and urlsplit(url).netloc != origin
    ]


def test_graphiql_runs_a_query_offline_and_shows_the_result(
    live_server: str, page: Page
) -> None:
    # given GraphiQL opened from the server, with no network beyond loopback
    open_graphiql(page, live_server)
    # then it opens on the saved operations with the Headers tab prefilled
    tabs = page.evaluate(
        "Array.from(document.querySelectorAll('.graphiql-tab')).map(t => t.innerText.trim())"
    )
    assert tabs == ["Catalog", "Generate", "WatchJob", "History"]
    headers = json.loads(page.evaluate(f"{OPEN_TOOL}.getValue()"))
    assert headers == {"Authorization": "Bearer drk_..."}
    # when it runs `{ models { name } }`
    result = run(page, "{ models { name } }")
    # then the result pane shows the tiny model
    assert {"name": TINY_MODEL} in result["data"]["models"]
    # and nothing was fetched from beyond the server, and nothing failed
    assert page.requested_urls()
    assert leaving_loopback(page, live_server) == []
    assert page.problems() == []


def test_graphiql_subscribes_over_a_websocket_with_the_headers_tab(
    live_server: str, page: Page, settings: Settings
) -> None:
    # given GraphiQL with a real token in its Headers tab
    secret = token_for(settings)
    open_graphiql(page, live_server)
    page.evaluate(
        f"{OPEN_TOOL}.setValue({json.dumps(json.dumps({'Authorization': f'Bearer {secret}'}))})"
    )
    # when it subscribes to a job that does not exist
    missing = "Sm9iOjAwMDAwMDAwLTAwMDAtMDAwMC0wMDAwLTAwMDAwMDAwMDAwMA=="
    result = run(page, f'subscription {{ jobUpdates(jobId: "{missing}") {{ type }} }}')
    # then the server authenticated the socket from the header and answered
    assert result["errors"][0]["extensions"]["code"] == "NOT_FOUND", result
    # over graphql-transport-ws to the same server
    sockets = [
        e["params"]["url"]
        for e in page.events
        if e.get("method") == "Network.webSocketCreated"
    ]
    assert sockets == [live_server.replace("http://", "ws://") + "/graphql"]
    assert leaving_loopback(page, live_server) == []
