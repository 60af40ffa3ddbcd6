"""Subscriptions over plain HTTP: graphql-sse and Apollo's multipart subscriptions.

For clients that cannot hold a websocket. Strawberry serves both transports at
/graphql (graphql-sse in its distinct-connections mode: a POST or GET with
`Accept: text/event-stream`; multipart: `Accept: multipart/mixed;subscriptionSpec=1.0`)
through the same schema, so fan-out, cost and rate limits apply as on a websocket.
What a websocket gets from its connection, a stream gets here: it authenticates
once, when it opens, and joins the socket registry (api/sockets.py), which ends it
within seconds of its token's revocation; the drain (api/drain.py) waits for it
and then ends it too. An ended stream says why in one last coded error, then
completes, so it never just breaks off mid-frame.
"""

import asyncio
import json
from collections.abc import AsyncGenerator, AsyncIterator

from graphql import GraphQLError
from strawberry.http.parse_content_type import parse_content_type
from strawberry.http.streaming import MultipartSubscriptionTransport, SSETransport

from core.errors import ErrorCode

_sse = SSETransport()
_multipart = MultipartSubscriptionTransport()
_dumps = json.JSONEncoder(separators=(",", ":")).encode


def wants_stream(accept: str) -> bool:
    """Whether an Accept header asks for a subscription stream over HTTP."""
    return _sse.accepts(accept) or _multipart.accepts(accept)


def _is_sse(content_type: str) -> bool:
    return parse_content_type(content_type)[0] == "text/event-stream"


class HttpStream:
    """One open subscription stream: whether it still runs, and how it is ended."""

    def __init__(self) -> None:
        self.finished = False
        self.error: GraphQLError | None = None
        self._ended = asyncio.Event()

    @property
    def open(self) -> bool:
        """Whether the stream still runs (the client may have left already)."""
        return not self.finished and not self._ended.is_set()

    def end(self, code: ErrorCode, message: str) -> None:
        """End the stream with one last error saying why."""
        if self.open:
            self.error = GraphQLError(message, extensions={"code": code.value})
            self._ended.set()

    async def guard(
        self, events: AsyncIterator[str], content_type: str
    ) -> AsyncIterator[str]:
        """Relay `events` (already framed) until they end or `end()` is called."""
        ended = asyncio.ensure_future(self._ended.wait())
        step: asyncio.Future[str] | None = None
        try:
            while True:
                step = asyncio.ensure_future(anext(events))
                await asyncio.wait({step, ended}, return_when=asyncio.FIRST_COMPLETED)
                if not step.done():
                    # Cancelling the pending read closes the subscription under it.
                    step.cancel()
                    await asyncio.wait({step})
                    assert self.error is not None  # set before the event
                    yield _last_words(self.error, content_type)
                    return
                try:
                    chunk = step.result()
                except StopAsyncIteration:
                    return
                yield chunk
        finally:
            self.finished = True
            ended.cancel()
            if step is not None and not step.done():
                # The client left mid-read: the generator is running in the read,
                # so cancelling the read is what closes it (aclose() would fail).
                step.cancel()
                _closing.add(step)
                step.add_done_callback(_closing.discard)
            elif isinstance(events, AsyncGenerator):  # what Strawberry hands over
                await events.aclose()


# Reads cancelled as their client left, held until they finish closing.
_closing: set["asyncio.Future[str]"] = set()


def _last_words(error: GraphQLError, content_type: str) -> str:
    """The error ending a stream, then its end, in the stream's own framing."""
    if _is_sse(content_type):
        # graphql-sse carries errors in `next`; `complete` tells the client it
        # was a deliberate end, not a network failure to retry.
        payload = _dumps({"errors": [error.formatted]})
        return _sse.encode_event("next", payload) + _sse.encode_complete()
    # Apollo's multipart spec: a transport error is `payload: null` with errors.
    message = {"payload": None, "errors": [error.formatted]}
    return _multipart.encode_multipart_data(message, _dumps) + "--\r\n"
