"""The Python client in clients/python (darkroom_client): it is what
ariadne-codegen makes of schema.graphql and clients/operations, and it works, sync and async,
against a live server, as does `darkroom generate` on top of it."""

import asyncio
import filecmp
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner

from darkroom.cli import app
from darkroom_client import connect
from darkroom_client.aio import enums as aio_enums
from darkroom_client.aio import exceptions as aio_errors
from darkroom_client.sync.base_model import Upload
from darkroom_client.sync.enums import ErrorCode, JobStatus, JobUpdateType, Scope
from darkroom_client.sync.exceptions import GraphQLClientGraphQLMultiError
from darkroom_client.sync.input_types import (
    ApiTokenCreateInput,
    GenerationCreateInput,
    IntFilter,
    OutputWhere,
    UpscaleCreateInput,
    UsageWhere,
)
from tests.clients.conftest import LiveServer

ROOT = Path(__file__).resolve().parents[2]
GENERATED = ROOT / "clients" / "python" / "darkroom_client"
CODEGEN_PIN = ROOT / "clients" / "python" / "codegen.txt"
# ariadne-codegen needs graphql-core 3.2 and Strawberry 3.3, so it gets a venv of
# its own, made once per pin (pip install runs only when codegen.txt changed).
CODEGEN_VENV = ROOT / ".venv-codegen"
STAMP = CODEGEN_VENV / ".darkroom-stamp"

# 64 px and 2 steps: the tiny model finishes this in well under a second.
TINY = GenerationCreateInput(
    prompt="a red fox in the snow",
    model_id="darkroom-tiny",
    width=64,
    height=64,
    inference_steps=2,
    num_outputs=1,
)
# Holds the in-process runner for seconds while a test looks at the job behind it.
BLOCKER = TINY.model_copy(update={"width": 128, "height": 128, "inference_steps": 50})

