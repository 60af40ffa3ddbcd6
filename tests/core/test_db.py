"""Pooled PostgreSQL connections: no ping while busy, recovery after the server drops them."""

import asyncio

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from core.db import Database
from tests.conftest import _admin


async def backend_pid(db: Database) -> int:
    async with db.session() as session:
        return int(
            (await session.execute(sa.text("SELECT pg_backend_pid()"))).scalar_one()
        )


async def test_an_idle_connection_the_server_dropped_is_replaced_on_checkout(
    postgresql_database_url: str,
) -> None:
    # given a pooled connection that the server has since terminated
    db = Database(postgresql_database_url, idle_ping_seconds=0)
    try:
        pid = await backend_pid(db)
        await _admin(f"SELECT pg_terminate_backend({pid})")
        # when the next unit of work checks it out
        new_pid = await backend_pid(db)
        # then the ping found it dead and the pool opened a fresh one
        assert new_pid != pid
    finally:
        await db.dispose()


async def test_a_recently_used_connection_is_trusted_and_one_failure_resets_the_pool(
    postgresql_database_url: str,
) -> None:
    # given a connection used a moment ago, terminated by the server
    db = Database(postgresql_database_url, idle_ping_seconds=3600)
    try:
        pid = await backend_pid(db)
        await _admin(f"SELECT pg_terminate_backend({pid})")
        # when it is checked out again, no ping runs, so the statement fails
        with pytest.raises(DBAPIError) as failure:
            await backend_pid(db)
        assert failure.value.connection_invalidated
        # then the pool was invalidated, and the next unit of work reconnects
        assert await backend_pid(db) != pid
    finally:
        await db.dispose()


async def test_a_sqlite_read_runs_beside_a_writer_holding_the_lock(
    sqlite_database_url: str,
) -> None:
    # given a writer holding SQLite's write lock, uncommitted
    db = Database(sqlite_database_url)
    try:
        async with db.session() as writer:
            await writer.execute(sa.text("DELETE FROM queue_lanes WHERE 1 = 0"))
            # when a read starts meanwhile
            async with asyncio.timeout(2):
                async with db.reading() as reader:
                    lanes = await reader.scalar(
                        sa.text("SELECT count(*) FROM queue_lanes")
                    )
            # then it answered from a snapshot without waiting for the writer
            assert lanes is not None
    finally:
        await db.dispose()
