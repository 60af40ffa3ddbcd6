"""Ending a console session closes its open websockets, as revoking a token
closes the token's: signing out this browser, or every browser of the account."""

import pytest
from starlette.testclient import WebSocketTestSession

from tests.conftest import Api
from tests.console.signing import ORIGIN, sign_in
from tests.resolvers.test_revocation import MY_UPDATES, closed_within


@pytest.fixture(autouse=True)
def quick_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Check every 0.2 s (the app reads its settings from the environment too)."""
    monkeypatch.setenv("DARKROOM_REVOCATION_CHECK_SECONDS", "0.2")


def following(ws: WebSocketTestSession, csrf: str) -> None:
    """Authenticate by the cookie, then follow every job of the account."""
    ws.send_json({"type": "connection_init", "payload": {"csrfToken": csrf}})
    assert ws.receive_json()["type"] == "connection_ack"
    ws.send_json({"id": "1", "type": "subscribe", "payload": {"query": MY_UPDATES}})


def sign_out(api: Api, csrf: str, *, everywhere: bool) -> None:
    response = api.client.post(
        "/console/logout",
        json={"everywhere": everywhere},
        headers={"Origin": ORIGIN, "X-CSRF-Token": csrf},
    )
    assert response.status_code == 200, response.text


def test_signing_out_closes_the_sessions_websocket_with_4403(api: Api) -> None:
    # given a console session following its jobs over a websocket
    csrf = sign_in(api)
    with api.client.websocket_connect(
        "/graphql", subprotocols=["graphql-transport-ws"], headers={"Origin": ORIGIN}
    ) as ws:
        following(ws, csrf)
        # when the browser signs out
        sign_out(api, csrf, everywhere=False)
        # then the socket is closed as Forbidden within a few checks
        assert closed_within(ws, 3)["code"] == 4403


def test_signing_out_everywhere_closes_another_browsers_websocket(api: Api) -> None:
    # given one browser's session following its jobs over a websocket
    api.account("dee@example.com")
    first = sign_in(api, "dee@example.com")
    with api.client.websocket_connect(
        "/graphql", subprotocols=["graphql-transport-ws"], headers={"Origin": ORIGIN}
    ) as ws:
        following(ws, first)
        # when a second session of the account signs out everywhere
        second = sign_in(api, "dee@example.com")
        sign_out(api, second, everywhere=True)
        # then the first session's socket is closed as Forbidden too
        assert closed_within(ws, 3)["code"] == 4403
