"""Where outputs are stored, and how the /files route may serve a stored key."""

import re
import uuid
from enum import Enum

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from core.models import Output

_OUTPUT_KEY = re.compile(
    r"outputs/(?P<job>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"
    r"/(?P<index>[0-9]{1,4})\.png"
)


class FileAccess(Enum):
    """How a stored file may be served."""

    SIGNED = "signed"  # only through a valid signed link
    PUBLIC = "public"  # without a signature too: a live output its owner made public
    GONE = "gone"  # never: a deleted output, even if removing its file failed


def output_key(job_id: uuid.UUID, index: int) -> str:
    """Where a job's image `index` is stored; a retried job overwrites the same key."""
    return f"outputs/{job_id}/{index}.png"


async def file_access(session: AsyncSession, *, key: str) -> FileAccess:
    """How the file under `key` may be served, by its output's row.

    The row is found through the key's job and index (a unique index), so a
    request for any made-up key costs at most one indexed lookup.
    """
    found = _OUTPUT_KEY.fullmatch(key)
    if found is None:
        return FileAccess.SIGNED  # not an output (an upload, or nothing at all)
    row = (
        await session.execute(
            sa.select(col(Output.is_public), col(Output.deleted_at)).where(
                col(Output.job_id) == uuid.UUID(found["job"]),
                col(Output.index) == int(found["index"]),
                col(Output.storage_key) == key,
            )
        )
    ).first()
    if row is None:
        return FileAccess.SIGNED
    is_public, deleted_at = row
    if deleted_at is not None:
        return FileAccess.GONE
    return FileAccess.PUBLIC if is_public else FileAccess.SIGNED
