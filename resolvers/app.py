"""The Starlette app: /graphql (with GraphiQL), /healthz, lifespan."""

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import strawberry
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError, MissingQueryError
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.schema.exceptions import (
    CannotGetOperationTypeError,
    InvalidOperationTypeError,
)
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType
from strawberry.types.unset import UnsetType

from core.errors import ErrorCode
from core.files import FileAccess, file_access
from core.storage import LocalStorage
from resolvers import http
from resolvers.context import Context, Services, authenticate_header
from resolvers.sockets import SocketRegistry
from resolvers.websocket import LegacyWSHandler, TransportWSHandler

log = logging.getLogger("darkroom.api")


# Subscriptions stream over websockets; over HTTP they would resolve to null.
_HTTP_OPERATIONS = {
    "GET": {OperationType.QUERY},
    "POST": {OperationType.QUERY, OperationType.MUTATION},
}


class NegotiatedResponse(Response):
    """The sub-response, remembering which media type the client accepts."""

    graphql_response = False


class DarkroomGraphQL(GraphQL[Context, None]):
    """Strawberry's ASGI view with our context, websocket authentication and the
    hardened HTTP edge (resolvers/http.py)."""

    graphql_transport_ws_handler_class = TransportWSHandler
    graphql_ws_handler_class = LegacyWSHandler

    def __init__(
        self, schema: strawberry.Schema, services: Services, sockets: SocketRegistry
    ) -> None:
        super().__init__(schema, graphql_ide="graphiql", multipart_uploads_enabled=True)
        self.services = services
        self.sockets = sockets

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Bound the body, and answer every refusal as a GraphQL error body."""
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope)
        graphql_response = http.wants_graphql_response(
            request.headers.get("accept", "")
        )
        try:
            limit = http.body_limit(scope, self.services.settings.max_body_bytes)
            request = Request(scope, http.limited_receive(scope, receive, limit))
            response = await self.run(request)
        except HTTPException as err:
            allow = {"Allow": "GET, POST"} if err.status_code == 405 else None
            refusal = http.RequestRefused(err.status_code, err.reason, headers=allow)
            response = http.error_response(refusal, graphql_response=graphql_response)
        except http.RequestRefused as refusal:
            response = http.error_response(refusal, graphql_response=graphql_response)
        finally:
            # Uploads spooled to temporary files, whether or not a resolver read them.
            await request.close()
        await response(scope, receive, send)

    def decode_json(self, data: str | bytes) -> object:
        """JSON at most 64 levels deep (websocket frames and request bodies)."""
        return http.decode_json(data)

    def parse_json(self, data: str | bytes) -> Any:
        """Bodies, multipart operations and maps, GET variables: JSON objects only."""
        return http.parse_json_object(data)

    async def parse_multipart(self, request: AsyncHTTPRequestAdapter) -> dict[str, str]:
        """A GraphQL multipart request, refusing a `map` that does not fit."""
        try:
            return await super().parse_multipart(request)
        except (LookupError, TypeError, ValueError, AttributeError):
            # Strawberry indexes `operations` with each `map` path as given.
            message = (
                "the multipart `map` must be an object of file field names to lists "
                'of paths into `operations`, such as {"0": ["variables.file"]}'
            )
            raise http.RequestRefused(400, message) from None

    async def execute_single(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: Response,
        context: Context,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        """Run one operation, refusing the kinds HTTP cannot carry with a code."""
        method = request_adapter.method
        try:
            return await self.schema.execute(
                request_data.query,
                root_value=root_value,
                variable_values=request_data.variables,
                context_value=context,
                operation_name=request_data.operation_name,
                allowed_operation_types=_HTTP_OPERATIONS[method],
                operation_extensions=request_data.extensions,
            )
        except CannotGetOperationTypeError as err:
            raise http.RequestRefused(400, err.as_http_error_reason()) from None
        except InvalidOperationTypeError as err:
            if err.operation_type is OperationType.SUBSCRIPTION:
                message = (
                    "subscriptions stream over a websocket (graphql-transport-ws) "
                    "at /graphql, not over HTTP"
                )
                raise http.RequestRefused(
                    400, message, ErrorCode.OPERATION_NOT_ALLOWED
                ) from None
            raise http.RequestRefused(
                405,
                err.as_http_error_reason(method),
                ErrorCode.OPERATION_NOT_ALLOWED,
                headers={"Allow": "POST"},
            ) from None
        except MissingQueryError:
            raise http.RequestRefused(400, "the request has no `query`") from None

    async def get_sub_response(self, request: Request | WebSocket) -> Response:
        """Remember the media type the response will use."""
        sub_response = NegotiatedResponse()
        sub_response.status_code = None  # type: ignore[assignment]  # unset until a resolver sets it, as Strawberry does
        del sub_response.headers["content-length"]
        sub_response.graphql_response = http.wants_graphql_response(
            request.headers.get("accept", "")
        )
        return sub_response

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        """Leave `data` out when the request failed before execution began."""
        response = await super().process_result(request, result)
        if http.is_request_error(result):
            response.pop("data", None)
        return response

    def create_response(
        self,
        response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse],
        sub_response: Response,
    ) -> Response:
        """application/graphql-response+json, with 4xx for request errors, when
        the client accepts it; otherwise application/json and 200."""
        response = super().create_response(response_data, sub_response)
        if isinstance(sub_response, NegotiatedResponse) and (
            sub_response.graphql_response
        ):
            response.headers["content-type"] = http.GRAPHQL_RESPONSE
            if isinstance(response_data, dict) and "data" not in response_data:
                response.status_code = http.request_error_status(response_data)
        return response

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        """Authenticate HTTP requests from their header; websockets do it at connection_init."""
        caller = None
        if isinstance(request, Request):
            caller = await authenticate_header(
                self.services, request.headers.get("authorization")
            )
        return Context(
            services=self.services, request=request, response=response, caller=caller
        )

    async def on_ws_connect(
        self, context: Context
    ) -> UnsetType | dict[str, object] | None:
        """Authenticate a websocket from the Authorization value in connection_init."""
        params = context.connection_params or {}
        header = params.get("Authorization") or params.get("authorization")
        caller = await authenticate_header(
            self.services, header if isinstance(header, str) else None
        )
        if caller is None:
            raise ConnectionRejectionError({"code": "UNAUTHENTICATED"})
        context.caller = caller
        self.sockets.add(context)  # closed if its token is revoked later
        return await super().on_ws_connect(context)


Resources = Callable[[], AbstractAsyncContextManager[None]]


@asynccontextmanager
async def _nothing() -> AsyncIterator[None]:
    yield


def create_app(
    services: Services, schema: strawberry.Schema, *, resources: Resources = _nothing
) -> Starlette:
    """Assemble the app around already-built services (the CLI is the composition root).

    `resources` opens what needs the running loop (the job queue, its runner) for
    the app's lifetime.
    """

    sockets = SocketRegistry(
        services.db, interval=services.settings.revocation_check_seconds
    )

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        async with resources(), sockets.watching():
            yield
        await services.db.dispose()
        if services.rate_limiter is not None:
            await services.rate_limiter.aclose()

    async def files(request: Request) -> Response:
        # Local storage only: S3 links point at the bucket itself.
        storage = services.storage
        if not isinstance(storage, LocalStorage):
            return Response(status_code=404)
        key = request.path_params["key"]
        params = request.query_params
        signed = storage.verify(key, params.get("expires"), params.get("signature"))
        access = await _file_access(services, key)
        # A deleted output stays unreachable even if removing its file failed.
        if access is FileAccess.GONE:
            return Response(status_code=404)
        if not signed and access is not FileAccess.PUBLIC:
            return Response("link expired or invalid", status_code=403)
        try:
            path = storage.path_for(key)
        except ValueError:
            return Response(status_code=404)
        if not path.is_file():
            return Response(status_code=404)
        return FileResponse(path, media_type=await storage.content_type(key))

    async def healthz(_request: Request) -> JSONResponse:
        try:
            await services.db.ping()
        except Exception as err:  # any failure means unhealthy; say which
            log.warning("health check failed: %s", err)
            return JSONResponse(
                {"status": "error", "database": "unreachable"}, status_code=503
            )
        return JSONResponse({"status": "ok", "database": "ok"})

    graphql: Any = DarkroomGraphQL(schema, services, sockets)
    return Starlette(
        routes=[
            # Every method: the view answers the others with a GraphQL 405.
            Route("/graphql", graphql),
            WebSocketRoute("/graphql", graphql),
            Route("/healthz", healthz),
            Route("/files/{key:path}", files),
        ],
        lifespan=lifespan,
    )


async def _file_access(services: Services, key: str) -> FileAccess:
    """Public images are served without a signature; deleted ones not at all."""
    async with services.db.session() as session:
        return await file_access(session, key=key)
