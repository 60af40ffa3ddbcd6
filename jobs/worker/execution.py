"""One claimed job's run: heartbeat, cancel and deadline watch, ordered events.

The engine runs in a worker thread; it only calls `on_step` and `should_stop`.
`on_step` hops to the event loop with `call_soon_threadsafe`; `should_stop` reads
a `threading.Event` that async watchers set, so the engine thread never waits
on Redis or the database.
"""

import asyncio
import logging
import threading
import time
from enum import StrEnum
from typing import Any

from core import tracing
from core.db import is_database_down
from core.enums import EventType, JobStatus
from core.models import Job, Output, utcnow
from jobs.events import JobEvent
from jobs.lifecycle import beat
from jobs.outage import PATIENCE_SECONDS, REDIS_DOWN, Outage
from jobs.services import Jobs
from jobs.webhooks.hook import record_job_event
from jobs.webhooks.job_hook import Throttle, record_hook_event

log = logging.getLogger(__name__)

# How often the cancel flag is read; a cancel lands within this plus one step.
CANCEL_POLL_SECONDS = 0.05


class StopReason(StrEnum):
    """Why a run was asked to stop."""

    CANCEL = "CANCEL"
    TIMEOUT = "TIMEOUT"
    LOST = "LOST"  # the job is no longer ours (sweeper or another worker took it)


