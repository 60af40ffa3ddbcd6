"""One job's trace, from its HTTP request to its last event: on the scale-out
path (PostgreSQL, Redis, a real arq worker, the traceparent carried in the arq
job), and on the embedded setup (the in-process runner carries it in memory)."""

import asyncio
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
    InMemorySpanExporter,
)
from opentelemetry.trace import SpanKind
from starlette.testclient import TestClient

from core import tracing
from core.db import Database
from core.settings import Settings
from darkroom.services import (
    build_app,
    close_jobs,
    open_catalog,
    open_jobs,
    open_storage,
)
from tests.conftest import Api, empty_database
from tests.jobs.conftest import run_burst_worker
from tests.resolvers.test_jobs_api import CREATE

pytestmark = pytest.mark.slow

JOB = "query($id: ID!) { job(id: $id) { status } }"
# Under the worker's task span, whatever the job's size.
RUN = {"job.claim", "job.run"}
# Under job.run: the engine's phases, the image's encoding and storage, the end's
# transaction and every event the worker published.
IN_RUN = {
    "engine.load",
    "engine.denoise",
    "engine.decode",
    "engine.save",
    "output.store",
    "job.finish",
    "event.publish",
}


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """Tracing on for this test, every span kept in memory."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing.install(provider)
    yield exporter
    tracing.install(None)
    provider.shutdown()


async def drain(settings: Settings) -> None:
    """Run a real arq worker, built as `darkroom worker` builds it, until the
    queue is empty."""
    db = Database(settings.resolved_database_url)
    jobs = await open_jobs(
        settings,
        db=db,
        storage=open_storage(settings),
        catalog=open_catalog(settings),
        in_process=False,
    )
    try:
        await run_burst_worker(jobs)
    finally:
        await close_jobs(jobs)
        await db.dispose()


def submit(api: Api, token: str) -> str:
    payload = api.data(
        CREATE,
        {
            "input": {
                "prompt": "lanterns",
                "width": 64,
                "height": 64,
                "inferenceSteps": 2,
                "numOutputs": 1,
            }
        },
        token=token,
    )["generationCreate"]
    assert payload["job"]["status"] == "QUEUED"
    job_id: str = payload["job"]["id"]
    return job_id


def status(api: Api, token: str, job_id: str) -> str:
    value: str = api.data(JOB, {"id": job_id}, token=token)["job"]["status"]
    return value


def job_trace(exporter: InMemorySpanExporter) -> dict[str, list[ReadableSpan]]:
    """The spans of the one trace that holds a worker's task, by name."""
    finished = exporter.get_finished_spans()
    (task,) = [s for s in finished if s.name == "run_generation"]
    trace_id = task.context.trace_id
    named: dict[str, list[ReadableSpan]] = {}
    for span in finished:
        if span.context.trace_id == trace_id:
            named.setdefault(span.name, []).append(span)
    return named


def parent_of(span: ReadableSpan, named: dict[str, list[ReadableSpan]]) -> str:
    assert span.parent is not None, f"{span.name} has no parent"
    for name, spans in named.items():
        if any(s.context.span_id == span.parent.span_id for s in spans):
            return name
    raise AssertionError(f"{span.name}'s parent is not in the trace")


def assert_one_job_tree(named: dict[str, list[ReadableSpan]]) -> None:
    # the HTTP request is the root, and the submission and its enqueue are under it
    (http,) = [s for spans in named.values() for s in spans if s.parent is None]
    assert http.kind is SpanKind.SERVER
    assert http.attributes is not None
    assert "darkroom.request_id" in http.attributes
    (submit_span,) = named["job.submit"]
    assert parent_of(submit_span, named) == http.name
    (enqueue,) = named["job.enqueue"]
    assert parent_of(enqueue, named) == "job.submit"
    # the worker's task continues the trace from the enqueue the job carried
    (task,) = named["run_generation"]
    assert task.kind is SpanKind.CONSUMER
    assert parent_of(task, named) == "job.enqueue"
    assert {parent_of(s, named) for name in RUN for s in named[name]} == {
        "run_generation"
    }
    # and everything the job did on the worker is under its run
    (run,) = named["job.run"]
    assert run.attributes is not None
    assert run.attributes["darkroom.job.status"] == "SUCCEEDED"
    for name in IN_RUN - {"event.publish"}:
        assert [parent_of(s, named) for s in named[name]] == ["job.run"], name
    events = {
        s.attributes["darkroom.event.type"]: parent_of(s, named)
        for s in named["event.publish"]
        if s.attributes is not None
    }
    assert events == {
        "QUEUED": "job.submit",
        "STARTED": "job.run",
        "OUTPUT": "job.run",
        "SUCCEEDED": "job.run",
    }
    # the engine's phases follow each other inside the run
    (load,), (denoise,), (decode,) = (
        named[f"engine.{phase}"] for phase in ("load", "denoise", "decode")
    )
    times = [
        (span.start_time or 0, span.end_time or 0)
        for span in (run, load, denoise, decode)
    ]
    (run_start, run_end), (load_start, load_end), denoising, decoding = times
    assert run_start <= load_start <= load_end <= denoising[0]
    assert denoising[1] == decoding[0] <= decoding[1] <= run_end


