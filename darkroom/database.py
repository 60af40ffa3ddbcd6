"""A database a command cannot use, told in one line instead of a traceback."""

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
import typer
from alembic.util import CommandError
from rich.console import Console

from core.migrate import SchemaNotReady
from core.settings import Settings

# What an unreachable, refusing or broken database raises: OSError for a refused
# connection, an unknown host or a timeout; SQLAlchemy's wrapper for the driver's
# errors; Alembic's when a migration cannot run.
DATABASE_ERRORS = (OSError, sa.exc.SQLAlchemyError, CommandError)


@contextmanager
def database_or_exit(settings: Settings, console: Console) -> Iterator[None]:
    """Turn a database that is missing, outdated or unreachable into one line, exit 1."""
    try:
        yield
    except SchemaNotReady as problem:
        console.print(f"[red]database not ready:[/red] {problem}")
        raise typer.Exit(1) from None
    except DATABASE_ERRORS as problem:
        where = shown_url(settings)
        console.print(f"[red]database error:[/red] {where}: {one_line(problem)}")
        raise typer.Exit(1) from None


def shown_url(settings: Settings) -> str:
    """The database URL as the operator wrote it, password hidden."""
    url = sa.engine.make_url(settings.resolved_database_url)
    plain = url.set(drivername=url.get_backend_name())
    return plain.render_as_string(hide_password=True)


def one_line(problem: BaseException) -> str:
    """The driver's own first line, without SQLAlchemy's wrapping and SQL."""
    cause = problem.orig if isinstance(problem, sa.exc.DBAPIError) else problem
    text = str(cause).strip() or type(cause).__name__
    return text.splitlines()[0]
