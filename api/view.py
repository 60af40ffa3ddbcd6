"""The GraphQL view: Strawberry's ASGI view with our context, websocket
authentication, subscriptions over HTTP (api/streams.py) and the hardened HTTP
edge (api/http.py)."""

from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping
from typing import Any

import strawberry
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from graphql import GraphQLError, get_operation_ast, parse
from graphql.language import OperationType as OperationKind
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError, MissingQueryError
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.schema.exceptions import (
    CannotGetOperationTypeError,
    InvalidOperationTypeError,
)
from strawberry.subscriptions import (
    GRAPHQL_SSE_PROTOCOL,
    GRAPHQL_TRANSPORT_WS_PROTOCOL,
    GRAPHQL_WS_PROTOCOL,
    MULTIPART_SUBSCRIPTION_PROTOCOL,
)
from strawberry.types import ExecutionResult, SubscriptionExecutionResult
from strawberry.types.graphql import OperationType
from strawberry.types.unset import UnsetType

from api import http
from api.console_auth import (
    CSRF_HEADER,
    CSRF_PARAM,
    SessionRefused,
    authenticate_cookie,
)
from api.context import authenticate_header
from api.drain import GOING_AWAY, Drain
from api.errors import log_unavailable
from api.fanout import encode_frame, encode_result, is_raw_frame, is_raw_result
from api.ide import graphiql_page
from api.metrics import count_request
from api.sockets import SocketRegistry
from api.streams import HttpStream, wants_stream
from api.websocket import LegacyWSHandler, TransportWSHandler
from core.db import counting_commits, is_database_down
from core.errors import ErrorCode
from core.logcontext import account_id
from core.metrics import SUBSCRIPTIONS_ACTIVE
from core.tokens import Caller
from resolvers.context import Context, Services

# Subscriptions stream over websockets, or over HTTP with a streaming Accept
# (api/streams.py); as a plain HTTP request they would resolve to null.
_HTTP_OPERATIONS = {
    "GET": {OperationType.QUERY},
    "POST": {OperationType.QUERY, OperationType.MUTATION},
}


def _lost_its_connection(result: ExecutionResult) -> bool:
    """Whether the database was away for the operation (or its connection)."""
    return any(
        error.original_error is not None and is_database_down(error.original_error)
        for error in result.errors or ()
    )


def _is_query(request_data: GraphQLRequestData) -> bool:
    try:
        document = parse(request_data.query or "")
    except GraphQLError:
        return False
    operation = get_operation_ast(document, request_data.operation_name)
    return operation is not None and operation.operation is OperationKind.QUERY


class NegotiatedResponse(Response):
    """The sub-response, remembering which media type the client accepts."""

    graphql_response = False


