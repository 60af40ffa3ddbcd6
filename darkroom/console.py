"""What every `darkroom` command shares: output, settings, one transaction."""

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import TypeVar

import typer
from rich.console import Console
from rich.table import Column
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import Database
from core.errors import ServiceError
from core.migrate import check_schema
from core.settings import Settings, SettingsError, load_settings
from core.tracing import TracingConfigError, configure_tracing
from darkroom.database import database_or_exit

# Piped output (scripts, tests) gets wide tables rather than elided cells.
out = Console(width=None if sys.stdout.isatty() else 200)
# Errors are one line each, however long: never wrapped onto a second.
err = Console(stderr=True, soft_wrap=True)
T = TypeVar("T")


def id_column() -> Column:
    """A table column for ids, which are copied into other commands: never cut."""
    return Column("id", no_wrap=True, min_width=36)


def settings_or_exit() -> Settings:
    """Load settings, or stop with the one message that names the bad variable."""
    try:
        return load_settings()
    except SettingsError as problem:
        err.print(f"[red]configuration error:[/red] {problem}")
        raise typer.Exit(2) from None


def tracing_or_exit(service_name: str) -> None:
    """Turn tracing on if the OTEL_* variables ask for it, or stop saying why not."""
    try:
        configure_tracing(service_name)
    except TracingConfigError as problem:
        err.print(f"[red]configuration error:[/red] {problem}")
        raise typer.Exit(2) from None


def in_session(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run `work` in one committed transaction; a refusal becomes a clean exit."""
    settings = settings_or_exit()

    async def run() -> T:
        db = Database(settings.resolved_database_url)
        try:
            await check_schema(db)
            async with db.session() as session:
                return await work(session)
        finally:
            await db.dispose()

    try:
        with database_or_exit(settings, err):
            return asyncio.run(run())
    except ServiceError as refusal:
        err.print(f"[red]{refusal.code.value}:[/red] {refusal.message}")
        raise typer.Exit(1) from None
