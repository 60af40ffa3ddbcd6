"""Migrations reach head identically on SQLite and PostgreSQL, with no drift."""

import asyncio
import uuid
from pathlib import Path

import pytest

from core.migrate import pending_changes, upgrade_database
from tests.conftest import _admin, _pg_url


def test_sqlite_upgrades_to_head_without_drift(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
    upgrade_database(url)
    assert pending_changes(url) == []


def test_postgresql_upgrades_to_head_without_drift() -> None:
    name = f"darkroom_migrate_{uuid.uuid4().hex[:8]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    try:
        upgrade_database(_pg_url(name))
        assert pending_changes(_pg_url(name)) == []
        upgrade_database(_pg_url(name))  # a second run is a no-op
    finally:
        asyncio.run(_admin(f'DROP DATABASE "{name}" WITH (FORCE)'))


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_every_table_exists_after_upgrade(
    kind: str, request: pytest.FixtureRequest
) -> None:
    import sqlalchemy as sa
    from sqlalchemy.ext.asyncio import create_async_engine

    url = request.getfixturevalue(f"{kind}_database_url")

    async def tables() -> set[str]:
        engine = create_async_engine(url)
        async with engine.connect() as conn:
            names = await conn.run_sync(lambda c: sa.inspect(c).get_table_names())
        await engine.dispose()
        return set(names)

    assert {
        "users",
        "api_tokens",
        "credit_ledger",
        "jobs",
        "outputs",
        "uploads",
    } <= asyncio.run(tables())
