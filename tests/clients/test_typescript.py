"""The TypeScript client in clients/typescript: its generated types match
schema.graphql, and its node tests pass against a live server."""

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.clients.conftest import LiveServer
from tests.clients.node_project import installed, run_in

PACKAGE = Path(__file__).resolve().parents[2] / "clients" / "typescript"
pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]  # npm ci on a cold cache


def run(
    *command: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return run_in(PACKAGE, *command, env=env)


@pytest.fixture(scope="module")
def npm() -> str:
    """npm, with node_modules installed from package-lock.json."""
    return installed(PACKAGE)[1]


def test_the_generated_types_match_schema_graphql(npm: str) -> None:
    checked = run(npm, "run", "codegen:check")
    assert checked.returncode == 0, (
        "clients/typescript/src/generated/graphql.ts is stale against "
        "schema.graphql or clients/operations; regenerate and commit it: "
        f"cd clients/typescript && npm run codegen\n{checked.stdout}{checked.stderr}"
    )


def test_the_client_passes_its_node_tests_against_a_live_server(
    npm: str, live_server: LiveServer
) -> None:
    env = {
        **os.environ,
        "DARKROOM_URL": live_server.url,
        "DARKROOM_TOKEN": live_server.token,
    }
    tested = run(npm, "test", env=env)
    assert tested.returncode == 0, f"npm test failed:\n{tested.stdout}{tested.stderr}"


def test_npm_pack_gives_a_tarball_that_installs_with_its_types(
    npm: str, tmp_path: Path
) -> None:
    # given the package built and packed
    built = run(npm, "run", "build")
    assert built.returncode == 0, f"{built.stdout}{built.stderr}"
    packed = run(npm, "pack", "--json", "--pack-destination", str(tmp_path))
    assert packed.returncode == 0, f"{packed.stdout}{packed.stderr}"
    tarball = tmp_path / json.loads(packed.stdout)[0]["filename"]
    # when a fresh project installs the tarball
    app = tmp_path / "app"
    app.mkdir()
    (app / "package.json").write_text(
        '{"name": "app", "version": "1.0.0", "type": "module"}'
    )
    installed = subprocess.run(
        [npm, "install", "--no-audit", "--no-fund", str(tarball)],
        cwd=app,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert installed.returncode == 0, f"{installed.stdout}{installed.stderr}"
    # then it carries its types and imports as an ES module
    package = app / "node_modules" / "@darkroom" / "client"
    assert (package / "dist" / "src" / "index.d.ts").exists()
    assert not (package / "dist" / "test").exists(), "the tests are not shipped"
    script = "import('@darkroom/client').then(m => process.exit(typeof m.createClient === 'function' ? 0 : 1))"
    imported = subprocess.run(
        ["node", "-e", script],
        cwd=app,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert imported.returncode == 0, f"{imported.stdout}{imported.stderr}"
