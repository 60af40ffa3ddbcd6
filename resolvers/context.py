"""Per-request context: the app's services, the authenticated caller, loaders."""

from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket

from core.db import Database
from core.ratelimit import LimitState, RateLimiter
from core.settings import Settings
from core.storage import Storage
from core.tokens import Caller
from engine.catalog import Catalog
from jobs.services import Jobs


@dataclass
class Services:
    """What the API needs, built once by the composition root (darkroom.cli)."""

    settings: Settings
    db: Database
    catalog: Catalog
    storage: Storage
    # None serves without rate limits (build_services always builds one).
    rate_limiter: RateLimiter | None = None
    # Opened by the app's lifespan: it needs a running event loop.
    jobs: Jobs | None = None


@dataclass
class Context:
    """What every resolver receives as info.context."""

    services: Services
    request: Request | WebSocket
    response: Response | WebSocket | None = None
    caller: Caller | None = None
    # Filled by Strawberry from the websocket connection_init payload.
    connection_params: dict[str, Any] | None = field(default=None)
    # Set by the cost extension before execution: this operation's points bucket.
    rate_limit: LimitState | None = None
    # DataLoaders, created on first use so each request batches its own lookups.
    loaders: dict[str, Any] = field(default_factory=dict)

    @property
    def db(self) -> Database:
        """The database."""
        return self.services.db

    @property
    def settings(self) -> Settings:
        """The service settings."""
        return self.services.settings
