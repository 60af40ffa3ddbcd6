"""Alembic environment: runs migrations over the async engine on SQLite and PostgreSQL."""

import asyncio
from typing import Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from core.migrate import metadata_for
from core.models import EnumText, UTCDateTime  # importing registers every table


def _render_item(
    type_: str, obj: object, autogen_context: AutogenContext
) -> str | Literal[False]:
    """Write our column types as the plain SQL types they store, so migrations stay
    independent of the Python classes that wrap them."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    if type_ == "type" and isinstance(obj, EnumText):
        return "sa.String(length=32)"
    return False


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata_for(connection.dialect.name),
        render_as_batch=True,  # SQLite alters tables by copying them
        compare_type=True,
        render_item=_render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run() -> None:
    url = context.config.get_main_option("sqlalchemy.url")
    assert url, "core.migrate sets sqlalchemy.url"
    engine = create_async_engine(url)
    async with engine.connect() as conn:
        await conn.run_sync(_configure)
    await engine.dispose()


connection = context.config.attributes.get("connection")
if connection is not None:
    _configure(connection)
else:
    asyncio.run(_run())
