"""The embedded default survives a restart: lost in-memory work is picked up again."""

import time
from pathlib import Path

from starlette.testclient import TestClient

from core.settings import Settings
from darkroom.services import build_app
from tests.conftest import Api
from tests.resolvers.test_jobs_api import CREATE

JOB = "query($id: ID!) { job(id: $id) { status cost refunded outputs { index } } }"


def test_a_job_cut_off_by_a_restart_finishes_once_after_it(
    sqlite_database_url: str, tmp_path: Path
) -> None:
    # given the embedded service with a quick heartbeat and a job in flight
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=sqlite_database_url,
        heartbeat_seconds=0.2,
        heartbeat_stale_seconds=1,
    )
    with TestClient(build_app(settings)) as client:
        api = Api(client, settings)
        token = api.account("rex@example.com", credits=10)
        job = api.data(
            CREATE,
            {
                "input": {
                    "prompt": "slow",
                    "width": 256,
                    "height": 256,
                    "inferenceSteps": 30,
                    "numOutputs": 2,
                }
            },
            token=token,
        )["generationCreate"]["job"]
    # when the process stops mid-job and starts again once its heartbeat is stale
    time.sleep(1.5)
    with TestClient(build_app(settings)) as client:
        api = Api(client, settings)
        deadline = time.monotonic() + 120
        state = api.data(JOB, {"id": job["id"]}, token=token)["job"]
        while (
            state["status"] not in ("SUCCEEDED", "FAILED")
            and time.monotonic() < deadline
        ):
            time.sleep(0.5)
            state = api.data(JOB, {"id": job["id"]}, token=token)["job"]
        balance = api.data("{ me { credits { total } } }", token=token)["me"]
    # then it finished once, with each image once, charged once
    assert state["status"] == "SUCCEEDED"
    assert [o["index"] for o in state["outputs"]] == [0, 1]
    assert state["cost"] == 2
    assert balance["credits"]["total"] == 8
