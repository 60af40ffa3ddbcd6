"""Change the caller's outputs: favorite, visibility, gallery submission, delete.

Every mutation is all-or-nothing: if any id is unknown, foreign or deleted, nothing
changes and NOT_FOUND is raised without saying which id, so ids of other accounts
cannot be probed. Repeating a mutation changes nothing further.
"""

import asyncio
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from core.enums import GalleryStatus
from core.errors import ErrorCode, ServiceError
from core.history.queries import OUTPUTS, visible_outputs
from core.models import Output, utcnow
from core.storage import Storage

log = logging.getLogger(__name__)

MAX_IDS = 100

# Making an output public submits it to the gallery unless moderation has begun;
# making it private withdraws it unless a moderator has already decided.
_SUBMITTABLE = {GalleryStatus.NOT_SUBMITTED, GalleryStatus.SUBMITTED}
_WITHDRAWABLE = _SUBMITTABLE | {GalleryStatus.WAITING_FOR_APPROVAL}


def check_ids(ids: Sequence[uuid.UUID]) -> list[uuid.UUID]:
    """The ids without repeats, in order; refused when none or over 100."""
    unique = list(dict.fromkeys(ids))
    if not unique:
        raise ServiceError(ErrorCode.REQUIRED, "give at least one output id", "ids")
    if len(unique) > MAX_IDS:
        raise ServiceError(
            ErrorCode.OUT_OF_RANGE,
            f"at most {MAX_IDS} output ids at once; got {len(unique)}",
            "ids",
        )
    return unique


async def _load_all(
    session: AsyncSession, user_id: uuid.UUID, ids: list[uuid.UUID]
) -> list[Output]:
    """Lock and return every output named, in the order given, or raise NOT_FOUND."""
    stmt = visible_outputs(user_id).where(OUTPUTS.c.id.in_(ids))
    # Lock only the outputs themselves, not the joined originals (PostgreSQL;
    # SQLite serialises writers with BEGIN IMMEDIATE instead).
    stmt = stmt.with_for_update(of=OUTPUTS)
    found: dict[uuid.UUID, Output] = {o.id: o for o in (await session.scalars(stmt))}
    if len(found) != len(ids):
        raise ServiceError(
            ErrorCode.NOT_FOUND,
            "one or more outputs do not exist or are not yours; nothing was changed",
            "ids",
        )
    return [found[i] for i in ids]


async def update_outputs(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    ids: Sequence[uuid.UUID],
    is_favorite: bool | None = None,
    is_public: bool | None = None,
    free_outputs_public: bool,
    user_is_free: bool,
) -> list[Output]:
    """Set favorite and/or visibility on the caller's outputs (gallery rules apply)."""
    wanted = check_ids(ids)
    if is_favorite is None and is_public is None:
        raise ServiceError(
            ErrorCode.REQUIRED, "give is_favorite or is_public to change", "is_public"
        )
    if is_public is False and user_is_free and free_outputs_public:
        raise ServiceError(
            ErrorCode.FORBIDDEN,
            "outputs of free accounts stay public; upgrade to make them private",
            "is_public",
        )
    outputs = await _load_all(session, user_id, wanted)
    for output in outputs:
        if is_favorite is not None:
            output.is_favorite = is_favorite
        if is_public is True:
            output.is_public = True
            if output.gallery_status in _SUBMITTABLE:
                output.gallery_status = GalleryStatus.SUBMITTED
        elif is_public is False:
            output.is_public = False
            if output.gallery_status in _WITHDRAWABLE:
                output.gallery_status = GalleryStatus.NOT_SUBMITTED
    await session.flush()
    return outputs


async def submit_outputs_to_gallery(
    session: AsyncSession, *, user_id: uuid.UUID, ids: Sequence[uuid.UUID]
) -> list[Output]:
    """Submit not-yet-submitted outputs to the gallery, making them public."""
    outputs = await _load_all(session, user_id, check_ids(ids))
    for output in outputs:
        if output.gallery_status is GalleryStatus.NOT_SUBMITTED:
            output.gallery_status = GalleryStatus.SUBMITTED
            output.is_public = True
    await session.flush()
    return outputs


@dataclass(frozen=True)
class DeletedOutputs:
    """What a delete did: the ids it was given, and the files now to remove."""

    ids: list[uuid.UUID]
    storage_keys: list[str]


async def delete_outputs(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    ids: Sequence[uuid.UUID],
    now: datetime | None = None,
) -> DeletedOutputs:
    """Soft-delete the caller's outputs and their upscales.

    The rows stay (jobs and usage still point at them); their files should go,
    with remove_files, once this transaction has committed.
    """
    wanted = check_ids(ids)
    await _load_all(session, user_id, wanted)
    moment = now or utcnow()
    live = OUTPUTS.c.deleted_at.is_(None)
    mine = OUTPUTS.c.user_id == user_id
    targets = sa.or_(OUTPUTS.c.id.in_(wanted), OUTPUTS.c.upscaled_from_id.in_(wanted))
    # An ORM update keeps any loaded Output objects in step with the new rows.
    keys = await session.scalars(
        sa.update(Output)
        .where(mine, live, targets)
        .values(deleted_at=moment)
        .returning(col(Output.storage_key))
    )
    return DeletedOutputs(ids=wanted, storage_keys=list(keys))


async def remove_files(storage: Storage, *, keys: Sequence[str]) -> list[str]:
    """Remove deleted outputs' files; return (and log) the keys that failed.

    Best effort, after the commit: a file that stays behind is unreachable all
    the same, as the /files route refuses any deleted output's key, and the
    log names it for cleanup.
    """
    results = await asyncio.gather(
        *(storage.delete(key) for key in keys), return_exceptions=True
    )
    failed = []
    for key, result in zip(keys, results, strict=True):
        if isinstance(result, Exception):
            log.error("could not remove the deleted output file %s: %r", key, result)
            failed.append(key)
    return failed
