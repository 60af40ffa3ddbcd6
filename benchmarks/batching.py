"""Measure images per second through a real worker, batched and one job at a time.

Queues N copies of the default job (`darkroom generate`'s: 2 images, tiny model,
256 px, 20 steps; each its own prompt and seed) on PostgreSQL and Redis, then
runs `darkroom worker --burst` in a subprocess until the queue is empty, with
DARKROOM_BATCH_MAX_IMAGES at 8 (compatible jobs share an engine call) and at 1
(each job alone), alternating rounds. images/s = images / (last job's
finished_at - first job's started_at), from the job rows, so the worker's own
start-up and model loading are left out; batches = distinct claim times.

    .venv/bin/python benchmarks/batching.py            # 8 jobs, 3 rounds a mode
    .venv/bin/python benchmarks/batching.py --quick    # 8 jobs, 1 round a mode
"""

import argparse
import asyncio
import datetime
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402
from redis.asyncio import Redis  # noqa: E402
from sqlmodel import col  # noqa: E402

from benchmarks.machine import machine  # noqa: E402
from core.accounts import create_user  # noqa: E402
from core.credits import FreeCreditPolicy  # noqa: E402
from core.db import Database  # noqa: E402
from core.enums import JobSource, JobStatus, Scope, Tier  # noqa: E402
from core.migrate import upgrade_database  # noqa: E402
from core.models import Job  # noqa: E402
from core.settings import Settings  # noqa: E402
from core.tokens import Caller, create_token, parse_scopes  # noqa: E402
from darkroom.services import close_jobs, open_jobs, open_storage  # noqa: E402
from engine.catalog import load_catalog  # noqa: E402
from jobs.params import GenerationParams  # noqa: E402
from jobs.submission import submit_generation  # noqa: E402

