"""`darkroom worker` as a real process: torch's threads are set before torch loads."""

import os
import subprocess
import sys
from pathlib import Path


def test_the_worker_sets_torch_threads_before_torch_loads(
    tmp_path: Path, redis_url: str, sqlite_database_url: str
) -> None:
    # given a worker asked for one torch thread, whose OpenMP prints its settings
    env = {
        **os.environ,
        "DARKROOM_DATA_DIR": str(tmp_path / "data"),
        "DARKROOM_DATABASE_URL": sqlite_database_url,
        "DARKROOM_REDIS_URL": redis_url,
        "DARKROOM_TORCH_THREADS": "1",
        "OMP_DISPLAY_ENV": "VERBOSE",
    }
    # when it starts on an empty queue, loads its models and exits (burst)
    done = subprocess.run(
        [str(Path(sys.executable).parent / "darkroom"), "worker", "--burst"],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    # then torch's OpenMP loaded with the passive policy (it never spins), after
    # the engine took one thread, and the models loaded after that
    assert "GOMP_SPINCOUNT = '0'" in output
    assert "GOMP_SPINCOUNT = '300000'" not in output
    assert "engine: 1 torch thread(s)" in output
    assert "did not take effect" not in output
    assert output.index("engine: 1 torch thread(s)") < output.index(
        "loaded darkroom-tiny"
    )


async def test_a_worker_reports_itself_serves_its_metrics_and_makes_the_api_ready(
    tmp_path: Path, redis_url: str, sqlite_database_url: str
) -> None:
    import asyncio
    import contextlib
    import socket
    import time

    import httpx
    import sqlalchemy as sa
    from starlette.testclient import TestClient

    from core.db import Database
    from core.models import WorkerBeat
    from core.settings import Settings
    from darkroom.services import _serve_worker, build_app
    from tests.conftest import _empty_tables

    # given a worker with a metrics port, on the scale-out setup
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    db = Database(sqlite_database_url)
    await _empty_tables(db)
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=sqlite_database_url,
        redis_url=redis_url,
        worker_metrics_port=port,
    )

    async def rows() -> list[WorkerBeat]:
        async with db.session() as session:
            return list(await session.scalars(sa.select(WorkerBeat)))

    # when it runs
    worker = asyncio.create_task(_serve_worker(settings, burst=False))
    try:
        deadline = time.monotonic() + 120
        scraped = None
        async with httpx.AsyncClient() as client:
            while time.monotonic() < deadline and (scraped is None or not await rows()):
                with contextlib.suppress(httpx.TransportError):
                    scraped = await client.get(f"http://127.0.0.1:{port}/metrics")
                await asyncio.sleep(0.2)
        reported = await rows()
        # then its metrics answer without a token, it has a row, and an API on
        # the same database and Redis is ready
        assert scraped is not None
        assert scraped.status_code == 200
        assert "# TYPE darkroom_jobs_finished_total counter" in scraped.text
        assert [row.kind for row in reported] == ["arq"]
        with TestClient(build_app(settings)) as api:
            ready = await asyncio.to_thread(api.get, "/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"] == {
            "database": "ok",
            "storage": "ok",
            "worker": "ok",
            "redis": "ok",
        }
    finally:
        worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker
    # and a clean stop removes its row
    assert await rows() == []
    await db.dispose()
