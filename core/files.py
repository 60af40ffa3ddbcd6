"""Which stored files may be served without a signed link."""

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from core.models import Output


async def is_public_file(session: AsyncSession, *, key: str) -> bool:
    """True when the file is a live output its owner made public."""
    found = await session.scalar(
        sa.select(col(Output.id)).where(
            col(Output.storage_key) == key,
            col(Output.is_public),
            col(Output.deleted_at).is_(None),
        )
    )
    return found is not None
