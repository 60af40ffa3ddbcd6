"""Websocket protocol handlers that hold up against garbage frames.

Strawberry's handlers index every frame as a dict: a JSON array, a number or a
subscribe without a payload raised inside the connection's task. Here a frame
that is not a well-formed message closes the socket with 4400, as the
graphql-transport-ws spec asks for any invalid message, and the limit on
operations per connection answers with a coded error.
"""

from typing import Any

from graphql import GraphQLError
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler

from api.drain import Drain
from api.http import SHUTTING_DOWN
from core.errors import ErrorCode
from core.metrics import SUBSCRIPTIONS_ACTIVE
from core.text import text_problem
from resolvers.context import Context

INVALID_MESSAGE = 4400
_OPERATION_MESSAGES = {"subscribe", "start"}  # transport-ws, legacy graphql-ws


def message_problem(message: object) -> str | None:
    """Why a frame is not a message we can act on; None when it is fine."""
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        return "a message must be a JSON object with a string `type`"
    if message["type"] not in _OPERATION_MESSAGES:
        return None
    payload = message.get("payload")
    if not isinstance(message.get("id"), str) or not isinstance(payload, dict):
        return f"`{message['type']}` needs a string `id` and an object `payload`"
    if not isinstance(payload.get("query"), str):
        return "the payload needs a string `query`"
    for key, kind in (
        ("variables", dict),
        ("extensions", dict),
        ("operationName", str),
    ):
        if payload.get(key) is not None and not isinstance(payload[key], kind):
            return f"the payload's `{key}` must be {'an object' if kind is dict else 'a string'}"
    # Strawberry quotes an unknown operation name in its close reason, which must
    # encode as UTF-8.
    name = payload.get("operationName")
    if isinstance(name, str) and (problem := text_problem(name)):
        return f"the payload's `operationName` has invalid text: {problem}"
    return None


def limit_error(limit: int) -> GraphQLError:
    """The refusal of one operation too many on a connection."""
    return GraphQLError(
        f"at most {limit} operations may run at once on one connection; "
        "complete one first",
        extensions={"code": ErrorCode.TOO_MANY_SUBSCRIPTIONS.value},
    )


def shutting_down_error() -> GraphQLError:
    """The refusal of a new operation by a draining server."""
    return GraphQLError(SHUTTING_DOWN, extensions={"code": ErrorCode.UNAVAILABLE.value})


def _drain(handler: Any) -> Drain:
    """The drain of the handler's view (api/view.py's DarkroomGraphQL)."""
    drain: Drain = handler.view.drain
    return drain


class TransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """graphql-transport-ws, refusing malformed frames with 4400."""

    async def handle_message(self, message: Any) -> None:
        """Check the frame's shape before Strawberry indexes it."""
        problem = message_problem(message)
        if problem is not None:
            await self.handle_invalid_message(problem)
            return
        await super().handle_message(message)

    async def handle_subscribe(self, message: Any) -> None:
        """Refuse one operation too many, or any once draining, with a coded error."""
        if _drain(self).draining and message["id"] not in self.operations:
            await self.send_message(
                {
                    "id": message["id"],
                    "type": "error",
                    "payload": [shutting_down_error().formatted],
                }
            )
            return
        limit = self.max_subscriptions_per_connection
        if (
            self.connection_acknowledged
            and limit is not None
            and message["id"] not in self.operations
            and len(self.operations) >= limit
        ):
            error = limit_error(limit)
            await self.send_message(
                {"id": message["id"], "type": "error", "payload": [error.formatted]}
            )
            return
        await super().handle_subscribe(message)

    async def run_operation(self, operation: Any) -> None:
        """Strawberry's operation task, counted while it runs."""
        with SUBSCRIPTIONS_ACTIVE.track_inprogress(), _drain(self).operation():
            await super().run_operation(operation)


class LegacyWSHandler(BaseGraphQLWSHandler[Context, None]):
    """The legacy graphql-ws protocol, with the same checks."""

    async def handle_message(self, message: Any) -> None:
        """Close on a malformed frame instead of failing inside the task."""
        problem = message_problem(message)
        if problem is not None:
            await self.websocket.close(code=INVALID_MESSAGE, reason=problem)
            return
        await super().handle_message(message)

    async def handle_start(self, message: Any) -> None:
        """Refuse one operation too many, or any once draining, with a coded error."""
        if _drain(self).draining and message["id"] not in self.tasks:
            error = shutting_down_error()
            await self.send_message(
                {"type": "error", "id": message["id"], "payload": error.formatted}
            )
            return
        limit = self.max_subscriptions_per_connection
        if (
            self.connection_acknowledged
            and limit is not None
            and message["id"] not in self.tasks
            and len(self.tasks) >= limit
        ):
            error = limit_error(limit)
            await self.send_message(
                {"type": "error", "id": message["id"], "payload": error.formatted}
            )
            return
        await super().handle_start(message)

    async def handle_async_results(self, *args: Any, **kwargs: Any) -> None:
        """Strawberry's operation task, counted while it runs."""
        with SUBSCRIPTIONS_ACTIVE.track_inprogress(), _drain(self).operation():
            await super().handle_async_results(*args, **kwargs)
