"""Benchmark a small fleet at scale: two `darkroom serve` and four `darkroom worker`
processes on one PostgreSQL and one Redis, under a burst of submissions.

Each run starts on a fresh database: a heavy account with many outputs (COPY,
benchmarks/history.py's load), `--accounts` accounts (half free, half paid) with
credits and a token each, made through core functions as tests/test_replicas.py
does, and the fleet started as that test starts it. The deep run then pre-fills
the queue with `--deep` QUEUED jobs (benchmarks/queue_places.py's fill, with a
real job's params so workers can run them, each also put in arq's queue).

The burst: `--submissions` generationCreate calls (64x64, 3 steps) in `--seconds`
seconds, open loop (sent on schedule whatever the answers), alternating between
the two APIs; every tenth account's jobs are followed with `jobUpdates(jobId)`
on a graphql-transport-ws socket to the other API, subscribed as the submission
answers. Beside it, the heavy account's history page is read over GraphQL.

    .venv/bin/python benchmarks/scale.py            # 10,000 from 1,000 accounts; deep 100,000
    .venv/bin/python benchmarks/scale.py --quick    # 1,000 from 200 accounts; deep 10,000
"""

import argparse
import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # ahead of benchmarks/, whose engine.py is not ours

import asyncpg  # noqa: E402
import httpx  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from arq.constants import job_key_prefix  # noqa: E402
from arq.jobs import serialize_job  # noqa: E402
from redis.asyncio import Redis  # noqa: E402
from strawberry import relay  # noqa: E402
from websockets.asyncio.client import ClientConnection, connect  # noqa: E402

from benchmarks import history, queue_places  # noqa: E402
from benchmarks.machine import machine  # noqa: E402
from core.accounts import create_user  # noqa: E402
from core.credits import FreeCreditPolicy  # noqa: E402
from core.db import Database  # noqa: E402
from core.enums import Scope, Tier  # noqa: E402
from core.migrate import upgrade_database  # noqa: E402
from core.settings import Settings  # noqa: E402
from core.tokens import create_token  # noqa: E402
from jobs.queue import ARQ_EXPIRES, ARQ_QUEUE, TASK_GENERATION, queue_score_ms  # noqa: E402

