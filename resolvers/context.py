"""What every resolver receives as info.context: the services, the caller, loaders.

The API builds one Context per HTTP request and one per websocket connection
(api/view.py); resolvers read it and never build services themselves.
"""

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Protocol

import numpy as np
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket

from core.db import Database
from core.ratelimit import LimitState, RateLimiter
from core.settings import Settings
from core.storage import Storage
from core.tokens import Caller, CallerCache
from engine.catalog import Catalog
from jobs.services import Jobs
from resolvers.loaders import Loaders


class QueryVectors(Protocol):
    """Embeds search text in the API process (torch-free; api/query_vectors.py)."""

    async def vector(self, text: str) -> np.ndarray:
        """The text's prompt vector, as the worker embeds prompts."""
        ...


@dataclass
class Services:
    """What the API needs, built once by the composition root (darkroom/services.py)."""

    settings: Settings
    db: Database
    catalog: Catalog
    storage: Storage
    # Authenticated callers for a few seconds (darkroom/services.py sets the ttl).
    callers: CallerCache = field(default_factory=lambda: CallerCache(ttl=2))
    # None serves without rate limits (build_services always builds one).
    rate_limiter: RateLimiter | None = None
    # Opened by the app's lifespan: it needs a running event loop.
    jobs: Jobs | None = None
    # None when search is off (DARKROOM_SEARCH, or PostgreSQL without pgvector).
    search: QueryVectors | None = None


@dataclass(eq=False)
class Context:
    """The request's services, caller and DataLoaders."""

    services: Services
    request: Request | WebSocket
    response: Response | WebSocket | None = None
    caller: Caller | None = None
    # Filled by Strawberry from the websocket connection_init payload.
    connection_params: dict[str, Any] | None = field(default=None)
    # Set by the cost extension before execution: this operation's points bucket.
    rate_limit: LimitState | None = None

    @property
    def db(self) -> Database:
        """The database."""
        return self.services.db

    @property
    def settings(self) -> Settings:
        """The service settings."""
        return self.services.settings

    @property
    def jobs(self) -> Jobs:
        """The jobs services the app's lifespan opened."""
        jobs = self.services.jobs
        assert jobs is not None, "opened by the app's lifespan"
        return jobs

    @property
    def user_caller(self) -> Caller:
        """The authenticated caller; permissions guarantee there is one."""
        assert self.caller is not None, "guarded by IsAuthenticated"
        return self.caller

    @cached_property
    def loaders(self) -> Loaders:
        """The caller's DataLoaders, made on first use."""
        return Loaders(self.jobs, user_id=self.user_caller.user.id)
