"""Open websockets, HTTP subscription streams and their tokens (or console
sessions): a revoked token's, or an ended session's, connections close within
seconds.

A websocket authenticates once, at connection_init, and may then stay open for
hours. Revocation can happen anywhere (this process, another API process, the
CLI), so each API process checks its own sockets: every few seconds, one query
for all the tokens they hold. A socket whose token was revoked, or whose account
is gone, is closed with 4403 (graphql-transport-ws "Forbidden"); closing it ends
its running subscriptions, and a new connection with that token is refused at
connection_init as before. An HTTP subscription stream (api/streams.py) is held
the same way and ended with an UNAUTHENTICATED error.
"""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from api.streams import HttpStream
from core.db import Database
from core.errors import ErrorCode
from core.sessions import live_session_ids
from core.tokens import active_token_ids
from resolvers.context import Context

log = logging.getLogger("darkroom.api")

FORBIDDEN = 4403  # graphql-transport-ws "Forbidden", also what a bad token gets
REVOKED = (
    "the token this stream authenticated with was revoked, or its account is "
    "gone; open a new one with a valid token"
)

Connection = WebSocket | HttpStream


class SocketRegistry:
    """The websockets and HTTP streams this process holds open, by the context
    that authenticated them."""

    def __init__(self, db: Database, *, interval: float) -> None:
        self.db = db
        self.interval = interval
        # Keyed by id(): contexts are unhashable dataclasses. Entries leave at
        # the first check after their connection closed, so nothing else tracks it.
        self._open: dict[int, tuple[Context, Connection]] = {}

    def add(self, context: Context, connection: HttpStream | None = None) -> None:
        """Track an authenticated websocket (the context's request), or an HTTP
        stream, until it closes."""
        held = connection if connection is not None else context.request
        if isinstance(held, Connection):
            self._open[id(context)] = (context, held)

    async def check(self) -> None:
        """Close every open connection whose token no longer authenticates."""
        self._open = {k: e for k, e in self._open.items() if _is_open(e[1])}
        # Sockets that connect while the query runs wait for the next check.
        checked = [(k, c, conn) for k, (c, conn) in self._open.items()]
        callers = [c.caller for _, c, _ in checked if c.caller]
        tokens = {c.token_id for c in callers if c.token_id is not None}
        sessions = {c.session_id for c in callers if c.session_id is not None}
        if not tokens and not sessions:
            return
        async with self.db.session() as session:
            active = await active_token_ids(session, token_ids=tokens)
            active |= await live_session_ids(session, session_ids=sessions)
        for key, context, connection in checked:
            caller = context.caller
            if caller is None or (caller.token_id or caller.session_id) in active:
                continue
            # Refuse anything that races the close on this connection.
            context.caller = None
            self._open.pop(key, None)
            if isinstance(connection, HttpStream):
                connection.end(ErrorCode.UNAUTHENTICATED, REVOKED)
            else:
                await _close(connection, code=FORBIDDEN, reason="Forbidden")

    async def close_all(self, code: int, reason: str) -> int:
        """Close every open connection (a stopping server's last word); how many.

        Websockets close with `code`; HTTP streams end with an UNAVAILABLE error
        carrying `reason`.
        """
        open_now = [held for _, held in self._open.values() if _is_open(held)]
        self._open.clear()
        for connection in open_now:
            if isinstance(connection, HttpStream):
                connection.end(ErrorCode.UNAVAILABLE, reason)
            else:
                await _close(connection, code=code, reason=reason)
        return len(open_now)

    @contextlib.asynccontextmanager
    async def watching(self) -> AsyncIterator[None]:
        """Check every `interval` seconds for as long as the block runs."""
        task = asyncio.create_task(self._watch(), name="revocation-check")
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.check()
            except Exception:  # a database hiccup must not end the watch
                log.exception("checking websocket tokens failed; retrying")


def _is_open(connection: Connection) -> bool:
    if isinstance(connection, HttpStream):
        return connection.open
    return (
        isinstance(connection, WebSocket)
        and connection.client_state is not WebSocketState.DISCONNECTED
        and connection.application_state is not WebSocketState.DISCONNECTED
    )


async def _close(connection: WebSocket, *, code: int, reason: str) -> None:
    # The client may be leaving at this very moment; either way it is closed.
    with contextlib.suppress(RuntimeError, OSError, WebSocketDisconnect):
        await connection.close(code=code, reason=reason)
