"""Apply and check Alembic migrations programmatically (`darkroom migrate`)."""

import asyncio
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import SQLModel

import core.models  # noqa: F401  # registers every table on the metadata

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    """An Alembic config for our migrations folder and the given async URL."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url)
    return config


def upgrade_database(url: str) -> None:
    """Bring the database at `url` to the newest revision."""
    command.upgrade(alembic_config(url), "head")


def pending_changes(url: str) -> list[Any]:
    """The differences autogenerate would write: empty when models and migrations agree."""

    async def compare() -> list[Any]:
        engine = create_async_engine(url)
        async with engine.connect() as conn:
            diff = await conn.run_sync(
                lambda sync: compare_metadata(
                    MigrationContext.configure(sync, opts={"compare_type": True}),
                    SQLModel.metadata,
                )
            )
        await engine.dispose()
        return list(diff)

    return asyncio.run(compare())
