"""The public gallery: what anyone may browse, and how moderators decide it.

An output is in the gallery while it is public, approved by a moderator, not
deleted, and (for an upscale) its original is not deleted either. Every read here
applies that rule in SQL, so a delete or a switch to private takes an image out
of the listing, the lookups and the file route at once.
"""

import base64
import hashlib
import hmac
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from core.enums import GalleryStatus
from core.errors import ErrorCode, ServiceError, ValidationFailed
from core.history.filters import OutputWhere, output_filter
from core.history.paging import Direction, Page, SortKey, check_window, fetch_page
from core.history.queries import OUTPUTS
from core.models import Output
from core.outputs import check_ids

_PARENT = OUTPUTS.alias("gallery_original")
# The filters a visitor may use: those on what a gallery image shows. The others
# (favorite, job, source, visibility, status) would reveal an owner's private
# flags through which images match.
PUBLIC_FILTERS = frozenset(
    {
        "created_at",
        "width",
        "height",
        "model_id",
        "scheduler_id",
        "aspect_ratio",
        "prompt",
        "is_upscaled",
    }
)
_COMBINATORS = frozenset({"and_", "or_", "not_"})
# Outputs a moderator has yet to decide on.
PENDING = (GalleryStatus.SUBMITTED, GalleryStatus.WAITING_FOR_APPROVAL)
# A fixed key, so a handle is the same on every server and after any restart;
# it only separates handles from other uses of sha256, since a handle's job is
# to be stable and not reversible, which the hash alone gives: an account id is
# 122 random bits, so it cannot be guessed back from 50 bits of its digest.
_HANDLE_KEY = b"darkroom gallery author handle v1"
HANDLE_CHARS = 10


class ReviewDecision(StrEnum):
    """What a moderator decides for a submitted output."""

    APPROVE = "APPROVE"
    REJECT = "REJECT"


def author_handle(user_id: uuid.UUID) -> str:
    """The public name of an account in the gallery: `u_` and 10 base32 characters
    of an HMAC-SHA256 of its id; the same for all its images, never its id or email."""
    digest = hmac.new(_HANDLE_KEY, user_id.bytes, hashlib.sha256).digest()
    return "u_" + base64.b32encode(digest).decode().lower()[:HANDLE_CHARS]


def _live_original() -> sa.ColumnElement[bool]:
    deleted_original = (
        sa.select(sa.literal(1))
        .where(
            _PARENT.c.id == OUTPUTS.c.upscaled_from_id,
            _PARENT.c.deleted_at.is_not(None),
        )
        .exists()
    )
    return ~deleted_original


def in_gallery() -> sa.ColumnElement[bool]:
    """The gallery rule as a condition: public, approved, live, original live."""
    # Written as the partial index ix_outputs_gallery's predicate, the status a
    # literal rather than a parameter, so PostgreSQL proves the index applies
    # even to a generic prepared plan.
    return sa.and_(
        OUTPUTS.c.is_public,
        OUTPUTS.c.gallery_status == sa.literal_column("'APPROVED'"),
        OUTPUTS.c.deleted_at.is_(None),
        _live_original(),
    )


def _gallery_outputs() -> sa.Select[Any]:
    return sa.select(Output).select_from(OUTPUTS).where(in_gallery())


def _keys(direction: Direction) -> list[SortKey]:
    # The id breaks ties in creation time, so cursors neither skip nor repeat.
    return [
        SortKey("created_at", OUTPUTS.c.created_at, direction, datetime),
        SortKey("id", OUTPUTS.c.id, direction, uuid.UUID),
    ]


def _values_of(output: Output) -> list[datetime | uuid.UUID]:
    return [output.created_at, output.id]


def check_public_where(where: OutputWhere | None, path: str = "where") -> None:
    """Refuse a filter on anything a gallery visitor may not filter by."""
    problems: list[ServiceError] = []

    def walk(w: OutputWhere, at: str) -> None:
        for spec in fields(w):
            value = getattr(w, spec.name)
            if value is None or spec.name in PUBLIC_FILTERS:
                continue
            if spec.name in _COMBINATORS:
                if spec.name == "not_":
                    walk(value, f"{at}.not_")
                    continue
                for i, item in enumerate(value):
                    walk(item, f"{at}.{spec.name}[{i}]")
                continue
            problems.append(
                ServiceError(
                    ErrorCode.BAD_USER_INPUT,
                    f"{at}.{spec.name}: the gallery cannot be filtered by it",
                    f"{at}.{spec.name}",
                )
            )

    if where is not None:
        walk(where, path)
    if problems:
        raise ValidationFailed(problems)


