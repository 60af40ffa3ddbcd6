"""The body of a job's webhook: `{type, timestamp, data}`, in the API's own names.

Built once when the event is recorded and stored, so every attempt sends (and
signs) the same bytes.
"""

import base64
import json
import uuid
from typing import Any

import sqlalchemy as sa
from sqlmodel import col

from core.enums import WebhookEvent
from core.models import Output
from jobs.events import JobEvent
from jobs.services import Jobs


def global_id(type_name: str, key: object) -> str:
    """A Relay global id, as schema/ids.py makes them (jobs may not import it;
    a test keeps the two equal)."""
    return base64.b64encode(f"{type_name}:{key}".encode()).decode()


async def event_body(jobs: Jobs, event: JobEvent, kind: WebhookEvent) -> str:
    """The JSON body announcing `event`."""
    data: dict[str, Any] = {
        "jobId": global_id("Job", event.job_id),
        "status": event.status.value,
    }
    # Credits as far as they are known: charged from the start, refunds at the end.
    for key, value in (("charged", event.charged), ("refunded", event.refunded)):
        if value is not None:
            data[key] = value
    if kind is WebhookEvent.JOB_PROGRESS:
        data["progress"] = {
            "step": event.step,
            "totalSteps": event.total_steps,
            "percent": event.percent,
        }
    if kind is WebhookEvent.JOB_OUTPUT and event.output is not None:
        data["output"] = await _output(jobs, event.output)
    if kind is WebhookEvent.JOB_SUCCEEDED:
        # The end carries every image, so a receiver that missed a job.output
        # (sent once, best effort) still gets them all.
        data["outputs"] = [
            await _output(jobs, o.model_dump(mode="json"))
            for o in await _outputs_of(jobs, event.job_id)
        ]
    if event.error_code is not None:
        data["error"] = {"code": event.error_code, "message": event.error_message}
    body = {"type": kind.value, "timestamp": event.at.isoformat(), "data": data}
    return json.dumps(body, separators=(",", ":"))


async def _output(jobs: Jobs, row: dict[str, Any]) -> dict[str, Any]:
    """An output as the API shows it; private images get a signed, expiring link."""
    return {
        "id": global_id("Output", row["id"]),
        "index": row["index"],
        "imageUrl": await jobs.storage.url(
            row["storage_key"], public=bool(row["is_public"])
        ),
        "width": row["width"],
        "height": row["height"],
        "seed": row["seed"],
    }


async def _outputs_of(jobs: Jobs, job_id: uuid.UUID) -> list[Output]:
    async with jobs.db.session() as session:
        rows = await session.scalars(
            sa.select(Output)
            .where(col(Output.job_id) == job_id, col(Output.deleted_at).is_(None))
            .order_by(col(Output.index))
        )
        return list(rows)
