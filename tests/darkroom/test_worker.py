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
