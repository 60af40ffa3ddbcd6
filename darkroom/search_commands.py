"""`darkroom search`: build the search index over existing outputs."""

import asyncio

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

from core.db import Database
from core.migrate import check_schema
from core.search.index import SearchUnavailable
from core.settings import Settings
from darkroom.console import err, out, settings_or_exit
from darkroom.database import database_or_exit
from darkroom.search import open_search, reindex
from engine.embedding.folder import ModelUnavailable

search_app = typer.Typer(
    help="Search over your outputs' prompts.", no_args_is_help=True
)


@search_app.command("reindex")
def search_reindex() -> None:
    """Embed every output that has no vector yet (resumes; a new model rebuilds)."""
    settings = settings_or_exit()
    columns = (*Progress.get_default_columns()[:1], BarColumn(), MofNCompleteColumn())
    with Progress(*columns, TimeRemainingColumn(), console=out) as progress:
        task = progress.add_task("embedding prompts", total=None)

        def started(total: int, rebuilt: bool) -> None:
            if rebuilt:
                progress.console.print("the index was another model's: rebuilding it")
            progress.update(task, total=total)

        async def run() -> int:
            db = Database(settings.resolved_database_url)
            try:
                await check_schema(db)
                return await reindex(
                    settings,
                    db,
                    started=started,
                    advanced=lambda n: progress.advance(task, n),
                )
            finally:
                await db.dispose()

        try:
            with database_or_exit(settings, err):
                done = asyncio.run(run())
        except (ModelUnavailable, SearchUnavailable) as problem:
            err.print(f"[red]search unavailable:[/red] {problem}")
            raise typer.Exit(1) from None
    out.print(f"indexed {done} outputs; search is up to date")


def search_or_exit(settings: Settings, *, can_export: bool) -> None:
    """Check search can start (model, pgvector, the index's model), unpacking and
    exporting the model once; a refusal is one line and exit 1."""

    async def check() -> None:
        db = Database(settings.resolved_database_url)
        try:
            await open_search(settings, db, can_export=can_export)
        finally:
            await db.dispose()

    try:
        asyncio.run(check())
    except SearchUnavailable as problem:
        err.print(f"[red]search unavailable:[/red] {problem}")
        raise typer.Exit(1) from None
