"""Benchmark the outputs connection on PostgreSQL: a page of 50 with three filters.

Loads 1,000,000 outputs (500,000 jobs) across 1,000 accounts into its own database
with COPY, runs ANALYZE, then times 200 calls of `list_outputs` for random users,
with and without the total count, and keeps EXPLAIN (ANALYZE, BUFFERS) of both.

    .venv/bin/python benchmarks/history.py            # full run
    .venv/bin/python benchmarks/history.py --quick    # 100,000 outputs
    .venv/bin/python benchmarks/history.py --keep     # leave darkroom_bench behind
"""

import argparse
import asyncio
import json
import os
import random
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import sqlalchemy as sa

from core.db import Database
from core.history.filters import BoolFilter, IntFilter, OutputWhere, StrFilter
from core.history.paging import Direction
from core.history.queries import OutputOrder, OutputOrderField, list_outputs
from core.migrate import upgrade_database

SERVER = os.environ.get("DARKROOM_BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
NAME = "darkroom_bench"
RESULTS = Path(__file__).with_name("RESULTS.md")
GOAL_PAGE_MS, GOAL_TOTAL_MS = 20.0, 60.0
MODELS = ["sd15", "sdxl", "flux-schnell", "kandinsky", "playground"]
SIZES = [(512, 512), (768, 768), (1024, 1024), (1024, 576), (576, 1024), (768, 512)]
SCHEDULERS = ["DDIM", "K_EULER", "DPM++_2M", "UNI_PC"]
STATUSES = ["NOT_SUBMITTED"] * 6 + ["SUBMITTED", "WAITING_FOR_APPROVAL", "APPROVED"]
WORDS = ["red", "cat", "dog", "forest", "castle", "neon", "city", "portrait", "oil"]


def _rows(
    users: list[uuid.UUID], per_user: int, rng: random.Random
) -> tuple[list, list]:
    """Jobs (two outputs each) and outputs for `users`, parents before upscales."""
    now = datetime(2026, 11, 1, tzinfo=UTC)
    jobs: list[tuple[Any, ...]] = []
    outputs: list[tuple[Any, ...]] = []
    for user in users:
        originals: list[uuid.UUID] = []
        for _ in range(per_user // 2):
            job = uuid.uuid4()
            created = now - timedelta(seconds=rng.randrange(365 * 86400))
            source = rng.choice(["API", "WEB", "CLI"])
            upscale = bool(originals) and rng.random() < 0.05
            model = "realesrgan-x4" if upscale else rng.choice(MODELS)
            kind = "UPSCALE" if upscale else "GENERATE"
            jobs.append(
                (
                    job,
                    user,
                    kind,
                    source,
                    "SUCCEEDED",
                    False,
                    model,
                    "{}",
                    2,
                    0,
                    0,
                    0,
                    created,
                    created,
                    created,
                    1,
                )
            )
            width, height = rng.choice(SIZES)
            for index in range(2):
                output = uuid.uuid4()
                parent = rng.choice(originals) if upscale else None
                outputs.append(
                    (output, job, user, index, f"outputs/{job}/{index}.png", "png")
                    + ((width * 4, height * 4) if upscale else (width, height))
                    + (rng.randrange(2**31), " ".join(rng.sample(WORDS, 4)), "", model)
                    + (None if upscale else rng.choice(SCHEDULERS),)
                    + (None if upscale else rng.choice([20, 25, 30, 40]),)
                    + (None if upscale else rng.choice([5.0, 7.0, 7.5, 9.0]),)
                    + (source, parent, upscale, rng.random() < 0.1, rng.random() < 0.3)
                    + (rng.choice(STATUSES), created)
                    + (created if rng.random() < 0.02 else None,)
                )
                if not upscale:
                    originals.append(output)
    return jobs, outputs


JOB_COLUMNS = [
    *("id", "user_id", "kind", "source", "status", "paid_lane", "model_id", "params"),
    *("cost", "refunded", "total_steps", "step", "created_at", "started_at"),
    *("finished_at", "attempts"),
]
OUTPUT_COLUMNS = [
    *("id", "job_id", "user_id", "index", "storage_key", "format", "width", "height"),
    *("seed", "prompt", "negative_prompt", "model_id", "scheduler_id"),
    *("inference_steps", "guidance_scale", "source", "upscaled_from_id", "is_upscaled"),
    *("is_favorite", "is_public", "gallery_status", "created_at", "deleted_at"),
]


async def load(dsn: str, outputs: int, accounts: int) -> list[uuid.UUID]:
    """COPY users, jobs and outputs in; return the user ids."""
    rng = random.Random(7)
    users = [uuid.UUID(int=rng.getrandbits(128), version=4) for _ in range(accounts)]
    conn = await asyncpg.connect(dsn)
    try:
        # Rows are consistent by construction (though shuffled, so an upscale may
        # precede its original); skipping FK triggers also halves the load time.
        await conn.execute("SET session_replication_role = replica")
        created = datetime(2025, 1, 1, tzinfo=UTC)
        await conn.copy_records_to_table(
            "users",
            records=[(u, f"{u.hex}@bench.example", "PRO", created) for u in users],
            columns=["id", "email", "tier", "created_at"],
        )
        per_user, chunk = outputs // accounts, 100
        for start in range(0, accounts, chunk):
            jobs, rows = _rows(users[start : start + chunk], per_user, rng)
            # Interleave accounts as live traffic would, so one user's outputs are
            # spread over many heap pages instead of sitting together.
            rng.shuffle(rows)
            await conn.copy_records_to_table("jobs", records=jobs, columns=JOB_COLUMNS)
            await conn.copy_records_to_table(
                "outputs", records=rows, columns=OUTPUT_COLUMNS
            )
        await conn.execute("ANALYZE users, jobs, outputs")
    finally:
        await conn.close()
    return users


def _where(rng: random.Random) -> OutputWhere:
    return OutputWhere(
        width=IntFilter(gte=768),
        model_id=StrFilter(in_=rng.sample(MODELS, 2)),
        is_favorite=BoolFilter(eq=rng.random() < 0.5),
    )


ORDER = [OutputOrder(OutputOrderField.CREATED_AT, Direction.DESC)]


async def measure(url: str, users: list[uuid.UUID], runs: int) -> dict[str, Any]:
    """Time list_outputs with and without the count; EXPLAIN one of each."""
    db = Database(url)
    rng = random.Random(11)
    figures: dict[str, Any] = {}
    try:
        for with_total in (False, True):
            times: list[float] = []
            for i in range(runs + 20):  # the first 20 warm the cache and are dropped
                user, where = rng.choice(users), _where(rng)
                async with db.session() as session:
                    start = time.perf_counter()
                    await list_outputs(
                        session,
                        user_id=user,
                        where=where,
                        order=ORDER,
                        first=50,
                        with_total=with_total,
                    )
                    elapsed = (time.perf_counter() - start) * 1000
                if i >= 20:
                    times.append(elapsed)
            cuts = statistics.quantiles(times, n=100)
            label = "with_total" if with_total else "page"
            figures[label] = {"p50": cuts[49], "p95": cuts[94], "runs": len(times)}
        figures["explain"] = await explain(db, rng.choice(users), _where(rng))
    finally:
        await db.dispose()
    return figures


async def explain(db: Database, user: uuid.UUID, where: OutputWhere) -> list[str]:
    """EXPLAIN (ANALYZE, BUFFERS) every statement one list_outputs call runs."""
    captured: list[tuple[str, Any]] = []

    def capture(_c: Any, _cur: Any, statement: str, params: Any, *_: Any) -> None:
        captured.append((statement, params))

    sa.event.listen(db.engine.sync_engine, "before_cursor_execute", capture)
    async with db.session() as session:
        await list_outputs(
            session, user_id=user, where=where, order=ORDER, first=50, with_total=True
        )
    sa.event.remove(db.engine.sync_engine, "before_cursor_execute", capture)
    plans = []
    async with db.engine.connect() as conn:
        for statement, params in captured:
            if not statement.lstrip().upper().startswith("SELECT"):
                continue
            result = await conn.exec_driver_sql(
                "EXPLAIN (ANALYZE, BUFFERS) " + statement, params
            )
            plan = "\n".join(row[0] for row in result)
            plans.append(f"{statement}\n-- params: {params}\n{plan}")
    return plans


async def admin(sql: str) -> None:
    conn = await asyncpg.connect(f"{SERVER}/postgres")
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def report(args: argparse.Namespace, outputs: int, load_s: float, figures: dict) -> str:
    page, total = figures["page"], figures["with_total"]
    verdict = {
        "page": "PASS" if page["p95"] <= GOAL_PAGE_MS else "MISS",
        "total": "PASS" if total["p95"] <= GOAL_TOTAL_MS else "MISS",
    }
    lines = [
        f"## History: outputs page on PostgreSQL ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)",
        "",
        f"`benchmarks/history.py{' --quick' if args.quick else ''}` on {os.cpu_count()} "
        f"cores: {outputs:,} outputs, {outputs // 2:,} jobs, {args.accounts:,} accounts, "
        f"loaded with COPY in {load_s:.1f} s (accounts interleaved in the heap). Query: first 50, width _gte 768, model_id "
        "_in two of five, is_favorite _eq, order CREATED_AT DESC; "
        f"{page['runs']} runs each after 20 warm-up runs, random users.",
        "",
        "| query | p50 ms | p95 ms | goal p95 | result |",
        "|---|---|---|---|---|",
        f"| page | {page['p50']:.2f} | {page['p95']:.2f} | {GOAL_PAGE_MS:.0f} | "
        f"{verdict['page']} |",
        f"| page + totalCount | {total['p50']:.2f} | {total['p95']:.2f} | "
        f"{GOAL_TOTAL_MS:.0f} | {verdict['total']} |",
        "",
        "<details><summary>EXPLAIN (ANALYZE, BUFFERS)</summary>",
        "",
        "```",
        *("\n\n".join(figures["explain"]).splitlines()),
        "```",
        "</details>",
        "",
    ]
    return "\n".join(lines)


async def main(args: argparse.Namespace) -> None:
    outputs = 100_000 if args.quick else 1_000_000
    url = f"{SERVER.replace('postgresql://', 'postgresql+asyncpg://')}/{NAME}"
    await admin(f'DROP DATABASE IF EXISTS "{NAME}" WITH (FORCE)')
    await admin(f'CREATE DATABASE "{NAME}"')
    try:
        await asyncio.to_thread(upgrade_database, url)
        start = time.perf_counter()
        users = await load(f"{SERVER}/{NAME}", outputs, args.accounts)
        load_s = time.perf_counter() - start
        print(f"loaded {outputs:,} outputs in {load_s:.1f} s", flush=True)
        figures = await measure(url, users, args.runs)
    finally:
        if not args.keep:
            await admin(f'DROP DATABASE IF EXISTS "{NAME}" WITH (FORCE)')
    text = report(args, outputs, load_s, figures)
    print(text)
    print(json.dumps({k: v for k, v in figures.items() if k != "explain"}))
    # Another benchmark may have appended meanwhile: append, never rewrite.
    with RESULTS.open("a", encoding="utf-8") as out:
        out.write(("\n" if RESULTS.exists() and RESULTS.stat().st_size else "") + text)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100,000 outputs")
    parser.add_argument("--keep", action="store_true", help="keep darkroom_bench")
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--accounts", type=int, default=1000)
    asyncio.run(main(parser.parse_args()))
