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


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_a_job_stored_before_0002_keeps_its_preview_setting_under_the_new_name(
    kind: str, tmp_path: Path
) -> None:
    import sqlalchemy as sa
    from alembic import command

    from core.db import Database
    from core.enums import JobKind, JobSource, JobStatus, Tier
    from core.migrate import alembic_config
    from core.models import Job, User

    name = f"darkroom_migrate_{uuid.uuid4().hex[:8]}"
    if kind == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    else:
        asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
        url = _pg_url(name)

    async def store_old_job() -> uuid.UUID:
        db = Database(url)
        async with db.session() as session:
            user = User(email="old@example.com", tier=Tier.PRO)
            session.add(user)
            await session.flush()
            job = Job(
                user_id=user.id,
                kind=JobKind.GENERATE,
                source=JobSource.API,
                status=JobStatus.QUEUED,
                model_id="darkroom-tiny",
                params={"prompt": "a fox", "previews": 2},
            )
            # Only the columns 0001 had: today's model has more.
            old_columns = {
                c.name: getattr(job, c.name)
                for c in Job.__table__.columns  # type: ignore[attr-defined]
                if c.name not in {"queue_ticket", "webhook_url", "webhook_events"}
            }
            await session.execute(sa.insert(Job).values(old_columns))
        await db.dispose()
        return job.id

    async def params_of(job_id: uuid.UUID) -> dict[str, object]:
        db = Database(url)
        async with db.session() as session:
            job = await session.get(Job, job_id)
        await db.dispose()
        assert job is not None
        return job.params

    try:
        # given a database at 0001 holding a job whose params say "previews"
        command.upgrade(alembic_config(url), "0001")
        job_id = asyncio.run(store_old_job())
        # when it is brought to head
        upgrade_database(url)
        # then the job asks for the same previews under the request's own name
        assert asyncio.run(params_of(job_id)) == {"prompt": "a fox", "preview_every": 2}
    finally:
        if kind == "postgresql":
            asyncio.run(_admin(f'DROP DATABASE "{name}" WITH (FORCE)'))
