"""The Starlette app: /graphql (with GraphiQL and its files), /healthz, /readyz,
/metrics, /files, /gallery/images, /console, lifespan."""

import asyncio
import functools
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import strawberry
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route, WebSocketRoute

from api import console_login, console_page
from api.drain import Drain
from api.gallery import gallery_image
from api.health import Readiness, healthz
from api.ide import STATIC_PATH, static_file
from api.metrics import metrics_page, unauthenticated_listener
from api.request_ids import RequestIds
from api.sockets import SocketRegistry
from api.spans import HttpSpans
from api.view import DarkroomGraphQL
from core import tracing
from core.files import FileAccess, file_access
from core.metrics import QueueDepth, exported_registry
from core.storage import LocalStorage
from jobs.overview import count_queue_depths
from resolvers.context import Services

log = logging.getLogger("darkroom.api")


Resources = Callable[[], AbstractAsyncContextManager[None]]


@asynccontextmanager
async def _nothing() -> AsyncIterator[None]:
    yield


def create_app(
    services: Services, schema: strawberry.Schema, *, resources: Resources = _nothing
) -> Starlette:
    """Assemble the app around already-built services (darkroom/services.py).

    `resources` opens what needs the running loop (the job queue, its runner) for
    the app's lifetime.
    """
    sockets = SocketRegistry(
        services.db, interval=services.settings.revocation_check_seconds
    )
    drain = Drain(
        sockets,
        seconds=services.settings.drain_seconds,
        jobs_finished=functools.partial(_jobs_finished, services),
    )
    readiness = Readiness(services, drain)
    # The process's metrics and this app's queue depth; filled in by the lifespan,
    # as the depth is counted on the running loop.
    registry = exported_registry()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        depth = QueueDepth(
            functools.partial(count_queue_depths, services.db),
            asyncio.get_running_loop(),
        )
        registry.register(depth)
        address = services.settings.metrics_address
        try:
            async with resources(), sockets.watching():
                with unauthenticated_listener(address, registry) as port:
                    app.state.metrics_port = port
                    if port is not None:
                        log.info("metrics without authentication on port %d", port)
                    yield
        finally:
            registry.unregister(depth)
        await readiness.aclose()
        await services.db.dispose()
        if services.rate_limiter is not None:
            await services.rate_limiter.aclose()

    graphql: Any = DarkroomGraphQL(schema, services, sockets, drain)
    middleware = [Middleware(RequestIds)]
    if tracing.enabled():
        # Only when tracing: off, a request passes no tracing code at all.
        # Outermost, so that the request's span holds everything done for it.
        middleware.insert(0, Middleware(HttpSpans))
    app = Starlette(
        routes=[
            # Every method: the view answers the others with a GraphQL 405.
            Route("/graphql", graphql),
            WebSocketRoute("/graphql", graphql),
            Route(STATIC_PATH + "/{name}", static_file),
            Route("/healthz", healthz),
            Route("/readyz", readiness.check),
            Route("/metrics", functools.partial(metrics_page, services, registry)),
            Route("/files/{key:path}", functools.partial(files, services)),
            Route("/gallery/images/{name}", functools.partial(gallery_image, services)),
            # The browser console (api/console_*.py): sign-in, then its pages.
            Route(
                "/console/login",
                functools.partial(console_login.login_page, services),
                methods=["GET"],
            ),
            Route(
                "/console/login",
                functools.partial(console_login.login, services),
                methods=["POST"],
            ),
            Route(
                "/console/logout",
                functools.partial(console_login.logout, services),
                methods=["POST"],
            ),
            Route(console_page.STATIC_PATH + "/{name:path}", console_page.static_file),
            # "/console" redirects here (Starlette's slash redirect).
            Route("/console/", functools.partial(console_page.console_page, services)),
            Route(
                "/console/{page}",
                functools.partial(console_page.console_page, services),
            ),
        ],
        lifespan=lifespan,
        middleware=middleware,
    )
    # Begun by `darkroom serve` on SIGTERM (darkroom/serving.py).
    app.state.drain = drain
    return app


async def _jobs_finished(services: Services) -> None:
    """Wait for the jobs this process runs (the embedded runner's) to end."""
    if services.jobs is not None:
        await services.jobs.queue.finish_running()


async def files(services: Services, request: Request) -> Response:
    """A stored file from local storage, by signed link, or plainly when public."""
    # Local storage only: S3 links point at the bucket itself.
    storage = services.storage
    if not isinstance(storage, LocalStorage):
        return Response(status_code=404)
    key = request.path_params["key"]
    params = request.query_params
    signed = storage.verify(key, params.get("expires"), params.get("signature"))
    async with services.db.session() as session:
        access = await file_access(session, key=key)
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
