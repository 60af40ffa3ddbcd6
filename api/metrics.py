"""Metrics on the API: operation timing, request counts and the /metrics page.

`/metrics` answers a bearer token with the METRICS scope (401 without a token,
403 without the scope). An operator who sets DARKROOM_METRICS_ADDRESS gets the
same page unauthenticated on that address instead, for a private network.
"""

import asyncio
import contextlib
import time
from collections.abc import Iterator

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Scope as AsgiScope
from strawberry.extensions import SchemaExtension

from api.context import authenticate_header
from core.enums import Scope
from core.metrics import GRAPHQL_OPERATION_SECONDS, HTTP_REQUESTS
from resolvers.context import Services

NO_OPERATION = "none"  # the label of a request whose operation was never read
_STATE_KEY = "darkroom_operation_type"


class OperationTiming(SchemaExtension):
    """Time each operation by its type, and leave the type for the request count."""

    def on_operation(self) -> Iterator[None]:
        """Time parse to result; a request that does not parse is `none`."""
        started = time.perf_counter()
        yield
        try:
            kind = self.execution_context.operation_type.value
        except Exception:  # unparsable, or no operation by that name
            kind = NO_OPERATION
        GRAPHQL_OPERATION_SECONDS.labels(operation_type=kind).observe(
            time.perf_counter() - started
        )
        request = getattr(self.execution_context.context, "request", None)
        if request is not None:
            request.scope.setdefault("state", {})[_STATE_KEY] = kind


def count_request(scope: AsgiScope, status: int) -> None:
    """Count one GraphQL HTTP request with the type OperationTiming saw."""
    kind = scope.get("state", {}).get(_STATE_KEY, NO_OPERATION)
    HTTP_REQUESTS.labels(operation_type=kind, status=str(status)).inc()


async def metrics_page(
    services: Services, registry: CollectorRegistry, request: Request
) -> Response:
    """The metrics, to a token with the METRICS scope."""
    caller = await authenticate_header(services, request.headers.get("authorization"))
    if caller is None:
        return Response(
            "a bearer API token with the METRICS scope is needed\n",
            status_code=401,
            headers={"WWW-Authenticate": 'Bearer realm="darkroom"'},
        )
    if Scope.METRICS not in caller.scopes:
        return Response("this token lacks the METRICS scope\n", status_code=403)
    # Collected off the loop: the queue-depth count runs on it, and waits for it.
    body = await asyncio.to_thread(generate_latest, registry)
    return Response(body, headers={"Content-Type": CONTENT_TYPE_LATEST})


def split_address(address: str) -> tuple[str, int]:
    """`host:port` (or `[v6]:port`) as a host and a port number."""
    host, _, port = address.rpartition(":")
    return host.strip("[]") or "0.0.0.0", int(port)


@contextlib.contextmanager
def unauthenticated_listener(
    address: str, registry: CollectorRegistry
) -> Iterator[int | None]:
    """Serve the metrics without authentication on `address` while the block
    runs (nothing when it is empty); yield the port it took."""
    if not address:
        yield None
        return
    from prometheus_client import start_http_server

    host, port = split_address(address)
    server, thread = start_http_server(port, addr=host, registry=registry)
    try:
        yield server.server_port
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
