"""The HTTP edge of /graphql: body limits, refusals as GraphQL errors, media types.

A malformed request is the client's mistake, so it gets a 4xx with a GraphQL error
body (`errors[].extensions.code`), never a 500 or a plain-text page. Responses
follow the GraphQL-over-HTTP spec: `application/graphql-response+json` when the
client accepts it (4xx for request errors), else `application/json` with 200.
"""

import json
from collections.abc import Mapping
from typing import Any

from starlette.responses import Response
from starlette.types import Message, Receive, Scope
from strawberry.types import ExecutionResult

from core.errors import ErrorCode
from core.logcontext import request_id
from core.uploads import MAX_UPLOAD_BYTES

GRAPHQL_RESPONSE = "application/graphql-response+json"
# Filters nest a few levels (`_and` inside `_or`); nothing real comes near this.
MAX_JSON_DEPTH = 64
# The statuses Strawberry's own refusals use, and the codes they stand for.
_CODES = {
    405: ErrorCode.METHOD_NOT_ALLOWED,
    413: ErrorCode.PAYLOAD_TOO_LARGE,
}


class RequestRefused(Exception):  # noqa: N818  # reads as the event it reports
    """A request refused before any GraphQL ran: answered with `status`."""

    def __init__(
        self,
        status: int,
        message: str,
        code: ErrorCode | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.message = status, message
        self.code = code or _CODES.get(status, ErrorCode.BAD_REQUEST)
        self.headers = dict(headers or {})


# What a client waits before retrying while a dependency restarts.
RETRY_AFTER_SECONDS = 2
SHUTTING_DOWN = "the server is shutting down; retry in a moment"
DATABASE_UNAVAILABLE = (
    "the database is unavailable for a moment; retry after "
    f"{RETRY_AFTER_SECONDS} s (give submissions an idempotencyKey, so a retry "
    "cannot run or charge a job twice)"
)


def database_unavailable() -> RequestRefused:
    """The refusal of a request the database could not serve: 503, Retry-After."""
    return RequestRefused(
        503,
        DATABASE_UNAVAILABLE,
        ErrorCode.UNAVAILABLE,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def shutting_down() -> RequestRefused:
    """The refusal of a new operation by a draining server: 503, Retry-After."""
    return RequestRefused(
        503,
        SHUTTING_DOWN,
        ErrorCode.UNAVAILABLE,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def body_limit(scope: Scope, max_body_bytes: int) -> int:
    """The most bytes a request may send: an upload's limit plus its JSON parts."""
    content_type = _header(scope, b"content-type")
    if content_type.startswith("multipart/form-data"):
        return MAX_UPLOAD_BYTES + max_body_bytes
    return max_body_bytes


def limited_receive(scope: Scope, receive: Receive, limit: int) -> Receive:
    """`receive` that refuses a body past `limit` bytes as soon as it gets there.

    The declared Content-Length is checked first, so an honest large request is
    refused before a byte is read; a lying or chunked one when it passes the limit.
    """
    declared = _header(scope, b"content-length")
    if declared.isdigit() and int(declared) > limit:
        raise too_large(limit)
    seen = 0

    async def receive_within_limit() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise too_large(limit)
        return message

    return receive_within_limit


def too_large(limit: int) -> RequestRefused:
    """The refusal of a body over `limit` bytes."""
    return RequestRefused(413, f"the request body must be at most {limit:,} bytes")


def decode_json(data: str | bytes) -> object:
    """JSON that a handler can walk without recursing away: at most 64 levels deep.

    Raises json.JSONDecodeError for anything else, so HTTP answers 400 and a
    websocket closes with 4400, as for any other garbage.
    """
    try:
        value = json.loads(data)
    except RecursionError:
        raise json.JSONDecodeError("JSON nested too deeply", "", 0) from None
    except UnicodeDecodeError as err:
        raise json.JSONDecodeError("the body is not UTF-8", "", err.start) from None
    if _deeper_than(value, MAX_JSON_DEPTH):
        message = f"JSON nested deeper than {MAX_JSON_DEPTH} levels"
        raise json.JSONDecodeError(message, "", 0)
    return value


def parse_json_object(data: str | bytes) -> dict[str, Any]:
    """A JSON object from a request part; anything else is a 400."""
    try:
        value = decode_json(data)
    except json.JSONDecodeError as err:
        raise RequestRefused(400, f"the body is not valid JSON: {err.msg}") from None
    if not isinstance(value, dict):
        kind = type(value).__name__ if value is not None else "null"
        message = (
            "expected a JSON object (the request, or a multipart `operations` or "
            f"`map`); got {kind}"
        )
        raise RequestRefused(400, message)
    return value


def wants_graphql_response(accept: str) -> bool:
    """True when the client accepts application/graphql-response+json."""
    for part in accept.split(","):
        media, *params = (p.strip() for p in part.split(";"))
        if media.lower() == GRAPHQL_RESPONSE:
            return not any(p.replace(" ", "") in ("q=0", "q=0.0") for p in params)
    return False


def is_request_error(result: ExecutionResult) -> bool:
    """True for errors raised before execution began: parse, validation, variables,
    shape, cost and budget. Those have no `data` (GraphQL spec 7.1.2); field errors
    carry a path."""
    errors = result.errors or []
    return result.data is None and bool(errors) and all(e.path is None for e in errors)


def request_error_status(response: Mapping[str, Any]) -> int:
    """The status of a request error under application/graphql-response+json."""
    codes = [
        (error.get("extensions") or {}).get("code")
        for error in response.get("errors") or []
    ]
    return 429 if ErrorCode.RATE_LIMITED.value in codes else 400


def error_response(
    refusal: RequestRefused, *, graphql_response: bool = False
) -> Response:
    """A refusal as a GraphQL response body."""
    extensions = {"code": refusal.code.value}
    rid = request_id.get()
    if rid is not None:
        extensions["requestId"] = rid
    error = {"message": refusal.message, "extensions": extensions}
    return Response(
        json.dumps({"errors": [error]}, separators=(",", ":")),
        status_code=refusal.status,
        media_type=GRAPHQL_RESPONSE if graphql_response else "application/json",
        headers=refusal.headers,
    )


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return str(value.decode("latin-1").strip().lower())
    return ""


def _deeper_than(value: object, limit: int) -> bool:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False
