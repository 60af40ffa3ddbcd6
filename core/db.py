"""The async database: engine, sessions and the SQLite settings that make it safe."""

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

log = logging.getLogger(__name__)
T = TypeVar("T")

# The transactions committed (or sent to commit) within `counting_commits()`.
_commits: ContextVar[list[int] | None] = ContextVar("darkroom_commits", default=None)

# How long a SQLite writer waits for the lock before giving up, in milliseconds.
SQLITE_BUSY_TIMEOUT_MS = 30_000
# A pooled server connection idle this long is pinged before use; one used more
# recently is trusted, so a busy API pays no round trip per checkout.
IDLE_PING_SECONDS = 30.0
# Server connections are replaced after this long, before proxies or the server
# drop them.
RECYCLE_SECONDS = 1800


class Database:
    """One engine and its session factory; `session()` is a committed unit of work."""

    def __init__(
        self,
        url: str,
        *,
        echo: bool = False,
        idle_ping_seconds: float = IDLE_PING_SECONDS,
        pool_size: int = 10,
        max_overflow: int = 20,
    ) -> None:
        self.url = url
        self.engine: AsyncEngine = create_async_engine(
            url, echo=echo, **_engine_options(url, pool_size, max_overflow)
        )
        self._read_engine = self.engine
        _count_commits(self.engine)
        if self.is_sqlite:
            _sqlite_transactions(self.engine, "BEGIN IMMEDIATE")
            # WAL lets readers run beside the one writer, on connections of
            # their own that never take the write lock.
            self._read_engine = create_async_engine(
                url, echo=echo, **_engine_options(url, pool_size, max_overflow)
            )
            _sqlite_transactions(self._read_engine, "BEGIN")
        else:
            _ping_idle_connections(self.engine, idle_ping_seconds)
        self._sessions = async_sessionmaker(
            self.engine, class_=AsyncSession, expire_on_commit=False
        )
        self._read_sessions = async_sessionmaker(
            self._read_engine, class_=AsyncSession, expire_on_commit=False
        )

    @property
    def is_sqlite(self) -> bool:
        """True for the embedded SQLite database."""
        return self.engine.dialect.name == "sqlite"

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """Open a transaction; commit on success, roll back on error."""
        async with self._sessions() as session, session.begin():
            yield session

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncSession]:
        """Open a transaction that only reads: on SQLite it runs beside the writer
        (a snapshot, never the write lock), elsewhere it is `session()`."""
        async with self._read_sessions() as session, session.begin():
            yield session

    async def ping(self) -> None:
        """Raise if the database cannot answer a trivial query."""
        async with self.engine.connect() as conn:
            await conn.execute(sa.text("SELECT 1"))

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()
        if self._read_engine is not self.engine:
            await self._read_engine.dispose()


def _engine_options(url: str, pool_size: int, max_overflow: int) -> dict[str, Any]:
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}}
    return {
        "pool_recycle": RECYCLE_SECONDS,
        "pool_size": pool_size,
        "max_overflow": max_overflow,
        # No JIT: our statements are short, and a correlated subquery's estimate
        # made PostgreSQL compile one (70 ms) to run it in 5 ms (the followed
        # jobs' places at 100,000 queued, benchmarks/queue_places.py).
        "connect_args": {"server_settings": {"jit": "off"}},
    }


def _ping_idle_connections(engine: AsyncEngine, idle_seconds: float) -> None:
    """Ping a pooled connection on checkout only when it has sat idle.

    A failed ping raises DisconnectionError, which makes the pool discard that
    connection and retry the checkout with a fresh one (SQLAlchemy's documented
    pessimistic-disconnect recipe, minus the round trip on every checkout). A
    server restart within the idle window fails one statement; SQLAlchemy then
    invalidates the whole pool, so the next unit of work reconnects.
    """
    pool = engine.sync_engine.pool
    dialect = engine.dialect

    @sa.event.listens_for(pool, "checkin")
    def _on_checkin(_dbapi_conn: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @sa.event.listens_for(pool, "checkout")
    def _on_checkout(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < idle_seconds:
            return
        try:
            dialect.do_ping(dbapi_conn)
        except Exception as exc:
            raise sa.exc.DisconnectionError("idle connection is gone") from exc


@contextmanager
def counting_commits() -> Iterator[list[int]]:
    """Count the transactions this context commits, in `[n]`: zero after a
    failure means it changed nothing, so it can safely run again.

    A commit is counted before it is sent, so one whose answer was lost (the
    server went away mid-COMMIT, and it may have landed) counts too.
    """
    counter = [0]
    reset = _commits.set(counter)
    try:
        yield counter
    finally:
        _commits.reset(reset)


def _count_commits(engine: AsyncEngine) -> None:
    # SQLAlchemy runs this in a greenlet that carries the caller's context.
    @sa.event.listens_for(engine.sync_engine, "commit")
    def _on_commit(_conn: Any) -> None:
        counter = _commits.get()
        if counter is not None:
            counter[0] += 1


def _sqlite_transactions(engine: AsyncEngine, begin: str) -> None:
    """WAL, a busy timeout and foreign keys on each connection; each transaction
    opened with `begin`.

    Writers use BEGIN IMMEDIATE: a deferred transaction that reads and then
    writes cannot wait for the write lock (SQLite answers "database is locked" at
    once), so concurrent debits would fail instead of queueing; taking the lock at
    BEGIN makes writers wait their turn. Readers use a deferred BEGIN: a snapshot,
    lock-free beside the writer.
    """

    @sa.event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # let us issue BEGIN ourselves
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @sa.event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql(begin)


# SQLSTATE classes of a server that is gone or not accepting work yet: connection
# exceptions (08...), and shutdown or start-up in progress (57P01-57P03).
_DOWN_STATES = ("08", "57P01", "57P02", "57P03")


def is_database_down(error: BaseException) -> bool:
    """Whether `error` (or what caused it) says the database server is away,
    rather than that a statement was wrong."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, sa.exc.DBAPIError) and seen.connection_invalidated:
            return True
        if isinstance(seen, sa.exc.InterfaceError | ConnectionError):
            return True
        state = getattr(seen, "sqlstate", None)
        if isinstance(state, str) and state.startswith(_DOWN_STATES):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


async def retry_database(
    call: Callable[[], Awaitable[T]], *, what: str, patience: float
) -> T:
    """Run `call`, again while the database is away, for up to `patience` seconds.

    A restarted server fails the pooled connections once; SQLAlchemy then drops
    the pool, so the next try connects afresh. Other errors raise at once.
    """
    deadline = time.monotonic() + patience
    delay = 0.2
    warned = False
    while True:
        try:
            return await call()
        except Exception as err:
            if not is_database_down(err) or time.monotonic() >= deadline:
                raise
            if not warned:
                log.warning("%s: the database is unavailable, retrying: %s", what, err)
                warned = True
        await asyncio.sleep(delay)
        delay = min(delay * 2, 2.0)
