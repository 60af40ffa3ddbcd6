"""A Node project of the tests (the TypeScript client, the graphql-sse client),
with its packages installed from its lock file."""

import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest

INSTALL_NODE = (
    "install Node.js 20 or newer with npm (Debian: apt-get install nodejs npm, "
    "where its nodejs is 20 or newer; otherwise the nodejs.org or NodeSource builds)"
)


def run_in(
    project: Path, *command: str, env: dict[str, str] | None = None, timeout: int = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command,
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def installed(project: Path) -> tuple[str, str]:
    """node and npm, with `project`'s node_modules installed from its
    package-lock.json; npm ci wipes node_modules first, so it runs only when the
    lock changed since the last install."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.fail(f"node or npm is missing; {INSTALL_NODE}")
    version = run_in(project, node, "--version").stdout.strip()
    if int(version.lstrip("v").split(".")[0]) < 20:
        pytest.fail(f"node {version} is too old; {INSTALL_NODE}")
    stamp = project / "node_modules" / ".darkroom-stamp"
    lock = hashlib.sha256((project / "package-lock.json").read_bytes()).hexdigest()
    if not stamp.exists() or stamp.read_text() != lock:
        done = run_in(project, npm, "ci", "--no-audit", "--no-fund")
        assert done.returncode == 0, (
            f"npm ci failed in {project}:\n{done.stdout}{done.stderr}"
        )
        stamp.write_text(lock)
    return node, npm
