"""Request ids: each HTTP request and websocket gets one, echoed and logged.

A client's own `X-Request-Id` is kept when it is a plain token of at most 128
characters (letters, digits, `.`, `_`, `-`); anything else is replaced by a new
one, so a log line never carries what a client chose to inject. The id comes
back in the `X-Request-Id` header and in every GraphQL error's
`extensions.requestId`, which is what a user quotes in a bug report.
"""

import logging
import re
import time
import uuid

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core import tracing
from core.logcontext import request_id

log = logging.getLogger("darkroom.access")
HEADER = "X-Request-Id"
_VALID = re.compile(r"[A-Za-z0-9._-]{1,128}")


def request_id_of(scope: Scope) -> str:
    """The client's id when it is well formed, a new one otherwise."""
    for key, value in scope.get("headers", ()):
        if key.lower() == b"x-request-id":
            given = str(value.decode("latin-1"))
            if _VALID.fullmatch(given):
                return given
            break
    return uuid.uuid4().hex


class RequestIds:
    """ASGI middleware: the id in context for the request and on its response,
    and one access line per HTTP request (path without its query, which may
    hold a signed link's signature)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        rid = request_id_of(scope)
        status = 0

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)[HEADER] = rid
            await send(message)

        token = request_id.set(rid)
        # On the request's span too, so that a trace and a log line meet.
        tracing.annotate("darkroom.request_id", rid)
        started = time.perf_counter()
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if scope["type"] == "http":
                took = (time.perf_counter() - started) * 1000
                log.info(
                    "%s %s %d %.1f ms", scope["method"], scope["path"], status, took
                )
            request_id.reset(token)
