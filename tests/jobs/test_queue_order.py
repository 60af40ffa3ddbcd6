"""Queue places against a plain reference: random submissions, cancels, claims,
overflow promotions and failures, every reported place compared after each step."""

import uuid
from dataclasses import dataclass, field

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import col

from core.enums import JobSource, JobStatus, Tier
from core.errors import JobErrorCode, ServiceError
from core.models import Job
from core.tokens import Caller
from jobs.claiming import claim_job
from jobs.ending import cancel_job
from jobs.lifecycle import Ending, Guard, finish_job, stale_before
from jobs.params import GenerationParams
from jobs.positions import queue_places
from jobs.services import Jobs
from jobs.submission import submit_generation
from tests.conftest import _empty_tables

from .conftest import Accounts

ONE_STEP = GenerationParams(
    prompt="a fox", width=64, height=64, inference_steps=1, num_outputs=1
)
TIERS = (Tier.PRO, Tier.FREE, Tier.PRO, Tier.FREE)


@dataclass
class Reference:
    """The order, kept the plain way: lists in dispatch order, overflow by age."""

    lanes: dict[bool, list[uuid.UUID]] = field(
        default_factory=lambda: {True: [], False: []}
    )
    waiting: dict[uuid.UUID, tuple[uuid.UUID, object]] = field(default_factory=dict)
    running: list[uuid.UUID] = field(default_factory=list)

    def dispatch(self, job: Job) -> None:
        self.waiting.pop(job.id, None)
        self.lanes[job.paid_lane].append(job.id)

    def leave(self, job_id: uuid.UUID) -> None:
        self.waiting.pop(job_id, None)
        for lane in self.lanes.values():
            if job_id in lane:
                lane.remove(job_id)

    def queued(self) -> list[uuid.UUID]:
        return [*self.lanes[True], *self.lanes[False], *self.waiting]

    def places(self) -> dict[uuid.UUID, int]:
        ordered = [*self.lanes[True], *self.lanes[False]]
        places = {job_id: i for i, job_id in enumerate(ordered, start=1)}
        by_account: dict[uuid.UUID, list[tuple[object, uuid.UUID]]] = {}
        for job_id, (user_id, created) in self.waiting.items():
            by_account.setdefault(user_id, []).append((created, job_id))
        for entries in by_account.values():
            for rank, (_, job_id) in enumerate(sorted(entries), start=1):  # type: ignore[type-var]
                places[job_id] = len(ordered) + rank
        return places


async def _promoted(jobs: Jobs, reference: Reference) -> None:
    """Move jobs the service took out of the overflow into the reference's lanes,
    in the order it promotes them (oldest first)."""
    if not reference.waiting:
        return
    async with jobs.db.session() as session:
        rows = await session.scalars(
            sa.select(Job)
            .where(
                col(Job.id).in_(list(reference.waiting)),
                col(Job.enqueued_at).is_not(None),
            )
            .order_by(col(Job.created_at), col(Job.id))
        )
        for job in rows:
            reference.dispatch(job)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
async def test_every_reported_place_matches_the_reference_order(
    jobs: Jobs, accounts: Accounts, data: st.DataObject
) -> None:
    # given accounts of both lanes with small slot and overflow limits
    await _empty_tables(jobs.db)
    jobs.settings = jobs.settings.model_copy(
        update={"parallel_free": 1, "parallel_pro": 2, "max_overflow": 3}
    )
    callers: list[Caller] = [
        await accounts.caller(f"u{i}@example.com", tier=tier, credits=100)
        for i, tier in enumerate(TIERS)
    ]
    owner = {}
    reference = Reference()
    steps = data.draw(
        st.lists(
            st.sampled_from(["submit", "submit", "cancel", "claim", "end", "fail"]),
            min_size=5,
            max_size=30,
        ),
        label="steps",
    )
    for step in steps:
        # when the step runs on the service
        if step == "submit":
            caller = data.draw(st.sampled_from(callers))
            try:
                submitted = await submit_generation(
                    jobs, caller=caller, params=ONE_STEP, source=JobSource.API
                )
            except ServiceError:
                continue  # overflow full or out of credits: no job
            job = submitted.job
            owner[job.id] = caller
            if job.enqueued_at is None:
                reference.waiting[job.id] = (job.user_id, (job.created_at, job.id))
            else:
                reference.dispatch(job)
        elif step == "cancel" and reference.queued():
            job_id = data.draw(st.sampled_from(reference.queued()))
            await cancel_job(jobs, caller=owner[job_id], job_id=job_id)
            reference.leave(job_id)
        elif step == "claim":
            dispatched = [*reference.lanes[True], *reference.lanes[False]]
            if not dispatched:
                continue
            # The head usually; any dispatched job, as a batch takes companions.
            job_id = data.draw(st.sampled_from([dispatched[0], *dispatched]))
            async with jobs.db.session() as session:
                claimed = await claim_job(
                    session,
                    job_id=job_id,
                    worker_id="w",
                    stale_before=stale_before(jobs.settings),
                )
            assert claimed is not None
            reference.leave(job_id)
            reference.running.append(job_id)
        elif step in ("end", "fail") and reference.running:
            job_id = data.draw(st.sampled_from(reference.running))
            ending = Ending(status=JobStatus.SUCCEEDED)
            async with jobs.db.session() as session:
                await finish_job(
                    session, job_id=job_id, ending=ending, settings=jobs.settings
                )
            reference.running.remove(job_id)
        elif step == "fail" and reference.queued():
            # the sweeper failing a job that never started
            job_id = data.draw(st.sampled_from(reference.queued()))
            async with jobs.db.session() as session:
                job = await session.get(Job, job_id)
                assert job is not None
                await finish_job(
                    session,
                    job_id=job_id,
                    ending=Ending.failure(job, JobErrorCode.EXPIRED, "never started"),
                    settings=jobs.settings,
                    guard=Guard(only_from=(JobStatus.QUEUED,)),
                )
            reference.leave(job_id)
        await _promoted(jobs, reference)
        # then every queued job's place is the reference's
        expected = reference.places()
        reported = await queue_places(jobs, job_ids=[*expected, *reference.running])
        assert {k: v.position for k, v in reported.items()} == expected, steps