class JobRun:
    """Everything around the engine call of one claimed job."""

    def __init__(self, jobs: Jobs, job: Job, *, worker_id: str) -> None:
        self.jobs, self.job, self.worker_id = jobs, job, worker_id
        self.loop = asyncio.get_running_loop()
        self.stop = threading.Event()
        self.stopped = asyncio.Event()  # the same, for the event loop to await
        self.reason: StopReason | None = None
        self.step = 0
        self.total = job.total_steps
        self._outbox: asyncio.Queue[JobEvent | None] = asyncio.Queue()
        self._started = time.monotonic()
        self._first_step_at: float | None = None
        self._last_progress = 0.0
        self._hook_throttle = Throttle()  # the job's own webhook's PROGRESS, OUTPUT
        self._tasks: list[asyncio.Task[None]] = []
        self._closing = False
        self.outputs: list[Output] = []  # stored; their rows come with the end
        # The span it runs in, made current by the caller: the engine's phases,
        # reported from its thread, become its children.
        self._trace = tracing.current_context()

    async def __aenter__(self) -> "JobRun":
        self._tasks = [
            asyncio.create_task(self._publisher(), name="publisher"),
            asyncio.create_task(self._heartbeat(), name="heartbeat"),
            asyncio.create_task(self._watch(), name="watch"),
        ]
        self.emit(EventType.STARTED, step=0, percent=0.0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        # The helpers' loops stop on this too: redis-py (5.3) can swallow a cancel
        # that lands mid-command, returning as if none came, and the cancel watch
        # is in a command often; it then polled forever and the job never ended.
        self._closing = True
        # Stop the engine if we leave early (an error, or arq cancelling us).
        self.request_stop(StopReason.LOST)
        for task in self._tasks[1:]:
            task.cancel()
        self._outbox.put_nowait(None)  # the publisher sends what is queued, then ends
        current = asyncio.current_task()
        if current is not None and current.cancelling():
            self._tasks[0].cancel()  # leaving on a cancel: send nothing more
        try:
            # asyncio.wait, unlike awaiting a task, leaves the helpers alone when
            # this task is cancelled, so that cancellation is ours to re-raise.
            await asyncio.wait(self._tasks)
        except asyncio.CancelledError:
            # Being cancelled ourselves (arq on SIGTERM): drop unsent events, end
            # the helpers, and let the cancellation through.
            for task in self._tasks:
                task.cancel()
            await asyncio.wait(self._tasks)
            raise
        finally:
            for task in self._tasks:
                if task.done() and not task.cancelled() and task.exception():
                    log.error(
                        "job %s: %s failed",
                        self.job.id,
                        task.get_name(),
                        exc_info=task.exception(),
                    )

    def request_stop(self, reason: StopReason) -> None:
        """Ask the engine to stop at its next step; the first reason wins."""
        if self.reason is None:
            self.reason = reason
        self.stop.set()
        self.stopped.set()

    def should_stop(self) -> bool:
        """Called from the engine thread: a flag read, nothing more."""
        return self.stop.is_set()

    def on_step(self, step: int, total: int, preview: Any) -> None:
        """Called from the engine thread; encodes a preview there, then hops over."""
        png = None if preview is None else _png(preview)
        self.loop.call_soon_threadsafe(self._progress, step, total, png)

    def on_phase(self, phase: str, start_ns: int, end_ns: int) -> None:
        """Called from the engine thread: one of its phases, as a span."""
        tracing.record_span(f"engine.{phase}", start_ns, end_ns, self._trace)

    def emit(self, type_: EventType, **fields: Any) -> None:
        """Queue an event; one publisher sends them in order."""
        event = JobEvent(
            job_id=self.job.id,
            user_id=self.job.user_id,
            type=type_,
            status=JobStatus.RUNNING,
            at=utcnow(),
            total_steps=self.total,
            charged=self.job.cost,
            **fields,
        )
        self._outbox.put_nowait(event)

    async def flush(self) -> None:
        """Wait until every queued event is published."""
        await self._outbox.join()

    def _progress(self, step: int, total: int, png: bytes | None) -> None:
        now = time.monotonic()
        self.step, self.total = step, total
        if self._first_step_at is None:
            self._first_step_at = now
            per_step = now - self._started
        else:
            per_step = (now - self._first_step_at) / max(step - 1, 1)
        interval = self.jobs.settings.progress_interval_seconds
        if step < total and png is None and now - self._last_progress < interval:
            return  # throttled; the last step and previews always go out
        self._last_progress = now
        self.emit(
            EventType.PROGRESS,
            step=step,
            percent=step / total if total else None,
            eta_seconds=per_step * (total - step),
            preview_png=png,
        )

    async def _publisher(self) -> None:
        outage = Outage(f"job {self.job.id} events")
        while True:
            event = await self._outbox.get()
            if event is None:
                self._outbox.task_done()
                return
            try:
                await self._publish(event, outage)
            except Exception:
                # Dropping one event beats a dead publisher: flush() would then
                # wait forever and every later event would be lost.
                log.exception("job %s: could not publish %s", self.job.id, event)
            finally:
                self._outbox.task_done()
            # After flush() is released: it waits for what subscribers hear, not
            # for webhook rows (which never raise).
            await record_job_event(self.jobs, event)
            await record_hook_event(self.jobs, self.job, event, self._hook_throttle)

    async def _publish(self, event: JobEvent, outage: Outage) -> None:
        """Publish, waiting out a Redis outage; past the patience, drop events
        until Redis is back, so that flush() and the job's end are not held up:
        the terminal event, published after the row is written, still follows."""
        while True:
            try:
                await self.jobs.events.publish(event)
            except REDIS_DOWN as err:
                if outage.seconds >= PATIENCE_SECONDS:
                    return
                await outage.failed(err)
            else:
                outage.ok()
                return

    async def _heartbeat(self) -> None:
        settings = self.jobs.settings
        while not self._closing:
            await asyncio.sleep(settings.heartbeat_seconds)
            try:
                async with self.jobs.db.session() as session:
                    ours = await beat(
                        session,
                        job_id=self.job.id,
                        worker_id=self.worker_id,
                        step=self.step,
                        total_steps=self.total,
                    )
            except Exception as err:
                if not is_database_down(err):
                    raise
                # The job runs on; past the stale limit another worker may
                # take it, and then the next beat finds it is no longer ours.
                log.warning("job %s: heartbeat missed: %s", self.job.id, err)
                continue
            if not ours:
                self.request_stop(StopReason.LOST)
                return

    async def _watch(self) -> None:
        deadline = self._started + self.jobs.settings.job_timeout_seconds
        outage = Outage(f"job {self.job.id} cancel watch")
        while not self._closing:
            try:
                if await self.jobs.queue.cancel_requested(self.job.id):
                    self.request_stop(StopReason.CANCEL)
                    return
            except REDIS_DOWN as err:
                # The job runs on without Redis (a cancel cannot be asked for
                # meanwhile); the flag is read again once Redis is back.
                await outage.failed(err)
            else:
                outage.ok()
            if time.monotonic() >= deadline:
                self.request_stop(StopReason.TIMEOUT)
                return
            await asyncio.sleep(CANCEL_POLL_SECONDS)


def _png(image: Any) -> bytes:
    import io

    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
