"""The darkroom CLI through Typer's runner, on a real SQLite database."""

import asyncio
import base64
import socket
import sqlite3
import uuid
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from darkroom.cli import app

runner = CliRunner()


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DARKROOM_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("DARKROOM_DATABASE_URL", raising=False)
    monkeypatch.delenv("DARKROOM_REDIS_URL", raising=False)
    result = runner.invoke(app, ["migrate"])
    assert result.exit_code == 0, result.output
    return tmp_path


def invoke(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["serve"],
        ["migrate"],
        ["user"],
        ["user", "create"],
        ["user", "list"],
        ["user", "set-tier"],
        ["credits", "grant"],
        ["token", "create"],
        ["token", "list"],
        ["token", "revoke"],
        ["status"],
    ],
)
def test_every_command_has_help(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0
    assert "Usage" in result.output


def test_an_operator_manages_users_credits_and_tokens(data_dir: Path) -> None:
    # given a free account
    assert "balance 50" in invoke("user", "create", "Ann@Example.com")
    # when the operator grants credits and upgrades it
    assert "balance 75" in invoke("credits", "grant", "ann@example.com", "25")
    assert "is now PRO" in invoke("user", "set-tier", "ann@example.com", "PRO")
    # then the list shows it
    listing = invoke("user", "list")
    assert "ann@example.com" in listing
    assert "PRO" in listing
    assert "75" in listing


def test_token_create_prints_the_secret_alone_on_the_last_line(data_dir: Path) -> None:
    invoke("user", "create", "bo@example.com", "--tier", "STARTER", "--credits", "10")
    output = invoke(
        "token", "create", "bo@example.com", "--name", "laptop", "--scopes", "read"
    )
    secret = output.strip().splitlines()[-1]
    assert len(secret) == 68
    assert secret.startswith("drk_")
    listing = invoke("token", "list", "bo@example.com")
    assert "laptop" in listing
    assert secret not in listing
    token_id = next(
        line.split("│")[1].strip() for line in listing.splitlines() if "laptop" in line
    )
    assert "revoked" in invoke("token", "revoke", token_id)


def test_refusals_exit_non_zero_with_their_code(data_dir: Path) -> None:
    invoke("user", "create", "cy@example.com")
    again = runner.invoke(app, ["user", "create", "cy@example.com"])
    assert again.exit_code == 1
    assert "ALREADY_EXISTS" in again.output
    bad_scope = runner.invoke(
        app, ["token", "create", "cy@example.com", "--scopes", "ROOT"]
    )
    assert bad_scope.exit_code == 2
    assert "BAD_USER_INPUT" in bad_scope.output
    unknown = runner.invoke(app, ["credits", "grant", "nobody@example.com", "5"])
    assert unknown.exit_code == 1
    assert "NOT_FOUND" in unknown.output


def test_a_bad_setting_stops_with_one_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DARKROOM_DATABASE_URL", "mysql://nope")
    result = runner.invoke(app, ["user", "list"])
    assert result.exit_code == 2
    assert "DARKROOM_DATABASE_URL" in result.output


@pytest.mark.parametrize("command", [["worker"], ["serve", "--port", "0"]])
def test_tracing_this_build_cannot_export_stops_with_one_message(
    command: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given OTEL_* variables asking for an exporter that is not installed
    monkeypatch.setenv("DARKROOM_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DARKROOM_REDIS_URL", "redis://127.0.0.1:1/0")
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "otlp")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
    # when the process starts, then it stops before serving, naming the variable
    result = runner.invoke(app, command)
    assert result.exit_code == 2
    assert "OTEL_EXPORTER_OTLP_PROTOCOL" in result.output


def only_line(result: Result) -> str:
    """The single line a failed command printed: no traceback, no wrapping."""
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        result.exception
    )
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    return lines[0]