def test_one_job_is_one_trace_across_the_api_and_an_arq_worker(
    spans: InMemorySpanExporter,
    postgresql_database_url: str,
    redis_url: str,
    settings: Settings,
) -> None:
    # given the API on PostgreSQL and Redis, with tracing on
    empty_database(postgresql_database_url)
    settings = settings.model_copy(
        update={"database_url": postgresql_database_url, "redis_url": redis_url}
    )
    with TestClient(build_app(settings)) as client:
        api = Api(client, settings)
        token = api.account("tess@example.com", credits=5)
        # when a job is submitted over HTTP and a real arq worker runs it
        job_id = submit(api, token)
        asyncio.run(drain(settings))
        assert status(api, token, job_id) == "SUCCEEDED"
    # then its spans, from both sides of Redis, make one tree
    assert_one_job_tree(job_trace(spans))


def test_an_embedded_job_is_one_trace_through_the_in_process_runner(
    spans: InMemorySpanExporter, sqlite_database_url: str, settings: Settings
) -> None:
    # given the embedded setup (SQLite, no Redis), with tracing on
    empty_database(sqlite_database_url)
    settings = settings.model_copy(update={"database_url": sqlite_database_url})
    with TestClient(build_app(settings)) as client:
        api = Api(client, settings)
        token = api.account("tess@example.com", credits=5)
        # when a job is submitted and the in-process runner runs it
        job_id = submit(api, token)
        deadline = time.monotonic() + 120
        while status(api, token, job_id) != "SUCCEEDED":
            assert time.monotonic() < deadline, "the job did not finish in 120 s"
            time.sleep(0.1)
    # then it makes the same tree
    assert_one_job_tree(job_trace(spans))


def test_a_request_continues_the_callers_trace_and_is_named_by_its_route(
    spans: InMemorySpanExporter, settings: Settings
) -> None:
    # given the app with tracing on
    caller = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    with TestClient(build_app(settings)) as client:
        # when a client sends a request in a trace of its own
        response = client.get("/files/outputs/x/0.png", headers={"traceparent": caller})
    # then its span continues that trace, named by the route, not the path
    assert response.status_code == 403
    (span,) = [s for s in spans.get_finished_spans() if s.kind is SpanKind.SERVER]
    assert f"{span.context.trace_id:032x}" == "0af7651916cd43dd8448eb211c80319c"
    assert span.parent is not None
    assert f"{span.parent.span_id:016x}" == "b7ad6b7169203331"
    assert span.name == "GET /files/{key:path}"
    assert span.attributes is not None
    assert span.attributes["http.response.status_code"] == 403


def test_with_tracing_off_no_span_is_recorded_and_no_middleware_is_added(
    settings: Settings,
) -> None:
    # given tracing off (the default)
    assert not tracing.enabled()
    # when the app is built and serves a request
    app = build_app(settings)
    with TestClient(app) as client:
        assert client.get("/healthz").status_code == 200
    # then no tracing middleware wraps it and there is nothing to propagate
    assert [m.cls.__name__ for m in app.user_middleware] == ["RequestIds"]  # type: ignore[attr-defined]
    with tracing.span("anything"):
        assert tracing.traceparent() is None


def test_a_process_that_does_not_trace_never_loads_the_sdk(tmp_path: Path) -> None:
    # given a fresh process with tracing off, when it builds the app and the worker
    code = (
        "import sys, darkroom.services as s, core.settings, jobs.worker.arq_worker;"
        f"s.build_app(core.settings.Settings(data_dir={str(tmp_path)!r}));"
        "print(sorted(m for m in sys.modules if m.startswith(('opentelemetry.sdk',"
        " 'opentelemetry.exporter'))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    # then neither the SDK nor an exporter was imported
    assert done.stdout.strip() == "[]"
