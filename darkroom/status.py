"""`darkroom status`: what the queue and the workers are doing, from the database."""

from collections import defaultdict
from datetime import timedelta

from rich.console import Group
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession

from core.models import Job
from darkroom.console import in_session, out, settings_or_exit
from jobs.overview import queue_depths, recent_jobs, running_jobs
from jobs.presence import live_workers

WINDOW = timedelta(hours=1)  # what "recent" means for the job counts


def status() -> None:
    """Queue depth per lane, live workers and their jobs, the last hour's jobs."""
    settings = settings_or_exit()
    alive_within = timedelta(seconds=settings.heartbeat_stale_seconds)

    async def work(session: AsyncSession) -> Group:
        depths = await queue_depths(session)
        workers = await live_workers(session, seen_within=alive_within)
        running: dict[str | None, list[Job]] = defaultdict(list)
        for job in await running_jobs(session):
            running[job.worker_id].append(job)
        recent = await recent_jobs(session, within=WINDOW)

        queue = Table("lane", "queued", title="Queue")
        for lane, count in depths.items():
            queue.add_row(lane, str(count))

        seen = Table("worker", "kind", "since", "last seen", "running", title="Workers")
        for worker in workers:
            jobs = running.pop(worker.id, [])
            seen.add_row(
                worker.id,
                worker.kind,
                worker.started_at.isoformat(timespec="seconds"),
                worker.seen_at.isoformat(timespec="seconds"),
                "\n".join(_running(job) for job in jobs) or "idle",
            )
        for worker_id, jobs in running.items():
            # A running job whose worker stopped reporting: the sweeper's to take.
            seen.add_row(
                worker_id or "-",
                "?",
                "-",
                "not seen",
                "\n".join(_running(job) for job in jobs),
            )

        last_hour = Table("status", "jobs", title="Last hour")
        for job_status, count in recent.by_status.items():
            last_hour.add_row(job_status.value, str(count))
        times = Table("run time", "seconds", title="Last hour's runs")
        times.add_row("p50", _seconds(recent.run_p50_seconds))
        times.add_row("p95", _seconds(recent.run_p95_seconds))
        return Group(queue, seen, last_hour, times)

    out.print(in_session(work))


def _running(job: Job) -> str:
    return f"{job.id} {job.kind.value} {job.model_id} step {job.step}/{job.total_steps}"


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"