async def list_gallery(
    session: AsyncSession,
    *,
    where: OutputWhere | None = None,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
    with_total: bool = False,
) -> Page[Output]:
    """Page through the gallery, newest first, filtered on public fields only.

    Paging is as for list_outputs: `first`/`after` forwards, `last`/`before`
    backwards, 1 to 100 (50 by default); `total_count` only with `with_total`.
    """
    window = check_window(first=first, after=after, last=last, before=before)
    check_public_where(where)
    dialect = session.get_bind().dialect.name
    stmt = _gallery_outputs().where(output_filter(where, dialect=dialect))
    keys = _keys(Direction.DESC)
    return await fetch_page(
        session,
        stmt,
        keys=keys,
        scope="gallery",
        window=window,
        with_total=with_total,
        convert=lambda row: row[0],
        values_of=_values_of,
    )


async def get_gallery_images(
    session: AsyncSession, *, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, Output]:
    """The outputs among `ids` that are in the gallery; the others are left out."""
    if not ids:
        return {}
    stmt = _gallery_outputs().where(OUTPUTS.c.id.in_(set(ids)))
    outputs: Sequence[Output] = (await session.scalars(stmt)).all()
    return {output.id: output for output in outputs}


def _pending() -> sa.Select[Any]:
    return (
        sa.select(Output)
        .select_from(OUTPUTS)
        .where(
            # Literals, as in_gallery(), to match ix_outputs_gallery_pending.
            OUTPUTS.c.gallery_status.in_(
                [sa.literal_column(f"'{status.value}'") for status in PENDING]
            ),
            OUTPUTS.c.is_public,
            OUTPUTS.c.deleted_at.is_(None),
            _live_original(),
        )
    )


async def list_review_queue(
    session: AsyncSession,
    *,
    first: int | None = None,
    after: str | None = None,
    with_total: bool = False,
) -> Page[Output]:
    """Page through the public, live outputs awaiting a moderator, oldest first."""
    window = check_window(first=first, after=after, last=None, before=None)
    keys = _keys(Direction.ASC)
    return await fetch_page(
        session,
        _pending(),
        keys=keys,
        scope="gallery-review",
        window=window,
        with_total=with_total,
        convert=lambda row: row[0],
        values_of=_values_of,
    )


async def pending_ids(session: AsyncSession, *, limit: int) -> list[uuid.UUID]:
    """The ids of the oldest `limit` outputs awaiting review (for bulk decisions)."""
    stmt = (
        _pending()
        .with_only_columns(OUTPUTS.c.id)
        .order_by(OUTPUTS.c.created_at, OUTPUTS.c.id)
        .limit(limit)
    )
    return list(await session.scalars(stmt))


@dataclass(frozen=True)
class Reviewed:
    """An output a review decided on, and the status it had before."""

    output: Output
    previous: GalleryStatus


async def review_outputs(
    session: AsyncSession, *, ids: Sequence[uuid.UUID], decision: ReviewDecision
) -> list[Reviewed]:
    """Approve or reject submitted outputs of any account, all or none.

    An unknown id is NOT_FOUND; an output never submitted is NOT_SUBMITTED; one
    that is private, deleted or an upscale of a deleted original cannot be
    approved (NOT_PUBLIC), though it may be rejected. Deciding again is a no-op.
    """
    wanted = check_ids(ids)
    stmt = (
        sa.select(Output, _live_original().label("original_live"))
        .select_from(OUTPUTS)
        .where(OUTPUTS.c.id.in_(wanted))
        .with_for_update(of=OUTPUTS)
    )
    rows = {row[0].id: (row[0], bool(row[1])) for row in await session.execute(stmt)}
    missing = [str(i) for i in wanted if i not in rows]
    if missing:
        raise ServiceError(
            ErrorCode.NOT_FOUND,
            f"no output with id {', '.join(missing)}; nothing was changed",
            "ids",
        )
    problems: list[ServiceError] = []
    for output_id in wanted:
        output, original_live = rows[output_id]
        if output.gallery_status is GalleryStatus.NOT_SUBMITTED:
            problems.append(
                ServiceError(
                    ErrorCode.NOT_SUBMITTED,
                    f"output {output_id} was never submitted to the gallery",
                    "ids",
                )
            )
        elif decision is ReviewDecision.APPROVE and (
            not output.is_public or output.deleted_at is not None or not original_live
        ):
            problems.append(
                ServiceError(
                    ErrorCode.NOT_PUBLIC,
                    f"output {output_id} is private or deleted, so it cannot be "
                    "approved; reject it instead",
                    "ids",
                )
            )
    if problems:
        raise ValidationFailed(problems)
    status = (
        GalleryStatus.APPROVED
        if decision is ReviewDecision.APPROVE
        else GalleryStatus.REJECTED
    )
    reviewed = []
    for output_id in wanted:
        output = rows[output_id][0]
        reviewed.append(Reviewed(output=output, previous=output.gallery_status))
        output.gallery_status = status
    await session.flush()
    return reviewed