# A well-formed job id that no one owns.
FOREIGN = "Sm9iOjAwMDAwMDAwLTAwMDAtMDAwMC0wMDAwLTAwMDAwMDAwMDAwMA=="

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def codegen() -> Path:
    """ariadne-codegen at the pinned version, in .venv-codegen."""
    pin = CODEGEN_PIN.read_text()
    if not STAMP.exists() or STAMP.read_text() != pin:
        subprocess.run([sys.executable, "-m", "venv", CODEGEN_VENV], check=True)
        installed = subprocess.run(
            [CODEGEN_VENV / "bin" / "pip", "install", "-q", "-r", CODEGEN_PIN],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert installed.returncode == 0, (
            f"pip install -r {CODEGEN_PIN} failed:\n{installed.stderr}"
        )
        STAMP.write_text(pin)
    return CODEGEN_VENV / "bin" / "ariadne-codegen"


def test_the_committed_client_is_what_ariadne_codegen_makes(
    codegen: Path, tmp_path: Path
) -> None:
    # given both configurations, pointed at an empty folder
    configs = {
        "aio.toml": ROOT / "clients" / "python" / "aio.toml",
        "sync.toml": ROOT / "clients" / "python" / "sync.toml",
    }
    for name, path in configs.items():
        text = path.read_text()
        target = 'target_package_path = "clients/python/darkroom_client"'
        assert target in text, f"{path} no longer has {target}"
        (tmp_path / name).write_text(
            text.replace(target, f'target_package_path = "{tmp_path}"')
        )
    # when ariadne-codegen runs both from the repository root
    for name in configs:
        made = subprocess.run(
            [codegen, "client", "--config", tmp_path / name],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert made.returncode == 0, (
            f"ariadne-codegen failed:\n{made.stdout}{made.stderr}"
        )
    # then every generated file equals the committed one
    stale = []
    for package in ("aio", "sync"):
        fresh, committed = tmp_path / package, GENERATED / package
        names = {p.name for p in fresh.glob("*.py")} | {
            p.name for p in committed.glob("*.py")
        }
        _match, mismatch, missing = filecmp.cmpfiles(
            fresh, committed, sorted(names), shallow=False
        )
        stale += [f"{package}/{name}" for name in mismatch + missing]
    assert stale == [], (
        f"clients/python/darkroom_client is stale against schema.graphql or "
        f"clients/operations: {stale}; regenerate and commit it (README: Python client)"
    )


def png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 80, 40)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_the_sync_client_covers_tokens_jobs_outputs_uploads_and_usage(
    live_server: LiveServer,
) -> None:
    with connect.client(live_server.url, live_server.token) as api:
        # given a token of its own, made with the first one
        created = api.api_token_create(
            input=ApiTokenCreateInput(
                name="script", scopes=[Scope.READ, Scope.GENERATE]
            )
        ).api_token_create
        assert created.user_errors == []
        assert created.api_token is not None
        assert created.secret is not None
        assert set(created.api_token.scopes) == {Scope.READ, Scope.GENERATE}
        token_ids = [t.id for t in api.api_tokens().api_tokens]
        assert created.api_token.id in token_ids

    with connect.client(live_server.url, created.secret) as api:
        # when it generates three images, waiting for them
        job = api.generate(
            input=TINY.model_copy(update={"num_outputs": 3, "seed": 7}), wait=60
        ).generation_create.job
        assert job is not None
        assert job.status is JobStatus.SUCCEEDED
        assert [o.seed for o in job.outputs] == [7, 8, 9]

        # then its outputs page two at a time under a typed filter
        where = OutputWhere(job_id=job.id, width=IntFilter(eq=64))
        first = api.outputs(first=2, where=where, with_total_count=True).outputs
        second = api.outputs(first=2, after=first.page_info.end_cursor, where=where)
        assert first.total_count == 3
        assert first.page_info.has_next_page
        assert len(first.edges) == 2
        assert len(second.outputs.edges) == 1
        paged = {e.node.id for e in first.edges + second.outputs.edges}
        assert paged == {o.id for o in job.outputs}
        none = api.outputs(
            first=2, where=OutputWhere(job_id=job.id, width=IntFilter(gt=64))
        )
        assert none.outputs.edges == []

        # and usage lists the job under this token
        usage = api.usage(
            first=10, where=UsageWhere(token_id=created.api_token.id)
        ).usage
        assert [e.node.job_id for e in usage.edges] == [job.id]
        assert usage.edges[0].node.charged == 3

        # and an uploaded image upscales 4x
        uploaded = api.image_upload(
            file=Upload("fox.png", io.BytesIO(png(32, 24)), "image/png")
        ).image_upload
        assert uploaded.user_errors == []
        assert uploaded.upload is not None
        assert (uploaded.upload.width, uploaded.upload.height) == (32, 24)
        upscaled = api.upscale(
            input=UpscaleCreateInput(image_id=uploaded.upload.id), wait=60
        ).upscale_create
        assert upscaled.job is not None
        assert upscaled.job.status is JobStatus.SUCCEEDED
        assert (upscaled.job.outputs[0].width, upscaled.job.outputs[0].height) == (
            128,
            96,
        )

        # and a queued job cancels with its credits back; a second cancel is a userError
        blocker = api.generate(input=BLOCKER).generation_create.job
        queued = api.generate(input=TINY).generation_create.job
        assert blocker is not None
        assert queued is not None
        try:
            cancelled = api.cancel(id=queued.id).job_cancel
        finally:
            api.cancel(id=blocker.id)
        assert cancelled.job is not None
        assert cancelled.job.status is JobStatus.CANCELLED
        assert cancelled.job.refunded == 1
        again = api.cancel(id=queued.id).job_cancel
        assert again.job is None
        assert [e.code for e in again.user_errors] == [ErrorCode.JOB_FINISHED]

        # and bad input comes back typed, naming each field
        refused = api.generate(
            input=TINY.model_copy(update={"width": 1001, "num_outputs": 9})
        ).generation_create
        codes = {".".join(e.field or []): e.code for e in refused.user_errors}
        assert codes["input.width"] is ErrorCode.INVALID_SIZE
        assert codes["input.numOutputs"] is ErrorCode.OUT_OF_RANGE

        # and revoking its own token is refused (MANAGE scope), with a code
        with pytest.raises(GraphQLClientGraphQLMultiError) as refusal:
            api.api_token_revoke(id=created.api_token.id)
        assert connect.error_codes(refusal.value) == [ErrorCode.FORBIDDEN]


def test_a_sync_caller_watches_a_job_to_succeeded(live_server: LiveServer) -> None:
    with connect.client(live_server.url, live_server.token) as api:
        job = api.generate(
            input=TINY.model_copy(update={"seed": 42})
        ).generation_create.job
        assert job is not None
        updates = list(connect.watch_job(live_server.url, live_server.token, job.id))
    assert updates[-1].status is JobStatus.SUCCEEDED
    outputs = [u.output for u in updates if u.type_ is JobUpdateType.OUTPUT]
    assert [o.seed for o in outputs if o is not None] == [42]


def test_the_async_client_generates_watches_and_pages(live_server: LiveServer) -> None:
    async def scenario() -> None:
        async with connect.async_client(live_server.url, live_server.token) as api:
            # given a job waiting behind another, so its whole life is ahead
            blocker = (await api.generate(input=BLOCKER)).generation_create.job
            job = (await api.generate(input=TINY)).generation_create.job
            assert blocker is not None
            assert job is not None
            # when it is watched, and the job ahead is cancelled to let it run
            updates = []
            async for message in api.job_updates(job_id=job.id):
                updates.append(message.job_updates)
                if len(updates) == 1:
                    await api.cancel(id=blocker.id)
            # then the updates are typed, from QUEUED through each step to SUCCEEDED
            assert updates[0].status is aio_enums.JobStatus.QUEUED
            steps = [
                u.step for u in updates if u.type_ is aio_enums.JobUpdateType.PROGRESS
            ]
            assert steps[-1] == 2
            assert updates[-1].type_ is aio_enums.JobUpdateType.SUCCEEDED
            # and its image is a page of outputs, and usage counts it
            page = await api.outputs(first=1, where=OutputWhere(job_id=job.id))
            assert page.outputs.edges[0].node.job_id == job.id
            totals = (await api.usage_totals()).me.usage_summary
            assert sum(t.jobs for t in totals) >= 2
            # and a foreign id is a GraphQL error carrying NOT_FOUND
            with pytest.raises(aio_errors.GraphQLClientGraphQLMultiError) as missing:
                await api.job(id=FOREIGN)
            assert connect.error_codes(missing.value) == [ErrorCode.NOT_FOUND]
            # and so is watching it: the subscription raises, it does not just end
            with pytest.raises(aio_errors.GraphQLClientGraphQLMultiError) as unseen:
                async for _ in api.job_updates(job_id=FOREIGN):
                    pass
            assert connect.error_codes(unseen.value) == [ErrorCode.NOT_FOUND]

    asyncio.run(scenario())


def test_darkroom_generate_saves_the_images_it_watched(
    live_server: LiveServer, tmp_path: Path
) -> None:
    # when the CLI generates two tiny images through the live server
    result = CliRunner().invoke(
        app,
        [
            "generate",
            "a lighthouse",
            "--url",
            live_server.url,
            "--model",
            "darkroom-tiny",
            "--width",
            "64",
            "--height",
            "64",
            "--steps",
            "2",
            "--seed",
            "5",
            "--out",
            str(tmp_path),
        ],
        env={**os.environ, "DARKROOM_TOKEN": live_server.token},
    )
    # then both are saved as PNGs, named by job and index, with their seeds
    assert result.exit_code == 0, result.output
    saved = sorted(tmp_path.glob("*.png"))
    assert [p.name[-6:] for p in saved] == ["-0.png", "-1.png"]
    assert "(seed 5)" in result.output
    assert "(seed 6)" in result.output
    with Image.open(saved[0]) as image:
        assert image.size == (64, 64)


def test_darkroom_generate_prints_refusals_with_their_code(
    live_server: LiveServer,
) -> None:
    result = CliRunner().invoke(
        app,
        ["generate", "x", "--url", live_server.url, "--width", "1001"],
        env={**os.environ, "DARKROOM_TOKEN": live_server.token},
    )
    assert result.exit_code == 1
    assert "refused:" in result.output
    assert "INVALID_SIZE" in result.output
    bad_token = CliRunner().invoke(
        app,
        ["generate", "x", "--url", live_server.url],
        env={**os.environ, "DARKROOM_TOKEN": "drk_not_a_token"},
    )
    assert bad_token.exit_code == 1
    assert "UNAUTHENTICATED" in bad_token.output
