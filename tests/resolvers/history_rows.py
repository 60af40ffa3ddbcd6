"""Seed jobs and outputs straight into the database for history and usage tests."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from core.enums import GalleryStatus, JobKind, JobSource, JobStatus
from core.models import ApiToken, Job, Output, User
from tests.conftest import Api

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def user_id_of(api: Api, email: str) -> uuid.UUID:
    """The id of the account with this email."""

    async def work(session: AsyncSession) -> uuid.UUID:
        return (
            await session.scalars(sa.select(User.id).where(User.email == email))
        ).one()

    return api.run(work)


def token_of(api: Api, email: str) -> ApiToken:
    """The (first) API token of the account with this email."""

    async def work(session: AsyncSession) -> ApiToken:
        stmt = sa.select(ApiToken).join(User).where(User.email == email)
        return (await session.scalars(stmt)).first()  # type: ignore[return-value]  # seeded

    return api.run(work)


def job_row(user_id: uuid.UUID, **fields: Any) -> Job:
    """A finished generation job unless `fields` say otherwise."""
    values: dict[str, Any] = {
        "user_id": user_id,
        "kind": JobKind.GENERATE,
        "source": JobSource.API,
        "status": JobStatus.SUCCEEDED,
        "model_id": "darkroom-tiny",
        "cost": 1,
        "created_at": T0,
        "finished_at": T0 + timedelta(seconds=5),
    }
    return Job(**(values | fields))


def output_row(job: Job, index: int, **fields: Any) -> Output:
    """A 256x256 private output of `job`, made `index` minutes after T0."""
    values: dict[str, Any] = {
        "job_id": job.id,
        "user_id": job.user_id,
        "index": index,
        "storage_key": f"outputs/{job.id}/{index}.png",
        "format": "png",
        "width": 256,
        "height": 256,
        "seed": 1000 + index,
        "prompt": f"a lighthouse number {index}",
        "model_id": "darkroom-tiny",
        "scheduler_id": "K_EULER",
        "inference_steps": 20,
        "guidance_scale": 7.0,
        "source": JobSource.API,
        "gallery_status": GalleryStatus.NOT_SUBMITTED,
        "created_at": T0 + timedelta(minutes=index),
    }
    return Output(**(values | fields))


def seed_outputs(
    api: Api, user_id: uuid.UUID, count: int, *, upscaled: bool = False, **fields: Any
) -> list[uuid.UUID]:
    """Store one job with `count` outputs (each with an upscale if asked); return their ids."""

    async def work(session: AsyncSession) -> list[uuid.UUID]:
        job = job_row(user_id)
        session.add(job)
        await session.flush()
        outputs = [output_row(job, i, **fields) for i in range(count)]
        session.add_all(outputs)
        await session.flush()
        if upscaled:
            upjob = job_row(user_id, kind=JobKind.UPSCALE)
            session.add(upjob)
            await session.flush()
            session.add_all(
                output_row(
                    upjob,
                    i,
                    upscaled_from_id=o.id,
                    is_upscaled=True,
                    width=o.width * 4,
                    height=o.height * 4,
                    model_id="realesr-animevideov3-x4",
                    scheduler_id=None,
                    inference_steps=None,
                    guidance_scale=None,
                    seed=None,
                    created_at=o.created_at + timedelta(seconds=30),
                )
                for i, o in enumerate(outputs)
            )
        return [o.id for o in outputs]

    return api.run(work)
