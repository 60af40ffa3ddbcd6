"""The scale-out path for real: PostgreSQL, Redis with a `darkroom worker`
process, and S3 storage on moto's server, driven through the API."""

import io
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from PIL import Image
from starlette.testclient import TestClient

from core.settings import Settings
from darkroom.services import build_app
from tests.conftest import Api, empty_database
from tests.resolvers.test_jobs_api import CREATE, follow

pytestmark = pytest.mark.slow


@pytest.fixture
def scaled(
    postgresql_database_url: str, redis_url: str, s3_settings: Settings
) -> Iterator[Api]:
    empty_database(postgresql_database_url)
    settings = s3_settings.model_copy(
        update={"database_url": postgresql_database_url, "redis_url": redis_url}
    )
    with TestClient(build_app(settings)) as client:
        yield Api(client, settings)


def worker_env(settings: Settings) -> dict[str, str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    for name in (
        "data_dir",
        "database_url",
        "redis_url",
        "storage_url",
        "s3_endpoint_url",
        "s3_region",
        "s3_access_key_id",
        "s3_secret_access_key",
    ):
        env[f"DARKROOM_{name.upper()}"] = str(getattr(settings, name))
    return env


def test_a_job_runs_on_a_worker_process_and_lands_in_s3(scaled: Api) -> None:
    # given an account and a job submitted to the Redis queue
    token = scaled.account("sam@example.com", credits=5)
    payload = scaled.data(
        CREATE,
        {
            "input": {
                "prompt": "harbour at night",
                "width": 64,
                "height": 64,
                "inferenceSteps": 2,
                "numOutputs": 2,
            }
        },
        token=token,
    )["generationCreate"]
    job_id = payload["job"]["id"]
    assert payload["job"]["status"] == "QUEUED"
    # when a separate `darkroom worker --burst` process drains the queue
    darkroom = Path(sys.executable).parent / "darkroom"
    done = subprocess.run(
        [str(darkroom), "worker", "--burst"],
        env=worker_env(scaled.settings),
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    # then the job succeeded, its images are in the bucket behind working signed URLs
    job = scaled.data(
        "query($id: ID!) { job(id: $id) { status cost outputs { imageUrl width seed } } }",
        {"id": job_id},
        token=token,
    )["job"]
    assert job["status"] == "SUCCEEDED"
    assert len(job["outputs"]) == 2
    for output in job["outputs"]:
        assert output["imageUrl"].startswith(scaled.settings.s3_endpoint_url)
        assert (
            "Signature" in output["imageUrl"] or "X-Amz-Signature" in output["imageUrl"]
        )
        image = Image.open(io.BytesIO(httpx.get(output["imageUrl"]).content))
        assert image.size == (64, 64)
    # and a subscriber arriving after the end still gets the final state from Redis
    events = follow(scaled, token, job_id)
    assert events[-1]["type"] == "SUCCEEDED"
    balance = scaled.data("{ me { credits { total } } }", token=token)["me"]["credits"]
    assert balance["total"] == 3
