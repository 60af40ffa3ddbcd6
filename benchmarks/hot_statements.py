"""EXPLAIN ANALYZE every statement of the hot paths on a loaded PostgreSQL.

Loads history.py's rows into its own database (200,000 outputs and 100,000
finished jobs over 1,000 accounts; `--full`: 1,000,000 and 500,000), then drives
the app in this process (TestClient, in-process runner, tiny model) while every
SQL statement is recorded: four generationCreate calls from a fresh account
(submission), their runs (claim, progress, ending), a job by id with its queue
place, a history page and a usage page, both with totalCount. Each distinct
statement is then run under EXPLAIN (ANALYZE, BUFFERS) in a transaction that is
rolled back (a plain INSERT ... VALUES only under EXPLAIN, as rerunning it would
collide with its own row). A sequential scan of a table over 10,000 rows is a MISS.

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/hot_statements.py [--full]
"""

import argparse
import asyncio
import re
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for benchmarks.*

import sqlalchemy as sa
from sqlmodel import col
from starlette.testclient import TestClient
from strawberry import relay

from benchmarks.history import RESULTS, SERVER, admin, load
from benchmarks.machine import machine
from core.accounts import create_user
from core.credits import FreeCreditPolicy
from core.db import Database
from core.enums import JobStatus, Scope, Tier
from core.migrate import upgrade_database
from core.models import Job
from core.settings import Settings
from core.tokens import create_token
from darkroom.services import build_app, build_services

NAME = "darkroom_bench_history_hot"
BIG_TABLE_ROWS = 10_000
CREATE = """mutation($input: GenerationCreateInput!) {
  generationCreate(input: $input) { job { id } userErrors { code message } } }"""
TINY = {"prompt": "a fox", "modelId": "darkroom-tiny", "width": 64, "height": 64}
TINY |= {"numOutputs": 1, "inferenceSteps": 4}
JOB = """query($id: ID!) { job(id: $id) { id status queuePosition etaSeconds
  outputs { id } } }"""
HISTORY = """{ outputs(first: 50) { totalCount edges { node { id width } } } }"""
USAGE = """{ usage(first: 50) { totalCount edges { node { jobId status } } } }"""
SEQ_SCAN = re.compile(r"Seq Scan on (\w+)")


async def _account(url: str, settings: Settings) -> str:
    db = Database(url)
    try:
        async with db.session() as session:
            user = await create_user(
                session,
                email=f"{uuid.uuid4().hex}@hot.example",
                tier=Tier.PRO,
                credits=100_000,
                policy=FreeCreditPolicy.from_settings(settings),
            )
            _token, secret = await create_token(
                session, user_id=user.id, scopes=[Scope.GENERATE, Scope.READ]
            )
        return secret
    finally:
        await db.dispose()


async def _all_finished(url: str, ids: list[str]) -> bool:
    db = Database(url)
    try:
        async with db.session() as session:
            statuses = await session.scalars(
                sa.select(Job.status).where(
                    col(Job.id).in_([uuid.UUID(relay.from_base64(i)[1]) for i in ids])
                )
            )
            return all(s in (JobStatus.SUCCEEDED, JobStatus.FAILED) for s in statuses)
    finally:
        await db.dispose()


def drive(url: str) -> list[tuple[str, str, Any]]:
    """Run every hot path once through the app; return (phase, sql, params)."""
    captured: list[tuple[str, str, Any]] = []
    phase = ["start-up"]

    def capture(_c: Any, _cur: Any, sql: str, params: Any, *_: Any) -> None:
        captured.append((phase[0], sql, params))

    with tempfile.TemporaryDirectory() as data:
        settings = Settings(data_dir=Path(data), database_url=url)
        secret = asyncio.run(_account(url, settings))
        services = build_services(settings)
        headers = {"Authorization": f"Bearer {secret}"}
        sa.event.listen(
            services.db.engine.sync_engine, "before_cursor_execute", capture
        )
        with TestClient(build_app(settings, services)) as client:

            def data_of(query: str, variables: dict[str, Any]) -> dict[str, Any]:
                body = client.post(
                    "/graphql",
                    json={"query": query, "variables": variables},
                    headers=headers,
                ).json()
                assert not body.get("errors"), body
                result: dict[str, Any] = body["data"]
                return result

            phase[0] = "submission (the runner claims at once)"
            ids = [
                data_of(CREATE, {"input": TINY})["generationCreate"]["job"]["id"]
                for _ in range(4)
            ]
            phase[0] = "job by id, queue place"
            data_of(JOB, {"id": ids[-1]})
            phase[0] = "run: claim, progress, ending"
            deadline = time.monotonic() + 300
            while not asyncio.run(_all_finished(url, ids)):
                assert time.monotonic() < deadline, "the jobs did not finish"
                time.sleep(0.2)
            phase[0] = "job by id, finished"
            data_of(JOB, {"id": ids[0]})
            phase[0] = "history page"
            data_of(HISTORY, {})
            phase[0] = "usage page"
            data_of(USAGE, {})
            phase[0] = "shut-down"
    return captured


