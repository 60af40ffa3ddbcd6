"""The generation task: a claimed job, and the compatible queued jobs claimed
with it, run in one engine call.

Each job keeps its own JobRun (heartbeat, cancel and deadline watch, events),
its own outputs and its own end: the engine reports steps to every member and
drops a member whose stop flag is raised while the call goes on for the rest.
A stopped member ends at once, without waiting for the call.
"""

import asyncio
import logging
import time
import uuid
from typing import TYPE_CHECKING, Any

from core import tracing
from core.enums import Tier
from core.files import output_key
from core.models import Output
from core.uploads import get_upload
from engine.requests import ResolvedRequest
from jobs.params import resolved_from_params
from jobs.services import Jobs
from jobs.submission import gallery_status
from jobs.worker.engine import Engine
from jobs.worker.execution import JobRun
from jobs.worker.tasks import (
    WorkerContext,
    claim,
    open_image,
    read_input,
    run_claimed,
    store_output,
    task_span,
)

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from engine.generate import BatchOutcome, GeneratedImage, GenerationResult


async def run_generation(
    ctx: WorkerContext, job_id: str, traceparent: str | None = None
) -> None:
    """Run one generation job with the compatible queued jobs it can take along;
    a repeated delivery, of it or of one of them, is harmless. `traceparent`
    continues the trace of its submission."""
    jobs: Jobs = ctx["jobs"]
    with task_span("run_generation", job_id, traceparent):
        claimed = await claim(
            jobs, uuid.UUID(job_id), ctx["worker_id"], companions=True
        )
        if not claimed:
            return  # finished, cancelled, or held by a live worker
        batch = Batch(jobs, ctx["engine"], size=len(claimed))
        try:
            await run_claimed(jobs, claimed, ctx["worker_id"], batch.member)
        finally:
            # A member may end before the call does (it was cancelled): the task
            # ends with the engine's work, as one job's task always has.
            await batch.settle()


class Batch:
    """One engine call for several jobs; it starts once every member has its
    request or has dropped out before the engine (a bad input, say)."""

    def __init__(self, jobs: Jobs, engine: Engine, *, size: int) -> None:
        self.jobs, self.engine = jobs, engine
        self._pending = size
        self._members: list[tuple[ResolvedRequest, JobRun]] = []
        self._outcomes: asyncio.Future[list[BatchOutcome]] = (
            asyncio.get_running_loop().create_future()
        )
        # Members that ended early never read it: keep an error from being
        # reported as never retrieved (each member that waits reports it).
        self._outcomes.add_done_callback(lambda f: f.cancelled() or f.exception())
        self._call: asyncio.Task[None] | None = None

    async def member(self, run: JobRun, tier: Tier) -> None:
        """One job's part: its request, its share of the call, its outputs."""
        try:
            request = await self._request(run)
        except BaseException:
            self._join(None)
            raise
        result = await self._result(run, self._join((request, run)))
        for generated in result.images:
            with tracing.span(
                "engine.save", attributes={"darkroom.output.index": generated.index}
            ):
                data = await self.engine.call(_encode, generated, request)
            output = _output(self.jobs, run, request, generated, tier)
            await store_output(self.jobs, run, output, data)

    async def settle(self) -> None:
        """Wait for the engine call, if one started; its errors went to members."""
        if self._call is not None:
            await asyncio.wait({self._call})

    def _join(self, member: tuple[ResolvedRequest, JobRun] | None) -> int:
        """Count a member in (or out); the last one starts the call."""
        if member is not None:
            self._members.append(member)
        self._pending -= 1
        if self._pending == 0 and self._members:
            self._call = asyncio.create_task(self._run(), name="engine call")
        return len(self._members) - 1

    async def _run(self) -> None:
        requests = [request for request, _run in self._members]
        runs = [run for _request, run in self._members]
        cap = self.jobs.settings.batch_max_images
        started = time.perf_counter()
        try:
            outcomes = await self.engine.call(
                self.engine.generate_batch, requests, runs, cap
            )
        except Exception as err:
            self._outcomes.set_exception(err)
        else:
            self._outcomes.set_result(outcomes)
        finally:
            # Operators (and benchmarks/overhead.py) read the engine's own share here.
            log.info(
                "engine call for %s: %.1f ms",
                " ".join(str(run.job.id) for run in runs),
                (time.perf_counter() - started) * 1000,
            )

    async def _result(self, run: JobRun, index: int) -> "GenerationResult":
        """This member's images, or Cancelled as soon as its run is stopped."""
        from engine.progress import Cancelled

        stopped = asyncio.ensure_future(run.stopped.wait())
        either: set[asyncio.Future[Any]] = {self._outcomes, stopped}
        try:
            await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopped.cancel()
        if not self._outcomes.done():
            # The engine drops this member at its next step and goes on with
            # the others; nothing of it will be delivered, so it may end now.
            raise Cancelled(run.step)
        outcome = self._outcomes.result()[index]
        if isinstance(outcome, Cancelled):
            raise outcome
        return outcome

    async def _request(self, run: JobRun) -> ResolvedRequest:
        """The job's request as accepted, with its init image read in."""
        job, init_image = run.job, None
        upload_id = job.params.get("init_image_id")
        if upload_id is not None:
            async with self.jobs.db.session() as session:
                upload = await get_upload(
                    session, user_id=job.user_id, upload_id=uuid.UUID(upload_id)
                )
            data = await read_input(self.jobs, upload.storage_key)
            init_image = await self.engine.call(open_image, data)
        return resolved_from_params(
            job.params, self.jobs.catalog, model_id=job.model_id, init_image=init_image
        )


def _output(
    jobs: Jobs,
    run: JobRun,
    request: ResolvedRequest,
    generated: "GeneratedImage",
    tier: Tier,
) -> Output:
    job = run.job
    is_public = bool(job.params.get("is_public"))
    upload = job.params.get("init_image_id")
    return Output(
        job_id=job.id,
        user_id=job.user_id,
        index=generated.index,
        storage_key=output_key(job.id, generated.index),
        format="PNG",
        width=generated.image.width,
        height=generated.image.height,
        seed=generated.seed,
        prompt=request.prompt,
        negative_prompt=request.negative_prompt,
        model_id=job.model_id,
        scheduler_id=request.scheduler_id,
        inference_steps=request.inference_steps,
        guidance_scale=request.guidance_scale,
        prompt_strength=request.prompt_strength,
        init_image_id=None if upload is None else uuid.UUID(upload),
        source=job.source,
        is_public=is_public,
        gallery_status=gallery_status(is_public, tier, jobs.settings),
    )


def _encode(generated: "GeneratedImage", request: ResolvedRequest) -> bytes:
    from engine.outputs import encode_image, generation_metadata

    metadata = generation_metadata(request, generated.seed)
    return encode_image(generated.image, format="PNG", metadata=metadata)
