"""Benchmark the outputs connection on PostgreSQL: a page of 50 with three filters.

Loads 1,000,000 outputs (500,000 jobs) across 1,000 accounts into its own database
with COPY, runs ANALYZE, then times 200 calls of `list_outputs` for random users,
with and without the total count, and keeps EXPLAIN (ANALYZE, BUFFERS) of both.

    .venv/bin/python benchmarks/history.py            # full run
    .venv/bin/python benchmarks/history.py --quick    # 100,000 outputs
    .venv/bin/python benchmarks/history.py --keep     # leave its database behind

`--heavy` times one account's history through GraphQL instead, before and after
migration 0007 on the same rows: 250,000 outputs with 50,000 in one account, or
with `--full` 1,000,000 and 100,000 (about 15 minutes on 2 cores).
"""

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for benchmarks.machine

import asyncpg
import sqlalchemy as sa
from alembic import command
from starlette.testclient import TestClient

from benchmarks.machine import machine
from core.db import Database
from core.enums import Scope
from core.history.filters import (
    BoolFilter,
    IntFilter,
    OutputWhere,
    StrFilter,
)
from core.history.paging import Direction
from core.history.queries import (
    OutputOrder,
    OutputOrderField,
    list_outputs,
)
from core.migrate import alembic_config, upgrade_database
from core.settings import Settings
from core.tokens import create_token
from darkroom.services import build_app, build_services