PG = os.environ.get("DARKROOM_BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
REDIS = os.environ.get("DARKROOM_BENCH_REDIS", "redis://127.0.0.1:6379/13")
RESULTS = ROOT / "benchmarks" / "RESULTS.md"
MODES = (8, 1)  # DARKROOM_BATCH_MAX_IMAGES: batched, then one job at a time


async def account(db: Database, settings: Settings) -> Caller:
    """An account that may run every queued job at once, with credits to spare."""
    async with db.session() as session:
        user = await create_user(
            session,
            email=f"batch-{uuid.uuid4().hex[:8]}@bench.example",
            tier=Tier.ULTIMATE,
            credits=1_000_000,
            policy=FreeCreditPolicy.from_settings(settings),
        )
        token, _secret = await create_token(
            session, user_id=user.id, scopes=[Scope.GENERATE]
        )
    return Caller(user=user, token=token, scopes=parse_scopes(token.scopes))


async def queue_jobs(settings: Settings, count: int, round_: int) -> list[uuid.UUID]:
    """Queue `count` default jobs, each with its own prompt and seed."""
    db = Database(settings.resolved_database_url)
    catalog = load_catalog(None, data_dir=settings.data_dir)
    jobs = await open_jobs(
        settings,
        db=db,
        storage=open_storage(settings),
        catalog=catalog,
        in_process=False,
    )
    try:
        caller = await account(db, settings)
        ids = []
        for i in range(count):
            params = GenerationParams(prompt=f"a red fox {round_}-{i}", seed=1000 * i)
            submitted = await submit_generation(
                jobs, caller=caller, params=params, source=JobSource.API
            )
            ids.append(submitted.job.id)
        return ids
    finally:
        await close_jobs(jobs)
        await db.dispose()


async def rows_of(settings: Settings, ids: list[uuid.UUID]) -> list[Job]:
    db = Database(settings.resolved_database_url)
    try:
        async with db.session() as session:
            found = await session.scalars(sa.select(Job).where(col(Job.id).in_(ids)))
            return list(found)
    finally:
        await db.dispose()


def run_worker(settings: Settings, cap: int, log: Path) -> None:
    """`darkroom worker --burst` with this batch cap, until the queue is empty."""
    env = {
        **os.environ,
        "DARKROOM_DATABASE_URL": settings.database_url,
        "DARKROOM_REDIS_URL": settings.redis_url,
        "DARKROOM_DATA_DIR": str(settings.data_dir),
        "DARKROOM_BATCH_MAX_IMAGES": str(cap),
        "DARKROOM_WORKER_POLL_DELAY_SECONDS": "0.05",
    }
    with log.open("ab") as out:
        done = subprocess.run(
            [str(Path(sys.executable).parent / "darkroom"), "worker", "--burst"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=1800,
        )
    if done.returncode:
        raise RuntimeError(f"the worker failed; see {log}:\n{log.read_text()[-3000:]}")


def one_round(settings: Settings, cap: int, count: int, n: int, log: Path) -> dict:
    """Queue the jobs, drain them with one worker; images/s and batches."""
    ids = asyncio.run(queue_jobs(settings, count, n))
    run_worker(settings, cap, log)
    rows = asyncio.run(rows_of(settings, ids))
    if any(row.status is not JobStatus.SUCCEEDED for row in rows):
        raise RuntimeError(f"not every job succeeded: {[r.status for r in rows]}")
    first = min(row.started_at for row in rows if row.started_at)
    last = max(row.finished_at for row in rows if row.finished_at)
    images = sum(row.cost for row in rows)
    return {
        "images_per_s": images / (last - first).total_seconds(),
        "batches": len({row.started_at for row in rows}),
        "images": images,
    }


async def admin(sql: str) -> None:
    """Run one statement on the server's postgres database, autocommit."""
    database = Database(
        f"{PG.replace('postgresql://', 'postgresql+asyncpg://')}/postgres"
    )
    engine = database.engine.execution_options(isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(sa.text(sql))
    finally:
        await database.dispose()


async def flush_redis() -> None:
    client = Redis.from_url(REDIS)
    try:
        await client.flushdb()
    finally:
        await client.aclose()


def render(results: dict[int, list[dict]], count: int, where: str, quick: bool) -> str:
    """The figures as a dated Markdown section."""
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    rate = {cap: statistics.median(r["images_per_s"] for r in runs)
            for cap, runs in results.items()}  # fmt: skip
    lines = [
        f"### batching.py{' --quick' if quick else ''}, {now}",
        "",
        f"{where}; torch threads automatic. {count} default jobs (2 images, tiny"
        " model, 256 px, 20 steps) queued, then drained by one `darkroom worker"
        " --burst`; images/s = images / (last finished_at - first started_at) from"
        " the job rows; batches = distinct claim times; rounds alternate the modes.",
        "",
        "| DARKROOM_BATCH_MAX_IMAGES | rounds | images/s median (each round)"
        " | batches per round |",
        "|---|---|---|---|",
    ]
    for cap, runs in results.items():
        each = ", ".join(f"{r['images_per_s']:.2f}" for r in runs)
        batches = ", ".join(str(r["batches"]) for r in runs)
        lines.append(f"| {cap} | {len(runs)} | {rate[cap]:.2f} ({each}) | {batches} |")
    gain = rate[MODES[0]] / rate[MODES[1]]
    lines += ["", f"Batched / one at a time: x{gain:.2f}."]
    return "\n".join(lines) + "\n"


def main() -> None:
    """Run the benchmark, print the table and append it to RESULTS.md."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 round a mode")
    parser.add_argument("--jobs", type=int, default=8, help="jobs a round (8)")
    parser.add_argument(
        "--no-append", action="store_true", help="print only; leave RESULTS.md"
    )
    args = parser.parse_args()
    rounds = 1 if args.quick else 3
    name = f"darkroom_bench_batching_{os.getpid()}"
    tmp = Path(tempfile.mkdtemp(prefix="darkroom-batching-"))
    where = machine()
    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    results: dict[int, list[dict]] = {cap: [] for cap in MODES}
    try:
        url = f"{PG}/{name}"
        upgrade_database(url.replace("postgresql://", "postgresql+asyncpg://"))
        asyncio.run(flush_redis())
        settings = Settings(
            data_dir=tmp / "data", database_url=url, redis_url=REDIS,
            parallel_ultimate=10_000, create_rate_per_minute=1_000_000,
        )  # fmt: skip
        for n in range(rounds):
            for cap in MODES:
                print(f"round {n + 1}, batch cap {cap} ...", flush=True)
                started = time.monotonic()
                run = one_round(settings, cap, args.jobs, n, tmp / "worker.log")
                results[cap].append(run)
                print(f"  {run} in {time.monotonic() - started:.0f} s", flush=True)
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        asyncio.run(flush_redis())
        shutil.rmtree(tmp, ignore_errors=True)
    section = render(results, args.jobs, where, args.quick)
    print()
    print(section)
    if not args.no_append:
        with RESULTS.open("a", encoding="utf-8") as out:
            out.write("\n" + section)


if __name__ == "__main__":
    main()