@pytest.fixture
def fresh_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A data folder that does not exist yet: nothing was ever migrated."""
    folder = tmp_path / "fresh"
    monkeypatch.setenv("DARKROOM_DATA_DIR", str(folder))
    monkeypatch.delenv("DARKROOM_DATABASE_URL", raising=False)
    monkeypatch.delenv("DARKROOM_REDIS_URL", raising=False)
    return folder


OPERATOR_COMMANDS = [
    ["user", "create", "ann@example.com"],
    ["user", "list"],
    ["user", "set-tier", "ann@example.com", "PRO"],
    ["credits", "grant", "ann@example.com", "5"],
    ["token", "create", "ann@example.com"],
    ["token", "list", "ann@example.com"],
    ["token", "revoke", str(uuid.uuid4())],
]


@pytest.mark.parametrize("command", OPERATOR_COMMANDS)
def test_a_command_on_a_fresh_data_folder_says_to_migrate_in_one_line(
    fresh_dir: Path, command: list[str]
) -> None:
    # when an operator command runs before any migration
    result = runner.invoke(app, command)
    # then it stops with one line naming the fix, and leaves no empty database
    assert result.exit_code == 1
    assert "run `darkroom migrate`" in only_line(result)
    assert not (fresh_dir / "darkroom.db").exists()


def test_after_migrate_the_same_command_works(fresh_dir: Path) -> None:
    assert runner.invoke(app, ["user", "create", "ann@example.com"]).exit_code == 1
    invoke("migrate")
    assert "balance 50" in invoke("user", "create", "ann@example.com")


def test_a_schema_from_a_newer_release_is_named_not_migrated_over(
    data_dir: Path,
) -> None:
    # given a database some newer release migrated
    with sqlite3.connect(data_dir / "darkroom.db") as conn:
        conn.execute("UPDATE alembic_version SET version_num = 'f00dfeedbeef'")
    # when a command runs
    result = runner.invoke(app, ["user", "list"])
    # then it says so in one line
    assert result.exit_code == 1
    assert "newer Darkroom" in only_line(result)


@pytest.mark.parametrize(
    "command", [["user", "list"], ["migrate"], ["serve", "--port", "9"]]
)
def test_an_unreachable_database_is_one_line_with_its_address(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, command: list[str]
) -> None:
    # given a PostgreSQL URL whose port nothing listens on
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"postgresql://darkroom:hunter2@127.0.0.1:{port}/darkroom"
    monkeypatch.setenv("DARKROOM_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DARKROOM_DATABASE_URL", url)
    # when a command needs the database
    result = runner.invoke(app, command)
    # then it fails with one line naming where it looked, password hidden
    assert result.exit_code == 1
    line = only_line(result)
    assert f"127.0.0.1:{port}/darkroom" in line
    assert "hunter2" not in result.output


def test_undecodable_bytes_in_arguments_are_refused_not_stored(data_dir: Path) -> None:
    # given an account, and names as Python decodes a stray byte in argv
    invoke("user", "create", "dan@example.com")
    # when they reach a token name or an email
    name = runner.invoke(
        app, ["token", "create", "dan@example.com", "--name", "\udcff"]
    )
    email = runner.invoke(app, ["user", "create", "d\udcff@example.com"])
    # then each is a one-line BAD_USER_INPUT, not a driver traceback
    for result in (name, email):
        assert result.exit_code == 1
        line = only_line(result)
        assert line.startswith("BAD_USER_INPUT")
        assert "U+DCFF" in line


TOKEN_CREATE = """mutation { apiTokenCreate(input: {name: "from the api"}) {
  apiToken { id } userErrors { code } } }"""
TOKEN_REVOKE = """mutation($id: ID!) { apiTokenRevoke(id: $id) {
  apiToken { id isActive } userErrors { code message } } }"""


def listed_ids(email: str) -> dict[str, str]:
    """Token name -> the id `darkroom token list` shows."""
    rows = [line.split("│") for line in invoke("token", "list", email).splitlines()]
    return {row[2].strip(): row[1].strip() for row in rows if len(row) > 3}


def test_the_cli_and_the_api_name_a_token_by_the_same_global_id(
    data_dir: Path,
) -> None:
    from starlette.testclient import TestClient

    from core.settings import load_settings
    from darkroom.services import build_app

    # given an account with a managing token and a second one, made by the CLI
    invoke("user", "create", "ed@example.com")
    manage = invoke(
        "token",
        "create",
        "ed@example.com",
        "--name",
        "admin",
        "--scopes",
        "GENERATE,READ,MANAGE",
    )
    secret = manage.strip().splitlines()[-1]
    invoke("token", "create", "ed@example.com", "--name", "laptop")
    cli_id = listed_ids("ed@example.com")["laptop"]
    # then the CLI shows the global id the API uses, not a raw UUID
    assert cli_id.startswith("QXBpVG9rZW46")  # base64 of "ApiToken:"
    auth = {"Authorization": f"Bearer {secret}"}
    with TestClient(build_app(load_settings())) as http:
        # when the API revokes the token by the id the CLI showed
        revoked = http.post(
            "/graphql",
            json={"query": TOKEN_REVOKE, "variables": {"id": cli_id}},
            headers=auth,
        ).json()["data"]["apiTokenRevoke"]
        assert revoked == {
            "apiToken": {"id": cli_id, "isActive": False},
            "userErrors": [],
        }
        # and the API makes a token whose id the CLI then revokes
        made = http.post("/graphql", json={"query": TOKEN_CREATE}, headers=auth).json()
    api_id = made["data"]["apiTokenCreate"]["apiToken"]["id"]
    assert listed_ids("ed@example.com")["from the api"] == api_id
    assert "revoked" in invoke("token", "revoke", api_id)
    # and a raw UUID is still accepted, while a malformed id is NOT_FOUND in one line
    raw = base64.b64decode(listed_ids("ed@example.com")["admin"]).decode().split(":")[1]
    assert "revoked" in invoke("token", "revoke", raw)
    bad = runner.invoke(app, ["token", "revoke", "not-an-id"])
    assert bad.exit_code == 1
    assert "NOT_FOUND" in bad.output
    assert "Traceback" not in bad.output


def test_help_names_arguments_in_capitals_and_flags_without_a_type() -> None:
    result = runner.invoke(app, ["generate", "--help"], prog_name="darkroom")
    assert result.exit_code == 0
    assert "Usage: darkroom generate [OPTIONS] PROMPT" in result.output
    assert "<bool>" not in result.output
    assert "{prompt}" not in result.output
    revoke = runner.invoke(app, ["token", "revoke", "--help"])
    assert "TOKEN_ID" in revoke.output


def seed_operations(data_dir: Path) -> dict[str, str]:
    """A live worker running one job, one job queued on each lane, two finished
    in the last hour (2 s and 4 s runs) and one from yesterday."""
    from datetime import timedelta

    from core.accounts import create_user
    from core.credits import FreeCreditPolicy
    from core.db import Database
    from core.enums import JobKind, JobSource, JobStatus, Tier
    from core.models import Job, WorkerBeat, utcnow
    from core.settings import Settings

    now = utcnow()

    async def seed() -> dict[str, str]:
        settings = Settings(data_dir=data_dir)
        db = Database(settings.resolved_database_url)
        try:
            async with db.session() as session:
                user = await create_user(
                    session,
                    email="ops@example.com",
                    tier=Tier.PRO,
                    credits=0,
                    policy=FreeCreditPolicy.from_settings(settings),
                )

                def job(status: JobStatus, **fields: object) -> Job:
                    row = Job(
                        user_id=user.id,
                        kind=JobKind.GENERATE,
                        source=JobSource.CLI,
                        status=status,
                        model_id="darkroom-tiny",
                        total_steps=20,
                        **fields,
                    )
                    session.add(row)
                    return row

                worker = "arq:host:1:abc123"
                session.add(
                    WorkerBeat(id=worker, kind="arq", started_at=now, seen_at=now)
                )
                session.add(
                    WorkerBeat(
                        id="arq:gone:2:dead00",
                        kind="arq",
                        started_at=now - timedelta(hours=2),
                        seen_at=now - timedelta(hours=1),
                    )
                )
                running = job(
                    JobStatus.RUNNING, worker_id=worker, started_at=now, step=7
                )
                job(JobStatus.QUEUED, paid_lane=True)
                job(JobStatus.QUEUED, paid_lane=False)
                for seconds in (2, 4):
                    job(
                        JobStatus.SUCCEEDED,
                        started_at=now - timedelta(seconds=10),
                        finished_at=now - timedelta(seconds=10 - seconds),
                    )
                job(
                    JobStatus.FAILED,
                    created_at=now - timedelta(days=1),
                    started_at=now - timedelta(days=1),
                    finished_at=now - timedelta(days=1) + timedelta(seconds=90),
                )
                await session.flush()
                return {"worker": worker, "running": str(running.id)}
        finally:
            await db.dispose()

    return asyncio.run(seed())


def test_status_shows_the_queue_the_workers_and_the_last_hour(data_dir: Path) -> None:
    # given a worker running a job, queued jobs on both lanes and finished ones
    seeded = seed_operations(data_dir)
    # when the operator asks for the status
    output = invoke("status")
    lines = [" ".join(line.replace("│", " ").split()) for line in output.splitlines()]
    # then each lane has one job queued, the live worker shows its job, a worker
    # silent for an hour is left out, and the last hour counts and times its runs
    assert "paid 1" in lines
    assert "free 1" in lines
    worker_line = next(line for line in lines if seeded["worker"] in line)
    assert seeded["running"] in worker_line
    assert "step 7/20" in worker_line
    assert "arq:gone" not in output
    assert "SUCCEEDED 2" in lines
    assert "RUNNING 1" in lines
    assert "QUEUED 2" in lines
    assert "FAILED 0" in lines  # yesterday's failure is outside the hour
    assert "p50 2.00" in lines
    assert "p95 4.00" in lines


def test_token_create_grants_metrics_only_when_asked(data_dir: Path) -> None:
    invoke("user", "create", "op@example.com")
    invoke("token", "create", "op@example.com", "--scopes", "METRICS")
    invoke("token", "create", "op@example.com", "--name", "plain")
    scopes = [
        line.split("│")[4].strip()
        for line in invoke("token", "list", "op@example.com").splitlines()
        if line.startswith("│")
    ]
    assert sorted(scopes) == ["GENERATE,READ", "METRICS"]


def test_console_link_prints_a_sign_in_link_that_works_once(data_dir: Path) -> None:
    # given an account
    from starlette.testclient import TestClient

    from core.settings import Settings
    from darkroom.services import build_app
    from tests.console.signing import ORIGIN

    invoke("user", "create", "cy@example.com")
    # when a console link is asked for it
    output = invoke("console-link", "cy@example.com")
    # then the link is alone on its line, on the server's public address
    link = next(line for line in output.splitlines() if "/console/login?code=" in line)
    assert link.startswith("http://127.0.0.1:8000/console/login?code=")
    code = link.partition("code=")[2]
    with TestClient(build_app(Settings(data_dir=data_dir))) as client:

        def use() -> int:
            return client.post(
                "/console/login",
                data={"code": code},
                headers={"Origin": ORIGIN},
                follow_redirects=False,
            ).status_code

        # and it signs in once (the console then names a session's CSRF token),
        # then is spent
        assert use() == 303
        assert 'name="darkroom-csrf"' in client.get("/console/").text
        assert use() == 410


def test_console_link_for_an_unknown_email_fails_saying_so(data_dir: Path) -> None:
    # given no account for an address
    # when a console link is asked for it
    result = runner.invoke(app, ["console-link", "nobody@example.com"])
    # then it exits non-zero naming the address, and prints no link
    assert result.exit_code == 1
    assert "NOT_FOUND" in result.output
    assert "no account for nobody@example.com" in result.output
    assert "/console/login" not in result.output