SERVER = os.environ.get("DARKROOM_BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
NAME = "darkroom_bench_history_page"
RESULTS = Path(__file__).with_name("RESULTS.md")
GOAL_PAGE_MS, GOAL_TOTAL_MS = 20.0, 60.0
MODELS = ["sd15", "sdxl", "flux-schnell", "kandinsky", "playground"]
SIZES = [(512, 512), (768, 768), (1024, 1024), (1024, 576), (576, 1024), (768, 512)]
SCHEDULERS = ["DDIM", "K_EULER", "DPM++_2M", "UNI_PC"]
STATUSES = ["NOT_SUBMITTED"] * 6 + ["SUBMITTED", "WAITING_FOR_APPROVAL", "APPROVED"]
WORDS = ["red", "cat", "dog", "forest", "castle", "neon", "city", "portrait", "oil"]
RARE_WORD, ABSENT_WORD = "aurora", "zeppelin"  # in 1 prompt of 1,000; in none


def _rows(
    users: list[uuid.UUID], per_user: int, rng: random.Random, rare: float = 0.0
) -> tuple[list, list]:
    """Jobs (two outputs each) and outputs for `users`, parents before upscales.

    A share `rare` of the prompts also holds RARE_WORD.
    """
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
                    + (rng.randrange(2**31), _prompt(rng, rare), "", model)
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


def _prompt(rng: random.Random, rare: float) -> str:
    words = rng.sample(WORDS, 4)
    if rare and rng.random() < rare:
        words[rng.randrange(4)] = RARE_WORD
    return " ".join(words)


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


async def load(
    dsn: str, outputs: int, accounts: int, *, heavy: int = 0, rare: float = 0.0
) -> list[uuid.UUID]:
    """COPY users, jobs and outputs in; return the user ids.

    With `heavy`, the first user holds that many of the outputs, the others share
    the rest; `rare` is the share of prompts holding RARE_WORD.
    """
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
        others = users[1:] if heavy else users
        per_user, chunk = (outputs - heavy) // len(others), 100
        heavy_jobs, heavy_rows = (
            _rows(users[:1], heavy, rng, rare) if heavy else ([], [])
        )
        starts = range(0, len(others), chunk)
        for k, start in enumerate(starts):
            jobs, rows = _rows(others[start : start + chunk], per_user, rng, rare)
            jobs += heavy_jobs[k :: len(starts)]
            rows += heavy_rows[k :: len(starts)]
            # Interleave accounts as live traffic would, so one user's outputs are
            # spread over many heap pages instead of sitting together.
            rng.shuffle(rows)
            await conn.copy_records_to_table("jobs", records=jobs, columns=JOB_COLUMNS)
            await conn.copy_records_to_table(
                "outputs", records=rows, columns=OUTPUT_COLUMNS
            )
        # VACUUM as autovacuum would after a load: it sets the visibility map,
        # without which no count can be index-only.
        await conn.execute("VACUUM ANALYZE users, jobs, outputs")
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


# ------------------------------------------------------- a heavy account's history

HEAVY_GOAL_MS = 50.0
HEAVY_QUERY = """query Heavy($where: OutputWhere, $orderBy: [OutputOrderBy!],
  $after: String) {
  outputs(first: 50, where: $where, orderBy: $orderBy, after: $after) {
    edges { cursor node { id width height seed isFavorite createdAt } }
    pageInfo { hasNextPage endCursor }%s
  }
}"""


@dataclass
class Case:
    """One timed GraphQL request: whose outputs, which arguments, and the count."""

    label: str
    variables: dict[str, Any]
    with_total: bool = False
    light: bool = False  # a 1,000-output account instead of the heavy one
    skip: int = 0  # pages to read (untimed) before the timed one


def _order(field: str, direction: str = "DESC") -> dict[str, Any]:
    return {"orderBy": [{"field": field, "direction": direction}]}


ILIKE_RARE = {"where": {"prompt": {"_ilike": f"%{RARE_WORD}%"}}}
SEARCH_ABSENT = {"where": {"prompt": {"_search": ABSENT_WORD}}}
SEARCH_RARE = {"where": {"prompt": {"_search": RARE_WORD}}}
HEAVY_CASES = [
    Case("first 50", {}),
    Case("first 50 + totalCount", {}, with_total=True),
    Case("prompt _ilike rare word", ILIKE_RARE),
    Case("prompt _ilike rare word + totalCount", ILIKE_RARE, with_total=True),
    Case("prompt _search absent word", SEARCH_ABSENT),
    Case("prompt _search absent word + totalCount", SEARCH_ABSENT, with_total=True),
    Case("prompt _search rare word + totalCount", SEARCH_RARE, with_total=True),
    Case("orderBy WIDTH DESC", _order("WIDTH")),
    Case("orderBy WIDTH DESC, second page", _order("WIDTH"), skip=1),
    Case("orderBy WIDTH DESC, page 201", _order("WIDTH"), skip=200),
    Case("first 50, page 201", {}, skip=200),
    Case("orderBy HEIGHT ASC", _order("HEIGHT", "ASC")),
    Case("orderBy INFERENCE_STEPS DESC", _order("INFERENCE_STEPS")),
    Case("orderBy GUIDANCE_SCALE ASC", _order("GUIDANCE_SCALE", "ASC")),
    Case("light account: first 50 + totalCount", {}, with_total=True, light=True),
]


async def _tokens(url: str, users: list[uuid.UUID]) -> list[str]:
    db = Database(url)
    try:
        async with db.session() as session:
            return [
                (await create_token(session, user_id=u, scopes=[Scope.READ]))[1]
                for u in users
            ]
    finally:
        await db.dispose()


def measure_heavy(
    url: str, users: list[uuid.UUID], runs: int, *, explain: bool
) -> tuple[dict[str, dict[str, float]], list[str]]:
    """Time every case through the app's /graphql; EXPLAIN each once if asked."""
    heavy, light = asyncio.run(_tokens(url, users[:2]))
    with tempfile.TemporaryDirectory() as data:
        # Hundreds of pages an hour would trip the account's rate limit.
        settings = Settings(
            data_dir=Path(data), database_url=url, rate_limit_points=10**9
        )
        services = build_services(settings)
        captured: list[tuple[str, Any]] = []
        figures: dict[str, dict[str, float]] = {}
        with TestClient(build_app(settings, services)) as client:

            def post(case: Case, variables: dict[str, Any]) -> dict[str, Any]:
                response = client.post(
                    "/graphql",
                    json={
                        "query": HEAVY_QUERY
                        % (" totalCount" if case.with_total else ""),
                        "variables": variables,
                    },
                    headers={
                        "Authorization": f"Bearer {light if case.light else heavy}"
                    },
                )
                body: dict[str, Any] = response.json()
                assert not body.get("errors"), body
                return body["data"]["outputs"]

            def capture(_c: Any, _cur: Any, sql: str, params: Any, *_: Any) -> None:
                if "FROM outputs" in sql:
                    captured.append((sql, params))

            for case in HEAVY_CASES:
                variables = dict(case.variables)
                for _ in range(case.skip):
                    variables["after"] = post(case, variables)["pageInfo"]["endCursor"]
                times = []
                for i in range(runs + 5):  # the first 5 warm the cache
                    start = time.perf_counter()
                    post(case, variables)
                    if i >= 5:
                        times.append((time.perf_counter() - start) * 1000)
                cuts = statistics.quantiles(times, n=100)
                figures[case.label] = {"p50": cuts[49], "p95": cuts[94]}
                print(f"{case.label}: {figures[case.label]}", flush=True)
                if explain:
                    captured.append((f"-- {case.label}", None))
                    sync = services.db.engine.sync_engine
                    sa.event.listen(sync, "before_cursor_execute", capture)
                    post(case, variables)
                    sa.event.remove(sync, "before_cursor_execute", capture)
    return figures, asyncio.run(_explain_all(url, captured)) if explain else []


async def _explain_all(url: str, captured: list[tuple[str, Any]]) -> list[str]:
    db = Database(url)
    plans = []
    try:
        async with db.engine.connect() as conn:
            for statement, params in captured:
                if params is None:  # a case's label
                    plans.append(statement)
                    continue
                result = await conn.exec_driver_sql(
                    "EXPLAIN (ANALYZE, BUFFERS) " + statement, params
                )
                plan = "\n".join(row[0] for row in result)
                plans.append(f"{statement}\n-- params: {params}\n{plan}")
    finally:
        await db.dispose()
    return plans


def heavy_report(
    args: argparse.Namespace,
    sizes: tuple[int, int],
    seconds: dict[str, float],
    before: dict[str, dict[str, float]],
    after: dict[str, dict[str, float]],
    plans: list[str],
) -> str:
    outputs, heavy = sizes
    lines = [
        f"## History: a heavy account on PostgreSQL ({datetime.now(UTC):%Y-%m-%d %H:%M}"
        " UTC)",
        "",
        f"`benchmarks/history.py --heavy{' --full' if args.full else ''}` on "
        f"{machine()}: {outputs:,} outputs across {args.accounts:,} accounts, "
        f"{heavy:,} of them in one account ({RARE_WORD!r} in 1 prompt of 1,000, "
        f"{ABSENT_WORD!r} in none), loaded with COPY in {seconds['load']:.1f} s and "
        "VACUUM ANALYZEd. Through the app's /graphql (Starlette TestClient, token "
        f"auth), first 50, {args.heavy_runs} runs per case after 5 warm-up runs. "
        "Before: migrated to 0006; after: upgraded to 0007 on the same rows "
        f"({seconds['upgrade']:.1f} s to build its indexes), VACUUM ANALYZEd again.",
        "",
        "| query (heavy account unless said) | before p50 / p95 ms | after p50 / p95 ms"
        " | goal p95 | result |",
        "|---|---|---|---|---|",
    ]
    for case in HEAVY_CASES:
        b, a = before[case.label], after[case.label]
        verdict = "PASS" if a["p95"] <= HEAVY_GOAL_MS else "MISS"
        lines.append(
            f"| {case.label} | {b['p50']:.1f} / {b['p95']:.1f} | "
            f"{a['p50']:.1f} / {a['p95']:.1f} | {HEAVY_GOAL_MS:.0f} | {verdict} |"
        )
    lines += [
        "",
        "<details><summary>EXPLAIN (ANALYZE, BUFFERS) after 0007, each case's "
        "statements</summary>",
        "",
        "```",
        *("\n\n".join(plans).splitlines()),
        "```",
        "</details>",
        "",
    ]
    return "\n".join(lines)


def heavy_main(args: argparse.Namespace) -> None:
    sizes = (1_000_000, 100_000) if args.full else (250_000, 50_000)
    name = "darkroom_bench_history_heavy"
    url = f"{SERVER.replace('postgresql://', 'postgresql+asyncpg://')}/{name}"
    asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    seconds = {}
    try:
        command.upgrade(alembic_config(url), "0006")
        start = time.perf_counter()
        users = asyncio.run(
            load(f"{SERVER}/{name}", sizes[0], args.accounts, heavy=sizes[1], rare=1e-3)
        )
        seconds["load"] = time.perf_counter() - start
        print(f"loaded {sizes[0]:,} outputs in {seconds['load']:.1f} s", flush=True)
        before, _ = measure_heavy(url, users, args.heavy_runs, explain=False)
        start = time.perf_counter()
        upgrade_database(url)
        seconds["upgrade"] = time.perf_counter() - start
        asyncio.run(vacuum(f"{SERVER}/{name}"))
        after, plans = measure_heavy(url, users, args.heavy_runs, explain=True)
    finally:
        if not args.keep:
            asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    text = heavy_report(args, sizes, seconds, before, after, plans)
    print(text)
    with RESULTS.open("a", encoding="utf-8") as out:
        out.write("\n" + text)


async def vacuum(dsn: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("VACUUM ANALYZE outputs")
    finally:
        await conn.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100,000 outputs")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument(
        "--heavy",
        action="store_true",
        help="one account's history: 250,000 outputs, 50,000 in one account",
    )
    parser.add_argument(
        "--full", action="store_true", help="with --heavy: 1,000,000 and 100,000"
    )
    parser.add_argument("--heavy-runs", type=int, default=60)
    arguments = parser.parse_args()
    if arguments.heavy:
        heavy_main(arguments)
    else:
        asyncio.run(main(arguments))