class DarkroomGraphQL(GraphQL[Context, None]):
    """Strawberry's ASGI view with our context, websocket authentication and the
    hardened HTTP edge (resolvers/http.py)."""

    graphql_transport_ws_handler_class = TransportWSHandler
    graphql_ws_handler_class = LegacyWSHandler

    def __init__(
        self,
        schema: strawberry.Schema,
        services: Services,
        sockets: SocketRegistry,
        drain: Drain,
    ) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql",
            multipart_uploads_enabled=True,
            subscription_protocols=(
                GRAPHQL_TRANSPORT_WS_PROTOCOL,
                GRAPHQL_WS_PROTOCOL,
                GRAPHQL_SSE_PROTOCOL,
                MULTIPART_SUBSCRIPTION_PROTOCOL,
            ),
        )
        self.services = services
        self.sockets = sockets
        self.drain = drain

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Bound the body, and answer every refusal as a GraphQL error body."""
        if scope["type"] != "http":
            if self.drain.draining:  # refused at the handshake: try another
                await WebSocket(scope, receive, send).close(code=GOING_AWAY)
                return
            await super().__call__(scope, receive, send)
            return
        request = Request(scope)
        graphql_response = http.wants_graphql_response(
            request.headers.get("accept", "")
        )
        try:
            if self.drain.draining:
                raise http.shutting_down()
            limit = http.body_limit(scope, self.services.settings.max_body_bytes)
            request = Request(scope, http.limited_receive(scope, receive, limit))
            response = await self.run(request)
        except HTTPException as err:
            allow = {"Allow": "GET, POST"} if err.status_code == 405 else None
            refusal = http.RequestRefused(err.status_code, err.reason, headers=allow)
            response = http.error_response(refusal, graphql_response=graphql_response)
        except http.RequestRefused as refusal:
            response = http.error_response(refusal, graphql_response=graphql_response)
        except Exception as err:
            # Before execution (the token lookup, say): a database that is away is
            # a moment's refusal with a code, never a 500 with a traceback.
            if not is_database_down(err):
                raise
            log_unavailable(err)
            response = http.error_response(
                http.database_unavailable(), graphql_response=graphql_response
            )
        finally:
            # Uploads spooled to temporary files, whether or not a resolver read them.
            await request.close()
        count_request(scope, response.status_code)
        await response(scope, receive, send)

    async def render_graphql_ide(self, request: Request) -> Response:
        """GraphiQL from the package, never from a CDN (api/ide.py)."""
        return graphiql_page(request)

    def encode_json(self, data: object) -> str | bytes:
        """JSON as Strawberry writes it, splicing in events serialized once for
        every subscriber with the same selection (api/fanout.py)."""
        if is_raw_frame(data):
            return encode_frame(data)  # type: ignore[arg-type]  # a dict, checked above
        if is_raw_result(data):  # a graphql-sse `next` event
            return encode_result(data)  # type: ignore[arg-type]  # a dict, checked above
        return super().encode_json(data)

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

        async def execute() -> ExecutionResult:
            return await self.schema.execute(
                request_data.query,
                root_value=root_value,
                variable_values=request_data.variables,
                context_value=context,
                operation_name=request_data.operation_name,
                allowed_operation_types=_HTTP_OPERATIONS[method],
                operation_extensions=request_data.extensions,
            )

        try:
            with counting_commits() as commits:
                result = await execute()
            if _lost_its_connection(result) and (
                _is_query(request_data) or commits == [0]
            ):
                # A restarted database fails the first statement on each pooled
                # connection, which drops the pool. A query changes nothing, nor
                # does a mutation that committed nothing (its side effects all
                # follow a commit), so it goes again on a fresh connection
                # rather than failing.
                result = await execute()
            return result
        except CannotGetOperationTypeError as err:
            raise http.RequestRefused(400, err.as_http_error_reason()) from None
        except InvalidOperationTypeError as err:
            if err.operation_type is OperationType.SUBSCRIPTION:
                message = (
                    "subscriptions stream over a websocket (graphql-transport-ws) "
                    "at /graphql, or over HTTP with `Accept: text/event-stream` "
                    "(graphql-sse) or `Accept: multipart/mixed;subscriptionSpec=1.0`"
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

    async def execute_operation(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        request_data: GraphQLRequestData | list[GraphQLRequestData],
        context: Context,
        root_value: None,
        sub_response: Response,
    ) -> ExecutionResult | list[ExecutionResult] | SubscriptionExecutionResult:
        """Run the operation; a stream over HTTP joins the socket registry."""
        result = await super().execute_operation(
            request, request_adapter, request_data, context, root_value, sub_response
        )
        if isinstance(request_data, GraphQLRequestData) and (
            request_data.protocol != "http"
        ):
            stream = HttpStream()
            request.state.stream = stream
            self.sockets.add(context, stream)  # ended if its token is revoked later
        return result

    async def create_streaming_response(
        self,
        request: Request | WebSocket,
        stream: Callable[[], AsyncIterator[str]],
        sub_response: Response,
        headers: Mapping[str, str],
    ) -> Response:
        """Strawberry's stream, ended early by revocation or the drain."""
        handle = getattr(request.state, "stream", None)
        if not isinstance(handle, HttpStream):  # @defer's multipart: no subscription
            return await super().create_streaming_response(
                request, stream, sub_response, headers
            )
        content_type = headers.get("Content-Type", "")

        async def guarded() -> AsyncGenerator[str, None]:
            with SUBSCRIPTIONS_ACTIVE.track_inprogress(), self.drain.operation():
                async for chunk in handle.guard(stream(), content_type):
                    yield chunk

        return await super().create_streaming_response(
            request, guarded, sub_response, headers
        )

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
        """Authenticate HTTP requests from their header, or without one from the
        console's session cookie (api/console_auth.py); websockets do it at
        connection_init. A stream over HTTP, like a websocket, needs a valid token
        and reads its row afresh, as it may stay open for hours."""
        caller = None
        if isinstance(request, Request):
            streaming = wants_stream(request.headers.get("accept", ""))
            header = request.headers.get("authorization")
            if header is not None:
                caller = await authenticate_header(
                    self.services, header, fresh=streaming
                )
            else:
                caller = await _cookie_caller(self.services, request)
            if streaming and caller is None:
                raise http.RequestRefused(
                    401,
                    "a subscription stream needs a valid token: send "
                    "`Authorization: Bearer drk_...`",
                    ErrorCode.UNAUTHENTICATED,
                    headers={"WWW-Authenticate": "Bearer"},
                )
        if caller is not None:
            account_id.set(str(caller.user.id))
        return Context(
            services=self.services, request=request, response=response, caller=caller
        )

    async def on_ws_connect(
        self, context: Context
    ) -> UnsetType | dict[str, object] | None:
        """Authenticate a websocket from the Authorization value in connection_init."""
        params = context.connection_params or {}
        header = params.get("Authorization") or params.get("authorization")
        if header is not None:
            caller = await authenticate_header(
                self.services, header if isinstance(header, str) else None, fresh=True
            )
        else:
            # The console's socket: its cookie came with the handshake.
            csrf = params.get(CSRF_PARAM)
            try:
                caller = await authenticate_cookie(
                    self.services,
                    context.request,
                    csrf=csrf if isinstance(csrf, str) else None,
                )
            except SessionRefused as refused:
                raise ConnectionRejectionError(
                    {"code": refused.code.value, "message": refused.message}
                ) from None
        if caller is None:
            raise ConnectionRejectionError({"code": "UNAUTHENTICATED"})
        context.caller = caller
        self.sockets.add(context)  # closed if its token is revoked later
        return await super().on_ws_connect(context)


async def _cookie_caller(services: Services, request: Request) -> Caller | None:
    """The console session's caller for a request with no Authorization header;
    a cookie that cannot be accepted here is refused with its reason."""
    try:
        return await authenticate_cookie(
            services, request, csrf=request.headers.get(CSRF_HEADER)
        )
    except SessionRefused as refused:
        raise http.RequestRefused(
            refused.status, refused.message, refused.code
        ) from None