def _explainable(sql: str) -> bool:
    return sql.lstrip().split(None, 1)[0].upper() in {
        "SELECT",
        "INSERT",
        "UPDATE",
        "DELETE",
        "WITH",
    }


async def explain_all(
    url: str, captured: list[tuple[str, str, Any]]
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """EXPLAIN each distinct statement once, in the phase that first ran it."""
    seen: set[str] = set()
    rows: list[dict[str, Any]] = []
    db = Database(url)
    try:
        async with db.engine.connect() as conn:
            sizes = {
                name: int(n)
                for name, n in await conn.exec_driver_sql(
                    "SELECT relname, reltuples FROM pg_class WHERE relkind = 'r'"
                    " AND relnamespace = 'public'::regnamespace"
                )
            }
            await conn.rollback()
            for phase, sql, params in captured:
                if sql in seen or not _explainable(sql):
                    continue
                seen.add(sql)
                plain_insert = sql.lstrip().upper().startswith("INSERT") and (
                    "SELECT" not in sql.upper()
                )
                how = "EXPLAIN " if plain_insert else "EXPLAIN (ANALYZE, BUFFERS) "
                transaction = await conn.begin()
                try:
                    result = await conn.exec_driver_sql(how + sql, params)
                    plan = "\n".join(row[0] for row in result)
                except sa.exc.DBAPIError as err:
                    plan = f"not explained: {err.orig!r}"
                finally:
                    await transaction.rollback()
                found = re.search(r"Execution Time: ([0-9.]+) ms", plan)
                rows.append(
                    {
                        "phase": phase,
                        "sql": sql,
                        "params": params,
                        "plan": plan,
                        "ms": float(found.group(1)) if found else None,
                        "seq": sorted(set(SEQ_SCAN.findall(plan))),
                    }
                )
    finally:
        await db.dispose()
    return rows, sizes


def _short(sql: str) -> str:
    text = " ".join(sql.split())
    return (text[:110] + " ...") if len(text) > 110 else text


def report(
    args: argparse.Namespace,
    outputs: int,
    rows: list[dict[str, Any]],
    sizes: dict[str, int],
) -> str:
    big = {t for t, n in sizes.items() if n >= BIG_TABLE_ROWS}
    misses = [r for r in rows if set(r["seq"]) & big]
    lines = [
        f"## Hot statements on a loaded PostgreSQL ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)",
        "",
        f"`benchmarks/hot_statements.py{' --full' if args.full else ''}` on {machine()}:"
        f" {outputs:,} outputs and {outputs // 2:,} finished jobs over 1,000 accounts,"
        " VACUUM ANALYZEd, migrated to head; then the app in process (in-process"
        " runner, tiny model) submits four jobs from a fresh account, runs them and"
        " reads a job, a history page and a usage page. Each distinct statement,"
        " EXPLAIN (ANALYZE, BUFFERS) afterwards in a rolled-back transaction (plain"
        " INSERT ... VALUES: EXPLAIN only). Tables over"
        f" {BIG_TABLE_ROWS:,} rows: {', '.join(f'{t} ({sizes[t]:,})' for t in sorted(big))}."
        f" Sequential scans of those: {len(misses)}"
        f" ({'PASS' if not misses else 'MISS'}).",
        "",
        "| phase | statement | ms | sequential scans |",
        "|---|---|---|---|",
    ]
    for r in rows:
        ms = "-" if r["ms"] is None else f"{r['ms']:.3f}"
        seq = (
            ", ".join(f"{t}{'' if t in big else ' (small)'}" for t in r["seq"])
            or "none"
        )
        statement = _short(r["sql"]).replace("|", "\\|")
        lines.append(f"| {r['phase']} | `{statement}` | {ms} | {seq} |")
    lines += ["", "<details><summary>Plans</summary>", "", "```"]
    for r in rows:
        lines += [
            f"-- {r['phase']}",
            r["sql"],
            f"-- params: {r['params']}",
            r["plan"],
            "",
        ]
    lines += ["```", "</details>", ""]
    return "\n".join(lines)


def main(args: argparse.Namespace) -> None:
    outputs = 1_000_000 if args.full else 200_000
    url = f"{SERVER.replace('postgresql://', 'postgresql+asyncpg://')}/{NAME}"
    asyncio.run(admin(f'DROP DATABASE IF EXISTS "{NAME}" WITH (FORCE)'))
    asyncio.run(admin(f'CREATE DATABASE "{NAME}"'))
    try:
        upgrade_database(url)
        asyncio.run(load(f"{SERVER}/{NAME}", outputs, 1000))
        captured = drive(url)
        rows, sizes = asyncio.run(explain_all(url, captured))
    finally:
        if not args.keep:
            asyncio.run(admin(f'DROP DATABASE IF EXISTS "{NAME}" WITH (FORCE)'))
    text = report(args, outputs, rows, sizes)
    print(text)
    with RESULTS.open("a", encoding="utf-8") as out:
        out.write("\n" + text)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="1,000,000 outputs")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    main(parser.parse_args())
