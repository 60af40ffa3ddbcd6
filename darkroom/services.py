"""Composition root: build the services from settings and hand them to the app."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette

from core.db import Database
from core.ratelimit import open_rate_limiter
from core.settings import Settings
from core.storage import open_storage
from engine.catalog import load_catalog
from jobs.runner import close_jobs, open_jobs
from resolvers.app import create_app
from resolvers.context import Services
from schema.root import build_schema


def build_services(settings: Settings) -> Services:
    """Everything the API needs, opened once per process."""
    return Services(
        settings=settings,
        db=Database(settings.resolved_database_url),
        catalog=load_catalog(settings.models_file, data_dir=settings.data_dir),
        storage=open_storage(settings),
        rate_limiter=open_rate_limiter(settings.redis_url),
    )


def build_app(settings: Settings) -> Starlette:
    """The ASGI app for these settings; jobs run in-process unless Redis is set."""
    services = build_services(settings)

    @asynccontextmanager
    async def jobs_open() -> AsyncIterator[None]:
        services.jobs = await open_jobs(
            settings, services.catalog, in_process=not settings.redis_url
        )
        try:
            yield
        finally:
            await close_jobs(services.jobs)

    return create_app(services, build_schema(debug=settings.debug), resources=jobs_open)
