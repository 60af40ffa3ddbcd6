"""Read the caller's outputs: filtered keyset pages and batch lookups."""

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import ErrorCode, ServiceError
from core.history.filters import OutputWhere, output_filter
from core.history.paging import (
    Direction,
    KeyValue,
    Page,
    SortKey,
    check_window,
    fetch_page,
)
from core.models import Output

OUTPUTS: sa.Table = Output.__table__  # type: ignore[attr-defined]  # set by SQLModel
_PARENT = OUTPUTS.alias("upscaled_from")


class OutputOrderField(StrEnum):
    """What outputs can be sorted by; the id breaks ties."""

    CREATED_AT = "CREATED_AT"
    WIDTH = "WIDTH"
    HEIGHT = "HEIGHT"
    INFERENCE_STEPS = "INFERENCE_STEPS"
    GUIDANCE_SCALE = "GUIDANCE_SCALE"


@dataclass
class OutputOrder:
    """One sort term; NULLs (steps and guidance of upscales) sort last either way."""

    field: OutputOrderField
    direction: Direction = Direction.DESC


_FIELDS: dict[OutputOrderField, tuple[str, type[Any], bool]] = {
    OutputOrderField.CREATED_AT: ("created_at", datetime, False),
    OutputOrderField.WIDTH: ("width", int, False),
    OutputOrderField.HEIGHT: ("height", int, False),
    OutputOrderField.INFERENCE_STEPS: ("inference_steps", int, True),
    OutputOrderField.GUIDANCE_SCALE: ("guidance_scale", float, True),
}
DEFAULT_ORDER = (OutputOrder(OutputOrderField.CREATED_AT, Direction.DESC),)


def _sort_keys(order: Sequence[OutputOrder] | None) -> list[SortKey]:
    terms = list(order) if order else list(DEFAULT_ORDER)
    seen = [t.field for t in terms]
    if len(set(seen)) != len(seen):
        raise ServiceError(
            ErrorCode.BAD_USER_INPUT,
            "order_by names a field more than once",
            "order_by",
        )
    keys = []
    for term in terms:
        name, kind, nullable = _FIELDS[OutputOrderField(term.field)]
        direction = Direction(term.direction)
        keys.append(SortKey(name, OUTPUTS.c[name], direction, kind, nullable))
    # The id makes every position unique, so equal values neither skip nor repeat.
    keys.append(SortKey("id", OUTPUTS.c.id, keys[0].direction, uuid.UUID))
    return keys


def visible_outputs(user_id: uuid.UUID) -> sa.Select[Any]:
    """The caller's outputs that are not deleted and whose original is not deleted."""
    # An upscale's original is always the same account's. Asking whether a
    # deleted original exists (rather than joining every original) lets a count
    # read ix_outputs_user_live alone and the check probe only deleted rows.
    deleted_original = (
        sa.select(sa.literal(1))
        .where(
            _PARENT.c.user_id == user_id,
            _PARENT.c.id == OUTPUTS.c.upscaled_from_id,
            _PARENT.c.deleted_at.is_not(None),
        )
        .exists()
    )
    return (
        sa.select(Output)
        .select_from(OUTPUTS)
        .where(
            OUTPUTS.c.user_id == user_id,
            OUTPUTS.c.deleted_at.is_(None),
            ~deleted_original,
        )
    )


def _key_values(keys: Sequence[SortKey]) -> Callable[[Output], list[KeyValue]]:
    def values_of(output: Output) -> list[KeyValue]:
        return [getattr(output, key.name) for key in keys]

    return values_of


async def list_outputs(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    where: OutputWhere | None = None,
    order: Sequence[OutputOrder] | None = None,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
    with_total: bool = False,
) -> Page[Output]:
    """Page through the caller's outputs, filtered and sorted (newest first by default).

    `first`/`after` read forwards and `last`/`before` backwards, 1 to 100 at a time
    (50 when neither size is given). `total_count` is the count of every match,
    computed only when `with_total` is set, from the same statement as the page.
    """
    window = check_window(first=first, after=after, last=last, before=before)
    keys = _sort_keys(order)
    dialect = session.get_bind().dialect.name
    stmt = visible_outputs(user_id).where(output_filter(where, dialect=dialect))
    return await fetch_page(
        session,
        stmt,
        keys=keys,
        scope="outputs",
        window=window,
        with_total=with_total,
        convert=lambda row: row[0],
        values_of=_key_values(keys),
    )


async def get_outputs(
    session: AsyncSession, *, user_id: uuid.UUID, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, Output]:
    """The caller's visible outputs among `ids`; others are left out."""
    if not ids:
        return {}
    stmt = visible_outputs(user_id).where(OUTPUTS.c.id.in_(set(ids)))
    outputs: Sequence[Output] = (await session.scalars(stmt)).all()
    return {output.id: output for output in outputs}


async def upscales_of(
    session: AsyncSession, *, user_id: uuid.UUID, output_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, Output]:
    """The visible upscale of each output that has one, keyed by the original's id."""
    if not output_ids:
        return {}
    stmt = (
        visible_outputs(user_id)
        .where(OUTPUTS.c.upscaled_from_id.in_(set(output_ids)))
        .order_by(OUTPUTS.c.created_at, OUTPUTS.c.id)
    )
    found: dict[uuid.UUID, Output] = {}
    upscales: Sequence[Output] = (await session.scalars(stmt)).all()
    for upscale in upscales:
        # Re-upscaling returns the existing one, so there is one; the oldest wins.
        assert upscale.upscaled_from_id is not None
        found.setdefault(upscale.upscaled_from_id, upscale)
    return found
