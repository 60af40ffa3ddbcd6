"""DataLoaders, one class per relation, scoped to the caller's account.

Nested fields (Job.outputs, Output.job, Output.upscale, Job.queuePosition) load
through these, so a page of any size costs one query per relation. They batch
but do not cache: a websocket connection keeps its context for hours, and every
event must see the rows as they are.
"""

import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import TypeVar

from strawberry.dataloader import DataLoader

from core.history.queries import upscales_of
from core.models import Job, Output
from jobs.positions import QueuePlace, queue_places
from jobs.reads import jobs_by_ids, outputs_of_jobs
from jobs.services import Jobs

K = TypeVar("K")
V = TypeVar("V")


def _each(
    batch: Callable[[list[K]], Awaitable[Mapping[K, V]]], missing: V
) -> Callable[[list[K]], Awaitable[list[V]]]:
    """A load function answering keys in order from one batched lookup."""

    async def load(keys: list[K]) -> list[V]:
        found = await batch(keys)
        return [found.get(key, missing) for key in keys]

    return load


class JobByIdLoader(DataLoader[uuid.UUID, Job | None]):
    """The caller's jobs by id."""

    def __init__(self, jobs: Jobs, user_id: uuid.UUID) -> None:
        async def batch(ids: list[uuid.UUID]) -> Mapping[uuid.UUID, Job | None]:
            return await jobs_by_ids(jobs, user_id=user_id, job_ids=ids)

        super().__init__(load_fn=_each(batch, None), cache=False)


class OutputsByJobIdLoader(DataLoader[uuid.UUID, list[Output]]):
    """Each of the caller's jobs' live outputs, in index order."""

    def __init__(self, jobs: Jobs, user_id: uuid.UUID) -> None:
        async def batch(ids: list[uuid.UUID]) -> Mapping[uuid.UUID, list[Output]]:
            return await outputs_of_jobs(jobs, user_id=user_id, job_ids=ids)

        none: list[Output] = []
        super().__init__(load_fn=_each(batch, none), cache=False)


class UpscaleByOutputIdLoader(DataLoader[uuid.UUID, Output | None]):
    """The live upscale of each of the caller's outputs, if one was made."""

    def __init__(self, jobs: Jobs, user_id: uuid.UUID) -> None:
        async def batch(ids: list[uuid.UUID]) -> Mapping[uuid.UUID, Output | None]:
            async with jobs.db.reading() as session:
                return await upscales_of(session, user_id=user_id, output_ids=ids)

        super().__init__(load_fn=_each(batch, None), cache=False)


class QueuePlaceByJobIdLoader(DataLoader[uuid.UUID, QueuePlace | None]):
    """Each queued job's place and ETA; None for a job that is not queued."""

    def __init__(self, jobs: Jobs) -> None:
        async def batch(ids: list[uuid.UUID]) -> Mapping[uuid.UUID, QueuePlace | None]:
            return await queue_places(jobs, job_ids=ids)

        super().__init__(load_fn=_each(batch, None), cache=False)


class Loaders:
    """The loaders of one request (or websocket connection) for one account."""

    def __init__(self, jobs: Jobs, *, user_id: uuid.UUID) -> None:
        self.job_by_id = JobByIdLoader(jobs, user_id)
        self.outputs_by_job_id = OutputsByJobIdLoader(jobs, user_id)
        self.upscale_by_output_id = UpscaleByOutputIdLoader(jobs, user_id)
        self.queue_place_by_job_id = QueuePlaceByJobIdLoader(jobs)
