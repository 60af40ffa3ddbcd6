"""Apply and check Alembic migrations programmatically (`darkroom migrate`)."""

import asyncio
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import SQLModel

import core.models  # noqa: F401  # registers every table on the metadata
from core.db import Database

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    """An Alembic config for our migrations folder and the given async URL."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url)
    return config


def metadata_for(dialect: str) -> sa.MetaData:
    """The schema a database of `dialect` should have: every table, less the
    PostgreSQL-only indexes anywhere else."""
    if dialect == "postgresql":
        return SQLModel.metadata
    skipped = {
        index.name
        for table in SQLModel.metadata.tables.values()
        for index in table.indexes
        if index.info.get("postgresql_only")
    }
    copy = sa.MetaData()
    for table in SQLModel.metadata.sorted_tables:
        table.to_metadata(copy)
    for table in copy.tables.values():
        table.indexes = {i for i in table.indexes if i.name not in skipped}
    return copy


def upgrade_database(url: str) -> None:
    """Bring the database at `url` to the newest revision."""
    command.upgrade(alembic_config(url), "head")


class SchemaNotReady(Exception):  # noqa: N818  # reads as the state it reports
    """The database is not at the schema this release needs; the message says why
    and what to run."""


async def check_schema(db: Database) -> None:
    """Raise SchemaNotReady unless the database is at the newest revision.

    Operator commands call this first, so that a fresh or outdated database
    gives one line naming `darkroom migrate` rather than a missing-table error.
    """
    url = sa.engine.make_url(db.url)
    if db.is_sqlite and url.database and not Path(url.database).exists():
        # Connecting would create an empty file; say what is missing instead.
        raise SchemaNotReady(
            f"there is no database at {url.database} yet; run `darkroom migrate`"
        )
    async with db.engine.connect() as conn:
        current = await conn.run_sync(
            lambda sync: MigrationContext.configure(sync).get_current_revision()
        )
    scripts = ScriptDirectory.from_config(alembic_config(db.url))
    head = scripts.get_current_head()
    if current == head:
        return
    if current is None:
        raise SchemaNotReady(
            "the database has no Darkroom tables yet; run `darkroom migrate`"
        )
    if current in {script.revision for script in scripts.walk_revisions()}:
        raise SchemaNotReady(
            f"the database schema is at revision {current} and this release needs"
            f" {head}; run `darkroom migrate`"
        )
    raise SchemaNotReady(
        f"the database schema is at revision {current}, which this release does"
        " not know; it was migrated by a newer Darkroom"
    )


# What core.search builds by dialect beside the metadata: SQLite's FTS5 table (and
# its shadow tables) and the counters its kept reads go by (migration 0013),
# pgvector's index, and the vector column's type.
_SEARCH_TABLES_PREFIXES = ("output_words", "search_versions")
_SEARCH_INDEXES = {"ix_output_embeddings_hnsw"}


def _compared(
    obj: Any, name: str | None, kind: str, reflected: bool, other: Any
) -> bool:
    if kind == "table" and (name or "").startswith(_SEARCH_TABLES_PREFIXES):
        return False
    if kind == "index" and name in _SEARCH_INDEXES:
        return False
    return not (kind == "column" and obj.info.get("vector"))


def pending_changes(url: str) -> list[Any]:
    """The differences autogenerate would write: empty when models and migrations agree."""

    async def compare() -> list[Any]:
        engine = create_async_engine(url)
        async with engine.connect() as conn:
            diff = await conn.run_sync(
                lambda sync: compare_metadata(
                    MigrationContext.configure(
                        sync, opts={"compare_type": True, "include_object": _compared}
                    ),
                    metadata_for(sync.dialect.name),
                )
            )
        await engine.dispose()
        return list(diff)

    return asyncio.run(compare())
