"""A newcomer's first starts of `darkroom serve`: a taken port, a lost token, a
quiet output; each start a real process on a fresh HOME."""

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.darkroom.test_serve import ME, free_port

DARKROOM = Path(sys.executable).parent / "darkroom"
# Lines a clean start may print, up to the engine's warm-up: ours, uvicorn's.
EXPECTED_PREFIXES = (
    "Created the local account ",
    "GraphiQL: ",
    "Its API token ",
    "drk_",
    "Console sign-in link ",  # the first start's one-time console link
    "http://127.0.0.1:",  # that link, alone on its line
    "No token of local@darkroom.localhost has been used yet",
    "  ",  # the command that hint names, on a line of its own
)
# A log line: time, level, logger. INFO lines are expected; warnings are not.
LOG_LINE = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (?P<level>[A-Z]+) ")


def fresh_home_env(home: Path) -> dict[str, str]:
    """The environment of someone who just cloned the project: nothing set."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("DARKROOM_")}
    return {**environ, "HOME": str(home), "XDG_DATA_HOME": str(home / ".local/share")}


def serve_once(port: int, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """A start that is expected to stop by itself."""
    return subprocess.run(
        [str(DARKROOM), "serve", "--port", str(port)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@contextmanager
def serving(
    port: int, env: dict[str, str], until: str = "Application startup complete"
) -> Iterator[list[str]]:
    """`darkroom serve` until it prints `until`; yields the lines printed so far
    (stdout and stderr), and the rest once it stops."""
    process = subprocess.Popen(
        [str(DARKROOM), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            line = process.stdout.readline() if process.stdout else ""
            if not line and process.poll() is not None:
                break
            lines.append(line.rstrip("\n"))
            if until in line:
                break
        assert any(until in line for line in lines), "\n".join(lines)
        yield lines
    finally:
        process.terminate()
        rest, _ = process.communicate(timeout=30)
        lines.extend(rest.splitlines())


def printed_token(lines: list[str]) -> str | None:
    return next((line for line in lines if line.startswith("drk_")), None)


def my_email(port: int, token: str) -> str:
    """The email of the account `token` belongs to, asked of the server on `port`."""
    me = httpx.post(
        f"http://127.0.0.1:{port}/graphql",
        json=ME,
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    ).json()
    return str(me["data"]["me"]["email"])


def unexpected(lines: list[str]) -> list[str]:
    """Lines a clean start should not print: warnings, advice, tracebacks."""
    ours = [line for line in lines if not line.startswith(EXPECTED_PREFIXES)]
    return [
        line
        for line in ours
        if not ((found := LOG_LINE.match(line)) and found["level"] == "INFO")
    ]


def test_a_taken_port_burns_no_token_and_the_first_real_start_prints_it(
    tmp_path: Path,
) -> None:
    home, port = tmp_path / "home", free_port()
    env = fresh_home_env(home)
    # given another program on the port
    blocker = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        # when a newcomer starts darkroom twice on it
        refused = [serve_once(port, env) for _ in range(2)]
    finally:
        blocker.terminate()
        blocker.wait(timeout=10)
    # then each start says in one line that the port is taken, naming --port
    for start in refused:
        assert start.returncode == 1
        assert start.stdout == ""
        assert start.stderr.count("\n") == 1, start.stderr
        assert "port" in start.stderr
        assert "--port" in start.stderr
        assert "Errno" not in start.stderr
        assert "Traceback" not in start.stderr
    # when the port is free again, the next start prints the token, and
    # prints nothing else it should not (no torchvision advice, no warnings)
    with serving(port, env, until="engine ready in") as lines:
        token = printed_token(lines)
        assert token is not None, "\n".join(lines)
        email = my_email(port, token)
    assert email == "local@darkroom.localhost"
    assert not any("torchvision" in line for line in lines), "\n".join(lines)
    assert unexpected(lines) == [], "\n".join(lines)


def test_a_start_whose_account_never_used_a_token_says_how_to_make_one(
    tmp_path: Path,
) -> None:
    home, port = tmp_path / "home", free_port()
    env = fresh_home_env(home)
    # given a first start whose token the newcomer lost (never used)
    with serving(port, env) as first:
        assert printed_token(first) is not None
    # when darkroom starts again
    with serving(port, env) as second:
        pass
    # then it prints no token but the exact command that makes one
    assert printed_token(second) is None
    hint = next(i for i, line in enumerate(second) if "has been used yet" in line)
    command = second[hint + 1].split()
    assert command[:3] == [str(DARKROOM), "token", "create"]
    # and that command, run as printed, makes a token that works
    made = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip().splitlines()[-1]
    with serving(port, env) as third:
        assert my_email(port, token) == "local@darkroom.localhost"
    # and once a token has been used, starts stop offering the command
    with serving(port, env) as fourth:
        pass
    assert "has been used yet" in "\n".join(third)
    assert not any("has been used yet" in line for line in fourth)