SERVER = os.environ.get("DARKROOM_BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
REDIS_URL = os.environ.get("DARKROOM_BENCH_REDIS", "redis://127.0.0.1:6379/9")
NAME = "darkroom_scale_bench"
RESULTS = Path(__file__).with_name("RESULTS.md")
HEADING = "## Scale (benchmarks/scale.py)"
APIS, WORKERS = 2, 4
# Connections per process (pool + overflow): 2 x 8 + 4 x 4 = 32, and the
# benchmark's own few, within ~40 of the shared server's 100.
API_POOL, WORKER_POOL = (6, 2), (3, 1)
FOLLOW_EVERY = 10  # every tenth account's jobs are followed
TAIL_SECONDS = 10.0  # events still counted after the last submission answered
GOALS = {"submission p95": 50.0, "first-event lag p95": 250.0}  # ms
TIERS = [Tier.FREE, Tier.FREE, Tier.STARTER, Tier.FREE, Tier.PRO, Tier.ULTIMATE]
CREATE = """mutation($input: GenerationCreateInput!) {
  generationCreate(input: $input) { job { id } userErrors { code message } } }"""
SMALL = {"prompt": "a red fox", "width": 64, "height": 64, "inferenceSteps": 3}
FOLLOW = """subscription($id: ID!) { jobUpdates(jobId: $id) { type status } }"""
HISTORY = "{ outputs(first: 50) { totalCount edges { node { id } } } }"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(f"{SERVER}/postgres")
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def _codes(counts: dict[str, int]) -> str:
    return ", ".join(f"{code} {n}" for code, n in sorted(counts.items())) or "none"


def _lowest_priority() -> None:
    os.nice(19)


class Fleet:
    """The fleet's processes, each in a process group of its own."""

    def __init__(self, url: str, folder: Path) -> None:
        self.url, self.folder = url, folder
        self.apis: list[str] = []
        self.processes: list[subprocess.Popen[bytes]] = []

    def _env(self, pool: tuple[int, int]) -> dict[str, str]:
        # As tests/test_replicas.py sets it, less its test-only limits.
        return {
            **os.environ,
            "HF_HUB_OFFLINE": "1",
            "DARKROOM_DATA_DIR": str(self.folder / "data"),
            "DARKROOM_DATABASE_URL": self.url,
            "DARKROOM_REDIS_URL": REDIS_URL,
            "DARKROOM_STORAGE_URL": str(self.folder / "data" / "files"),
            "DARKROOM_DB_POOL_SIZE": str(pool[0]),
            "DARKROOM_DB_MAX_OVERFLOW": str(pool[1]),
            "DARKROOM_DRAIN_SECONDS": "1",
            "DARKROOM_SEARCH": "off",
        }

    def _start(self, name: str, args: list[str], pool: tuple[int, int]) -> None:
        darkroom = str(Path(sys.executable).parent / "darkroom")
        env = self._env(pool)
        lowest = None
        if args[0] == "worker":
            # Workers stand in for GPU machines: here they share the APIs' two
            # cores, so they run at the lowest priority on one torch thread and
            # the figures measure the API path, not the stand-in GPUs' CPU use.
            env["DARKROOM_TORCH_THREADS"] = "1"
            lowest = _lowest_priority
        with open(self.folder / f"{name}.log", "wb") as log:
            self.processes.append(
                subprocess.Popen(
                    [darkroom, *args],
                    env=env,
                    preexec_fn=lowest,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # its own group, stopped as one
                )
            )

    async def start(self, db: Database) -> None:
        for i in range(APIS):
            port = _free_port()
            self.apis.append(f"http://127.0.0.1:{port}")
            self._start(f"api{i}", ["serve", "--port", str(port)], API_POOL)
        for i in range(WORKERS):
            self._start(f"worker{i}", ["worker"], WORKER_POOL)
        deadline = time.monotonic() + 300
        async with httpx.AsyncClient() as client:
            for url in self.apis:
                while True:
                    self._check(deadline)
                    with contextlib.suppress(httpx.TransportError):
                        if (await client.get(f"{url}/readyz")).status_code == 200:
                            break
                    await asyncio.sleep(0.5)
        while await _scalar(db, "SELECT count(*) FROM workers") < WORKERS:
            self._check(deadline)
            await asyncio.sleep(0.5)

    def _check(self, deadline: float) -> None:
        dead = [p.args[1] for p in self.processes if p.poll() is not None]
        if dead or time.monotonic() > deadline:
            raise RuntimeError(f"fleet not ready (exited: {dead}):\n{self.logs()}")

    def logs(self) -> str:
        return "\n".join(
            f"--- {p.name}\n{p.read_text(errors='replace')[-2000:]}"
            for p in sorted(self.folder.glob("*.log"))
        )

    def cpu_seconds(self) -> dict[str, float]:
        """User + system CPU of each process so far (its children not counted)."""
        tick = os.sysconf("SC_CLK_TCK")
        seconds = {}
        for p in self.processes:
            with contextlib.suppress(OSError):
                stat = Path(f"/proc/{p.pid}/stat").read_text().rsplit(")", 1)[1]
                fields = stat.split()
                seconds[Path(p.args[1]).name + str(p.pid)] = (
                    int(fields[11]) + int(fields[12])
                ) / tick
        return seconds

    def stop(self) -> None:
        for p in self.processes:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.pid, signal.SIGTERM)
        for p in self.processes:
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        self.processes.clear()


async def _scalar(db: Database, sql: str, **params: Any) -> Any:
    async with db.session() as session:
        return await session.scalar(sa.text(sql), params)


