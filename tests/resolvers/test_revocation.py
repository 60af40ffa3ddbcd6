"""Revoking a token closes its open websockets within seconds, wherever it happens."""

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.testclient import WebSocketTestSession
from strawberry import relay

from core.enums import Scope
from core.models import ApiToken
from core.tokens import create_token, hash_secret, revoke_token
from tests.conftest import Api

MY_UPDATES = "subscription { myJobUpdates { type } }"
REVOKE = """mutation($id: ID!) {
  apiTokenRevoke(id: $id) { apiToken { id } userErrors { code } }
}"""
CHECK_SECONDS = 0.2


@pytest.fixture(autouse=True)
def quick_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Check every 0.2 s (the app reads its settings from the environment too)."""
    monkeypatch.setenv("DARKROOM_REVOCATION_CHECK_SECONDS", str(CHECK_SECONDS))


def token_row(api: Api, secret: str) -> ApiToken:
    async def work(session: AsyncSession) -> ApiToken:
        row = await session.scalar(
            sa.select(ApiToken).where(ApiToken.secret_hash == hash_secret(secret))
        )
        assert row is not None
        return row

    return api.run(work)


def second_token(api: Api, secret: str) -> str:
    """Another MANAGE token of the same account."""
    owner = token_row(api, secret).user_id

    async def work(session: AsyncSession) -> str:
        _token, other = await create_token(session, user_id=owner, scopes=list(Scope))
        return other

    return api.run(work)


def subscribed(ws: WebSocketTestSession, secret: str) -> None:
    """Authenticate, then follow every job of the account (a stream that never ends)."""
    ws.send_json(
        {"type": "connection_init", "payload": {"Authorization": f"Bearer {secret}"}}
    )
    assert ws.receive_json()["type"] == "connection_ack"
    ws.send_json({"id": "1", "type": "subscribe", "payload": {"query": MY_UPDATES}})


def closed_within(ws: WebSocketTestSession, seconds: float) -> dict[str, Any]:
    """The close message, which must come within `seconds`; nothing else may.

    ws.receive() blocks for good; a thread gives it a deadline, so a socket left
    open fails the test instead of hanging it.
    """
    pool = ThreadPoolExecutor(max_workers=1)
    try:
        message: dict[str, Any] = pool.submit(ws.receive).result(timeout=seconds)
    finally:
        pool.shutdown(wait=False)
    assert message["type"] == "websocket.close", message
    return message


def revoke_through_the_api(api: Api, secret: str) -> None:
    other = second_token(api, secret)
    global_id = relay.to_base64("ApiToken", str(token_row(api, secret).id))
    payload = api.data(REVOKE, {"id": global_id}, token=other)["apiTokenRevoke"]
    assert payload["userErrors"] == []


def revoke_in_another_process(api: Api, secret: str) -> None:
    # As `darkroom token revoke` does: straight through core, on its own engine.
    row = token_row(api, secret)

    async def work(session: AsyncSession) -> None:
        await revoke_token(session, user_id=row.user_id, token_id=row.id)

    api.run(work)


@pytest.mark.parametrize("revoke", [revoke_through_the_api, revoke_in_another_process])
def test_revoking_a_token_closes_its_open_websocket_with_4403(
    api: Api, revoke: Callable[[Api, str], None]
) -> None:
    # given a websocket with a running subscription
    secret = api.account("ana@example.com")
    with api.client.websocket_connect(
        "/graphql", subprotocols=["graphql-transport-ws"]
    ) as ws:
        subscribed(ws, secret)
        # when its token is revoked
        revoke(api, secret)
        # then the socket is closed as Forbidden within a few seconds
        message = closed_within(ws, 3)
        assert message["code"] == 4403
    # and a new connection with that token is refused at once
    with api.client.websocket_connect(
        "/graphql", subprotocols=["graphql-transport-ws"]
    ) as ws:
        ws.send_json(
            {
                "type": "connection_init",
                "payload": {"Authorization": f"Bearer {secret}"},
            }
        )
        assert ws.receive()["code"] == 4403


def test_revoking_one_token_leaves_the_accounts_other_sockets_open(api: Api) -> None:
    # given two sockets of one account on two tokens
    kept = api.account("bo@example.com")
    revoked = second_token(api, kept)
    connect = api.client.websocket_connect
    with (
        connect("/graphql", subprotocols=["graphql-transport-ws"]) as stays,
        connect("/graphql", subprotocols=["graphql-transport-ws"]) as goes,
    ):
        subscribed(stays, kept)
        subscribed(goes, revoked)
        # when one token is revoked
        revoke_in_another_process(api, revoked)
        assert closed_within(goes, 3)["code"] == 4403
        # then the other socket still answers
        stays.send_json({"type": "ping"})
        assert stays.receive_json()["type"] == "pong"


def test_a_revoked_tokens_legacy_graphql_ws_socket_is_closed_too(api: Api) -> None:
    secret = api.account("cy@example.com")
    with api.client.websocket_connect("/graphql", subprotocols=["graphql-ws"]) as ws:
        ws.send_json(
            {
                "type": "connection_init",
                "payload": {"Authorization": f"Bearer {secret}"},
            }
        )
        assert ws.receive_json()["type"] == "connection_ack"
        ws.send_json({"id": "1", "type": "start", "payload": {"query": MY_UPDATES}})
        revoke_in_another_process(api, secret)
        assert closed_within(ws, 3)["code"] == 4403


ME = "{ me { email } }"


@pytest.mark.parametrize(
    ("revoke", "within"),
    [(revoke_through_the_api, 0.0), (revoke_in_another_process, 2.0)],
)
def test_a_revoked_token_is_refused_over_http_at_once_here_and_within_seconds_elsewhere(
    api: Api, revoke: Callable[[Api, str], None], within: float
) -> None:
    # given a token whose caller the API has cached by using it
    secret = api.account("cy@example.com")
    assert api.data(ME, token=secret)["me"]["email"] == "cy@example.com"
    # when it is revoked
    revoke(api, secret)
    revoked_at = time.monotonic()
    # then requests with it are refused: at once when revoked through this API
    # (the cache forgets it), within the cache's few seconds when revoked elsewhere
    while "errors" not in (body := api.post(ME, token=secret)):
        assert time.monotonic() - revoked_at <= within, body
        time.sleep(0.05)
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
