"""The darkroom CLI through Typer's runner, on a real SQLite database."""

from pathlib import Path

import pytest
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
        app, ["token", "create", "cy@example.com", "--scopes", "ADMIN"]
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
