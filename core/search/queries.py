"""Search the caller's outputs: by text, or by closeness to one output."""

import uuid
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import ErrorCode, ServiceError
from core.gallery import in_gallery
from core.history.filters import OutputWhere, output_filter
from core.history.paging import Page, check_window
from core.history.queries import visible_outputs
from core.models import Output
from core.search.candidates import GALLERY_SCOPE
from core.search.index import EMBEDDINGS, OUTPUTS
from core.search.ranking import Ranking, ranked_page


def gallery_outputs() -> sa.Select[Any]:
    """Outputs anyone may see (core.gallery's one rule), as rows to rank."""
    return sa.select(Output).select_from(OUTPUTS).where(in_gallery())


async def search_outputs(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    ranking: Ranking,
    where: OutputWhere | None = None,
    first: int | None = None,
    after: str | None = None,
    with_total: bool = False,
) -> Page[tuple[Output, float]]:
    """The caller's outputs that match `ranking`, best first, with their scores."""
    window = check_window(first=first, after=after, last=None, before=None)
    dialect = session.get_bind().dialect.name
    outputs = visible_outputs(user_id).where(output_filter(where, dialect=dialect))
    nearest = None
    if dialect == "postgresql" and await _more_than(session, outputs, EXACT_LIMIT):
        nearest = LARGE_ACCOUNT_CANDIDATES
    return await ranked_page(
        session,
        outputs,
        ranking,
        window=window,
        with_total=with_total,
        scope=user_id.hex,
        nearest=nearest,
    )


# PostgreSQL scores an account's outputs exactly up to this many (the filters
# applied): ~10 ms. Past it, exact scoring grows with the account (a 50,000-output
# account took 350 ms a page, benchmarks/search.py), so the HNSW-nearest
# candidates are ranked instead, plus every word match, as for the gallery.
EXACT_LIMIT = 5_000
LARGE_ACCOUNT_CANDIDATES = 1000


async def _more_than(
    session: AsyncSession, outputs: sa.Select[Any], limit: int
) -> bool:
    """Whether `outputs` holds more than `limit` rows: reads at most limit + 1."""
    some = outputs.with_only_columns(OUTPUTS.c.id).limit(limit + 1).subquery()
    counted = await session.scalar(sa.select(sa.func.count()).select_from(some))
    return (counted or 0) > limit


# The gallery is every account's public images: rank its HNSW-nearest this many
# (plus word matches) rather than score them all.
GALLERY_CANDIDATES = LARGE_ACCOUNT_CANDIDATES


async def search_gallery(
    session: AsyncSession,
    *,
    ranking: Ranking,
    where: OutputWhere | None = None,
    first: int | None = None,
    after: str | None = None,
    with_total: bool = False,
) -> Page[tuple[Output, float]]:
    """Gallery images that match `ranking`, best first, with their scores."""
    window = check_window(first=first, after=after, last=None, before=None)
    dialect = session.get_bind().dialect.name
    outputs = gallery_outputs().where(output_filter(where, dialect=dialect))
    return await ranked_page(
        session,
        outputs,
        ranking,
        window=window,
        with_total=with_total,
        scope=GALLERY_SCOPE,
        nearest=GALLERY_CANDIDATES,
    )


async def vector_of(
    session: AsyncSession,
    *,
    output_id: uuid.UUID,
    user_id: uuid.UUID | None,
    field: str = "similar_to",
) -> np.ndarray:
    """The prompt vector of an output the caller may see: one of theirs (none
    when `user_id` is None) or one in the gallery.

    Any other id is NOT_FOUND, whether it exists or not.
    """
    public = gallery_outputs().with_only_columns(OUTPUTS.c.id)
    visible = public.where(OUTPUTS.c.id == output_id)
    found = await session.scalar(visible)
    if found is None and user_id is not None:
        mine = visible_outputs(user_id).with_only_columns(OUTPUTS.c.id)
        found = await session.scalar(mine.where(OUTPUTS.c.id == output_id))
    if found is None:
        raise ServiceError(ErrorCode.NOT_FOUND, "no such output", field)
    postgresql = session.get_bind().dialect.name == "postgresql"
    column = (
        sa.cast(EMBEDDINGS.c.embedding, sa.Text)
        if postgresql
        else EMBEDDINGS.c.embedding
    )
    stored = await session.scalar(
        sa.select(column).where(EMBEDDINGS.c.output_id == output_id)
    )
    if stored is None:
        raise ServiceError(
            ErrorCode.BAD_USER_INPUT,
            "that output has no prompt to compare with, or is not indexed yet",
            field,
        )
    if postgresql:
        return np.array(stored.strip("[]").split(","), dtype=np.float32)
    return np.frombuffer(stored, dtype=np.float32).copy()