async def _rows(db: Database, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    async with db.session() as session:
        return [tuple(r) for r in await session.execute(sa.text(sql), params)]


@dataclass
class Account:
    """A benchmark account and its token."""

    id: uuid.UUID
    token: str
    tier: Tier
    followed: bool


async def _accounts(db: Database, count: int) -> list[Account]:
    policy = FreeCreditPolicy.from_settings(Settings(database_url=db.url))
    made = []
    async with db.session() as session:
        for i in range(count):
            tier = TIERS[i % len(TIERS)]
            user = await create_user(
                session, email=f"scale{i}@bench.example", tier=tier, credits=1000,
                policy=policy,
            )  # fmt: skip
            _token, secret = await create_token(
                session, user_id=user.id, scopes=(Scope.GENERATE, Scope.READ)
            )
            made.append(Account(user.id, secret, tier, i % FOLLOW_EVERY == 0))
    return made


@dataclass
class Burst:
    """What the clients saw."""

    latencies: list[float] = field(default_factory=list)  # ms, accepted only
    refused: Counter[str] = field(default_factory=Counter)
    accepted: dict[uuid.UUID, uuid.UUID] = field(default_factory=dict)  # job: user
    answered_at: dict[str, float] = field(default_factory=dict)  # followed job gid
    first_event: dict[str, float] = field(default_factory=dict)
    started_events: Counter[str] = field(default_factory=Counter)
    events: list[float] = field(default_factory=list)  # arrival times
    history_ms: list[float] = field(default_factory=list)
    history_errors: Counter[str] = field(default_factory=Counter)


class Follower:
    """One followed account's socket to an API, subscribing to each of its jobs."""

    def __init__(self, ws: ClientConnection, burst: Burst) -> None:
        self.ws, self.burst = ws, burst
        self.reader = asyncio.create_task(self._read())

    @classmethod
    async def open(cls, api: str, token: str, burst: Burst) -> "Follower":
        ws = await connect(
            api.replace("http://", "ws://") + "/graphql",
            subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
            open_timeout=60,
            max_queue=None,
        )
        init = {
            "type": "connection_init",
            "payload": {"Authorization": f"Bearer {token}"},
        }
        await ws.send(json.dumps(init))
        ack = json.loads(await asyncio.wait_for(ws.recv(), 60))
        assert ack["type"] == "connection_ack", ack
        return cls(ws, burst)

    async def follow(self, job_gid: str) -> None:
        payload = {"query": FOLLOW, "variables": {"id": job_gid}}
        await self.ws.send(
            json.dumps({"id": job_gid, "type": "subscribe", "payload": payload})
        )

    async def _read(self) -> None:
        burst = self.burst
        with contextlib.suppress(Exception):
            async for raw in self.ws:
                now = time.perf_counter()
                message = json.loads(raw)
                if message.get("type") != "next":
                    continue
                gid = message["id"]
                burst.events.append(now)
                burst.first_event.setdefault(gid, now)
                update = (message["payload"].get("data") or {}).get("jobUpdates")
                if update and update["type"] == "STARTED":
                    burst.started_events[gid] += 1

    async def close(self) -> None:
        await self.ws.close()
        self.reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.reader


async def _submit(
    client: httpx.AsyncClient,
    api: str,
    account: Account,
    burst: Burst,
    follower: Follower | None,
) -> None:
    start = time.perf_counter()
    try:
        response = await client.post(
            f"{api}/graphql",
            json={"query": CREATE, "variables": {"input": SMALL}},
            headers={"Authorization": f"Bearer {account.token}"},
        )
        answer = response.json()
    except (httpx.HTTPError, ValueError) as err:
        burst.refused[type(err).__name__] += 1
        return
    took = time.perf_counter()
    errors = answer.get("errors") or []
    made = (answer.get("data") or {}).get("generationCreate") or {}
    if errors or made.get("userErrors"):
        problem = errors[0].get("extensions", {}) if errors else made["userErrors"][0]
        burst.refused[str(problem.get("code"))] += 1
        return
    gid = made["job"]["id"]
    burst.latencies.append((took - start) * 1000)
    burst.accepted[uuid.UUID(relay.GlobalID.from_id(gid).node_id)] = account.id
    if follower is not None:
        burst.answered_at[gid] = took
        await follower.follow(gid)


async def _history(
    client: httpx.AsyncClient,
    apis: list[str],
    token: str,
    burst: Burst,
    stop: asyncio.Event,
) -> None:
    i = 0
    while not stop.is_set():
        start = time.perf_counter()
        try:
            response = await client.post(
                f"{apis[i % len(apis)]}/graphql",
                json={"query": HISTORY},
                headers={"Authorization": f"Bearer {token}"},
            )
            errors = response.json().get("errors") or []
            code = errors[0].get("extensions", {}).get("code") if errors else None
        except (httpx.HTTPError, ValueError) as err:
            code = type(err).__name__
        if code is None:
            burst.history_ms.append((time.perf_counter() - start) * 1000)
        else:
            burst.history_errors[str(code)] += 1
        i += 1
        await asyncio.sleep(0.2)


async def burst(
    fleet: Fleet, accounts: list[Account], heavy_token: str, args: argparse.Namespace
) -> tuple[Burst, float, float]:
    """Send the submissions on schedule; return what was seen and the burst's
    start and end (perf_counter)."""
    seen = Burst()
    followers: dict[uuid.UUID, Follower] = {}
    for k, account in enumerate(a for a in accounts if a.followed):
        api = fleet.apis[(k + 1) % len(fleet.apis)]
        followers[account.id] = await Follower.open(api, account.token, seen)
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
    async with httpx.AsyncClient(limits=limits, timeout=60) as client:
        stop = asyncio.Event()
        reader = asyncio.create_task(
            _history(client, fleet.apis, heavy_token, seen, stop)
        )
        tasks = []
        start = time.perf_counter()
        interval = args.seconds / args.submissions
        for i in range(args.submissions):
            await asyncio.sleep(max(0.0, start + i * interval - time.perf_counter()))
            account = accounts[i % len(accounts)]
            tasks.append(
                asyncio.create_task(
                    _submit(
                        client,
                        fleet.apis[i % len(fleet.apis)],
                        account,
                        seen,
                        followers.get(account.id),
                    )
                )
            )
        await asyncio.gather(*tasks)
        end = time.perf_counter()
        stop.set()
        await reader
    await asyncio.sleep(TAIL_SECONDS)
    for follower in followers.values():
        await follower.close()
    return seen, start, end


async def _fill_deep(db: Database, depth: int, template: dict[str, Any]) -> int:
    """queue_places' deep queue, runnable, in the database and in arq's queue;
    returns how many dispatched jobs were put in arq's queue."""
    t0 = datetime.now(UTC) - timedelta(minutes=3)  # within the queue's expiry
    await queue_places._fill(db, depth, t0=t0, template=template)
    rows = await _rows(
        db,
        "SELECT id, paid_lane, enqueued_at FROM jobs"
        " WHERE status = 'QUEUED' AND enqueued_at IS NOT NULL"
        # In queue order: the workers already run, and chunks sent in any other
        # order let them take later jobs before earlier ones had arrived.
        " ORDER BY paid_lane DESC, queue_ticket",
    )
    redis = Redis.from_url(REDIS_URL)
    try:
        # What ArqQueue.enqueue writes, pipelined: one psetex and zadd per job.
        now_ms = int(time.time() * 1000)
        expires = int(ARQ_EXPIRES.total_seconds() * 1000)
        for start in range(0, len(rows), 5000):
            pipe = redis.pipeline(transaction=False)
            for job_id, paid, enqueued_at in rows[start : start + 5000]:
                key = str(job_id)
                body = serialize_job(TASK_GENERATION, (key,), {}, None, now_ms)
                pipe.psetex(job_key_prefix + key, expires, body)
                pipe.zadd(ARQ_QUEUE, {key: queue_score_ms(enqueued_at, paid=paid)})
            await pipe.execute()
    finally:
        await redis.aclose()
    return len(rows)


async def _warm_up(fleet: Fleet, db: Database, account: Account) -> dict[str, Any]:
    """One job on each API, run to the end: both APIs and the engine are warm.
    Returns the columns a deep-queue row copies from a real job."""
    async with httpx.AsyncClient(timeout=60) as client:
        for api in fleet.apis:
            response = await client.post(
                f"{api}/graphql",
                json={"query": CREATE, "variables": {"input": SMALL}},
                headers={"Authorization": f"Bearer {account.token}"},
            )
            made = response.json()["data"]["generationCreate"]
            assert not made["userErrors"], made
    deadline = time.monotonic() + 120
    sql = "SELECT count(*) FROM jobs WHERE user_id = :u AND status = 'SUCCEEDED'"
    while await _scalar(db, sql, u=account.id) < len(fleet.apis):
        if time.monotonic() > deadline:
            raise RuntimeError("warm-up jobs did not finish:\n" + fleet.logs())
        await asyncio.sleep(0.2)
    row = (
        await _rows(
            db,
            "SELECT params, model_id, total_steps, cost FROM jobs WHERE user_id = :u"
            " LIMIT 1",
            u=account.id,
        )
    )[0]
    return {"params": row[0], "model_id": row[1], "total_steps": row[2], "cost": row[3]}


def fifo_violations(rows: list[tuple[Any, ...]]) -> tuple[int, int, float]:
    """Jobs that a worker claimed while an earlier-ticketed job of their lane was
    still waiting, per lane; returns (violations, ticketed jobs claimed, largest
    lead in seconds).

    rows: (paid_lane, queue_ticket, started_at, finished_at, status) of every job
    that holds a ticket. A job leaves its lane's queue when claimed (started_at),
    or, never claimed, when it ended (cancelled or failed: finished_at); one still
    QUEUED has not left. Job B violates FIFO when some A in its lane with a
    smaller ticket left strictly after B was claimed. Tickets are issued at
    dispatch, so an account's overflow beyond its parallel limit gets its ticket
    (its turn) only when a slot frees, and is not counted against. PostgreSQL
    stamps each start as the row is taken (jobs/claiming.py), so starts sort
    in claim order across workers.
    """
    never = datetime.max.replace(tzinfo=UTC)
    violations, claimed, lead = 0, 0, 0.0
    for paid in (True, False):
        lane = sorted((r for r in rows if r[0] is paid), key=lambda r: r[1])
        latest_leave = None  # the latest leave of the lane's earlier tickets
        for _paid, _ticket, started, finished, status in lane:
            if started is not None:
                claimed += 1
                if latest_leave is not None and latest_leave > started:
                    violations += 1
                    if latest_leave != never:
                        lead = max(lead, (latest_leave - started).total_seconds())
                    else:
                        lead = float("inf")
            leave = started or (finished if status != "QUEUED" else None) or never
            latest_leave = leave if latest_leave is None else max(latest_leave, leave)
    return violations, claimed, lead


async def _db_time(db: Database) -> tuple[float, int]:
    """Milliseconds the database's backends spent active, and commits, so far."""
    row = (
        await _rows(
            db,
            "SELECT active_time, xact_commit FROM pg_stat_database"
            " WHERE datname = current_database()",
        )
    )[0]
    return float(row[0]), int(row[1])


async def run(args: argparse.Namespace, depth: int, folder: Path) -> dict[str, Any]:
    """One run on a fresh database and fleet; its figures."""
    await _admin(f'DROP DATABASE IF EXISTS "{NAME}" WITH (FORCE)')
    await _admin(f'CREATE DATABASE "{NAME}"')
    url = f"{SERVER.replace('postgresql://', 'postgresql+asyncpg://')}/{NAME}"
    await asyncio.to_thread(upgrade_database, url)
    redis = Redis.from_url(REDIS_URL)
    await redis.flushdb()
    await redis.aclose()
    heavy_user = (
        await history.load(f"{SERVER}/{NAME}", args.heavy, 2, heavy=args.heavy)
    )[0]
    db = Database(url, pool_size=2, max_overflow=2)
    fleet = Fleet(url, folder / f"deep{depth}")
    fleet.folder.mkdir()
    try:
        async with db.session() as session:
            heavy_token = (
                await create_token(session, user_id=heavy_user, scopes=[Scope.READ])
            )[1]
        accounts = await _accounts(db, args.accounts + 1)
        warm, accounts = accounts[-1], accounts[:-1]
        started = time.perf_counter()
        await fleet.start(db)
        print(f"  fleet ready in {time.perf_counter() - started:.1f} s", flush=True)
        template = await _warm_up(fleet, db, warm)
        filled = await _fill_deep(db, depth, template) if depth else 0
        if depth:
            print(f"  filled {depth:,} queued ({filled:,} in arq's queue)", flush=True)
        # begin(), not connect(): statistics are transactional, and a block
        # that never commits leaves the planner with the old ones.
        async with db.engine.begin() as conn:
            await conn.exec_driver_sql("ANALYZE")
        await asyncio.sleep(2)  # the stats of the fill reported
        db_before = await _db_time(db)
        cpu_before, load_before = fleet.cpu_seconds(), os.getloadavg()[0]
        cpu_before["client"] = sum(os.times()[:2])
        wall_before = datetime.now(UTC)
        seen, start, end = await burst(fleet, accounts, heavy_token, args)
        window = time.perf_counter() - start
        cpu_after = fleet.cpu_seconds()
        cpu_after["client"] = sum(os.times()[:2])
        await asyncio.sleep(1.5)  # backends report their stats when idle
        db_after = await _db_time(db)
        figures = await _check(db, seen, wall_before, warm.id)
    except BaseException:
        print(fleet.logs(), file=sys.stderr)
        raise
    finally:
        fleet.stop()
        await db.dispose()
    accepted = len(seen.accepted)
    lags = [
        (seen.first_event[g] - seen.answered_at[g]) * 1000
        for g in seen.answered_at
        if g in seen.first_event
    ]
    cpu = {k: cpu_after.get(k, 0) - v for k, v in cpu_before.items()}
    return {
        **figures,
        "depth": depth,
        "sent": args.submissions,
        "accepted": accepted,
        "refused": dict(seen.refused),
        "send_s": end - start,
        "window_s": window,
        "sub": [_pct(seen.latencies, q) for q in (50, 95, 99)],
        "lag": [_pct(lags, q) for q in (50, 95)],
        "followed": len(seen.answered_at),
        "no_event": len(seen.answered_at) - len(lags),
        "events_per_s": len(seen.events) / window,
        "started_twice_seen": sum(1 for n in seen.started_events.values() if n > 1),
        "db_ms_per_job": (db_after[0] - db_before[0]) / max(1, accepted),
        "commits_per_job": (db_after[1] - db_before[1]) / max(1, accepted),
        "history": [_pct(seen.history_ms, q) for q in (50, 95)],
        "history_n": len(seen.history_ms),
        "history_errors": seen.history_errors,
        "cpu": cpu,
        "load": (load_before, os.getloadavg()[0]),
    }


async def _check(
    db: Database, seen: Burst, since: datetime, warm_user: uuid.UUID
) -> dict[str, Any]:
    """Lost or rerun jobs, queue waits and FIFO, from the rows. The warm-up jobs
    are left out of FIFO: the deep fill numbers its tickets from 1 again."""
    rows = await _rows(
        db,
        "SELECT id, user_id, status, attempts, created_at, started_at, finished_at"
        " FROM jobs WHERE created_at >= :since",
        since=since,
    )
    by_id = {r[0]: r for r in rows}
    lost = sum(
        1 for job, user in seen.accepted.items() if by_id.get(job, (0, None))[1] != user
    )
    ours = set(seen.accepted.values())
    extra = sum(1 for r in rows if r[1] in ours and r[0] not in seen.accepted)
    rerun = sum(1 for r in rows if r[0] in seen.accepted and r[3] > 1)
    statuses = Counter(r[2] for r in rows if r[0] in seen.accepted)
    waits = [
        (r[5] - r[4]).total_seconds() * 1000
        for r in rows
        if r[0] in seen.accepted and r[2] == "SUCCEEDED" and r[5] is not None
    ]
    ticketed = await _rows(
        db,
        "SELECT paid_lane, queue_ticket, started_at, finished_at, status FROM jobs"
        " WHERE queue_ticket IS NOT NULL AND user_id != :warm",
        warm=warm_user,
    )
    violations, claimed, lead = fifo_violations(ticketed)
    return {
        "lost": lost,
        "extra": extra,
        "rerun": rerun,
        "statuses": dict(statuses),
        "wait": [_pct(waits, q) for q in (50, 95)],
        "finished": len(waits),
        "fifo": violations,
        "fifo_claimed": claimed,
        "fifo_lead_s": lead,
    }


def _verdict(value: float, goal: float) -> str:
    return "PASS" if value <= goal else "MISS"


def report(
    args: argparse.Namespace, command: str, results: list[dict[str, Any]]
) -> str:
    """The RESULTS.md section."""
    lines = [
        f"{HEADING}",
        "",
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, `{command}` on {machine()}"
        f" (2 cores shared by the fleet, PostgreSQL, Redis, the clients and other"
        f" agents). {APIS} `darkroom serve` + {WORKERS} `darkroom worker`"
        f" (tiny model, 64x64, 3 steps; pools {API_POOL[0]}+{API_POOL[1]} per API,"
        f" {WORKER_POOL[0]}+{WORKER_POOL[1]} per worker; workers at nice 19 with one"
        " torch thread, standing in for GPU machines) on PostgreSQL 15 and Redis."
        f" {args.submissions:,} generationCreate from {args.accounts:,} accounts"
        " (tiers free 1/2, starter, pro, ultimate 1/6 each) sent open-loop over"
        f" {args.seconds:g} s alternating between the APIs; every"
        f" {FOLLOW_EVERY}th account's jobs followed by `jobUpdates(jobId)` on a socket"
        " to the other API, subscribed when the submission answers; the heavy"
        f" account ({args.heavy:,} outputs) read `{HISTORY}` every 0.2 s meanwhile.",
        "",
        "| figure | empty queue | deep queue | goal |",
        "|---|---|---|---|",
    ]

    def row(name: str, cell: Any, goal: str = "") -> None:
        lines.append(
            f"| {name} | " + " | ".join(cell(r) for r in results) + f" | {goal} |"
        )

    row("queued before the burst", lambda r: f"{r['depth']:,}")
    row("accepted / sent", lambda r: f"{r['accepted']:,} / {r['sent']:,}")
    row(
        "refused (code: count)",
        lambda r: ", ".join(f"{k}: {v}" for k, v in r["refused"].items()) or "0",
    )
    row("sent over (s)", lambda r: f"{r['send_s']:.1f}")
    row(
        "submission p50 / p95 / p99 ms",
        lambda r: (
            " / ".join(f"{x:.0f}" for x in r["sub"])
            + f" {_verdict(r['sub'][1], GOALS['submission p95'])}"
        ),
        "p95 <= 50",
    )
    row(
        "first-event lag p50 / p95 ms",
        lambda r: (
            " / ".join(f"{x:.0f}" for x in r["lag"])
            + f" {_verdict(r['lag'][1], GOALS['first-event lag p95'])}"
            + f" ({r['followed']} followed, {r['no_event']} without an event)"
        ),
        "p95 <= 250",
    )
    row(
        "finished jobs (SUCCEEDED) in the window",
        lambda r: f"{r['finished']:,} ({r['finished'] / r['window_s']:.1f}/s)",
    )
    row(
        "queue wait of finished p50 / p95 s",
        lambda r: " / ".join(f"{x / 1000:.1f}" for x in r["wait"]),
    )
    row(
        "DB active ms per accepted job",
        lambda r: f"{r['db_ms_per_job']:.1f} ({r['commits_per_job']:.1f} commits)",
    )
    row("events/s seen by subscribers", lambda r: f"{r['events_per_s']:.1f}")
    row(
        "lost / extra rows / rerun (attempts > 1) / STARTED twice",
        lambda r: (
            f"{r['lost']} / {r['extra']} / {r['rerun']} / {r['started_twice_seen']}"
        ),
        "0",
    )
    row(
        "FIFO violations / ticketed jobs claimed",
        lambda r: (
            f"{r['fifo']} / {r['fifo_claimed']:,}"
            + (f" (largest lead {r['fifo_lead_s']:.2f} s)" if r["fifo"] else "")
        ),
        "0",
    )
    row(
        "history page p50 / p95 ms",
        lambda r: (
            " / ".join(f"{x:.0f}" for x in r["history"])
            + f" ({r['history_n']} reads; refused: {_codes(r['history_errors'])})"
        ),
    )
    row("CPU s in the window: APIs / workers / clients", lambda r: _cpu(r["cpu"]))
    row(
        "load average before / after",
        lambda r: " / ".join(f"{x:.1f}" for x in r["load"]),
    )
    lines += [
        "",
        "Submission latency: request sent to answer parsed, accepted ones. First-event"
        " lag: submission answered to that job's first `next` on its subscription"
        " (the QUEUED snapshot for a subscriber that comes after the event). Queue"
        " wait: started_at - created_at of the burst's jobs that SUCCEEDED (overflow"
        " waits included). DB time: pg_stat_database.active_time of the benchmark's"
        " database over the window (every backend: APIs, workers, the history reads)"
        " per accepted job; pg_stat_statements is installed but not in"
        " shared_preload_libraries, so per-statement times are not available. Lost:"
        " an accepted job id without its row for that account; extra: rows of the"
        " burst's accounts that no answer named; rerun: attempts > 1 (a claim adds one);"
        " STARTED twice: a followed job with two STARTED events. FIFO, per lane (paid,"
        " free): tickets (core/models.py QueueLane, jobs/positions.py issue_tickets) are"
        " issued gapless in dispatch order; a job leaves its lane when claimed"
        " (started_at) or, never claimed, when cancelled or failed; a violation is a"
        " claimed job B while a job of the same lane with a smaller ticket had not yet"
        " left (it was claimed strictly later, or still waits). Overflow beyond an"
        " account's parallel limit takes its ticket only when dispatched, so it is"
        " legitimately later; companions batched into one engine call share the"
        " leader's start and do not count. The deep run's pre-filled jobs count too.",
        "",
    ]
    return "\n".join(lines)


def _cpu(cpu: dict[str, float]) -> str:
    apis = [v for k, v in cpu.items() if k.startswith("serve")]
    workers = [v for k, v in cpu.items() if k.startswith("worker")]
    return (
        " + ".join(f"{v:.0f}" for v in apis)
        + " / "
        + " + ".join(f"{v:.0f}" for v in workers)
        + f" / {cpu.get('client', 0):.0f}"
    )


def write_results(text: str) -> None:
    """Replace the Scale section of RESULTS.md, or append one."""
    old = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else ""
    start = old.find(HEADING)
    if start >= 0:
        end = old.find("\n## ", start + len(HEADING))
        old = old[:start].rstrip("\n") + ("\n" + old[end:] if end >= 0 else "")
    RESULTS.write_text(old.rstrip("\n") + "\n\n" + text, encoding="utf-8")


async def main(args: argparse.Namespace, command: str) -> None:
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        try:
            for depth in (0, args.deep):
                print(f"run: {depth:,} queued before the burst", flush=True)
                results.append(await run(args, depth, Path(tmp)))
        finally:
            await _admin(f'DROP DATABASE IF EXISTS "{NAME}" WITH (FORCE)')
    text = report(args, command, results)
    print(text)
    write_results(text)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=10_000)
    parser.add_argument("--accounts", type=int, default=1_000)
    parser.add_argument("--deep", type=int, default=100_000)
    parser.add_argument(
        "--heavy", type=int, default=100_000, help="heavy account's outputs"
    )
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument(
        "--quick", action="store_true", help="1,000 from 200; deep 10,000"
    )
    parsed = parser.parse_args()
    if parsed.quick:
        parsed.submissions, parsed.accounts, parsed.deep = 1_000, 200, 10_000
        parsed.heavy = min(parsed.heavy, 10_000)
    line = "python benchmarks/scale.py " + " ".join(sys.argv[1:])
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main(parsed, line.strip()))
