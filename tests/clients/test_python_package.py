"""darkroom-client installs from clients/python on its own: small, without the
server's stack, and working against a live server."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.clients.conftest import LiveServer

ROOT = Path(__file__).resolve().parents[2]
HEAVY = {"torch", "diffusers", "sqlmodel", "strawberry-graphql", "darkroom"}
LIMIT_MB = 40

pytestmark = pytest.mark.slow


def size_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6


def test_the_client_installs_light_and_runs_against_a_live_server(
    live_server: LiveServer, tmp_path: Path
) -> None:
    # given a venv without pip (pip alone is ~12 MB), filled by our pip --python
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", venv], check=True)
    python = venv / "bin" / "python"
    pip = [sys.executable, "-m", "pip", "--python", str(python)]
    # when darkroom-client is installed from (a copy of) its folder, not editable;
    # the copy keeps setuptools' build/ out of the repository
    source = shutil.copytree(ROOT / "clients" / "python", tmp_path / "client")
    installed = subprocess.run(
        [*pip, "install", "-q", source],
        capture_output=True, text=True, timeout=280, check=False,
    )  # fmt: skip
    assert installed.returncode == 0, installed.stderr
    # then none of the server's stack came along
    listed = subprocess.run(
        [*pip, "list", "--format=json"], capture_output=True, text=True, check=True
    )
    names = {p["name"].lower() for p in json.loads(listed.stdout)}
    assert "darkroom-client" in names
    assert names & HEAVY == set()
    # and the whole venv, interpreter links and all, stays small
    assert size_mb(venv) <= LIMIT_MB, f"{size_mb(venv):.1f} MB: {sorted(names)}"
    # and it generates, watches, uploads and lists outputs and usage
    ran = subprocess.run(
        [python, ROOT / "tests" / "clients" / "light_client.py"],
        env={**os.environ, "DARKROOM_URL": live_server.url,
             "DARKROOM_TOKEN": live_server.token, "PYTHONPATH": ""},
        cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "light client ok" in ran.stdout
