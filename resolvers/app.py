"""The Starlette app: /graphql (with GraphiQL), /healthz, lifespan."""

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import strawberry
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.types.unset import UnsetType

from core.files import FileAccess, file_access
from core.storage import LocalStorage
from resolvers.context import Context, Services, authenticate_header
from resolvers.sockets import SocketRegistry

log = logging.getLogger("darkroom.api")


class DarkroomGraphQL(GraphQL[Context, None]):
    """Strawberry's ASGI view with our context and websocket authentication."""

    def __init__(
        self, schema: strawberry.Schema, services: Services, sockets: SocketRegistry
    ) -> None:
        super().__init__(schema, graphql_ide="graphiql", multipart_uploads_enabled=True)
        self.services = services
        self.sockets = sockets

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
            Route("/graphql", graphql, methods=["GET", "POST"]),
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
