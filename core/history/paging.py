"""Keyset pages: opaque cursors, seek predicates and the Relay page shape."""

import base64
import binascii
import hashlib
import json
import math
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import ErrorCode, ServiceError

T = TypeVar("T")

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 100
# A cursor longer than this was not made by us; refuse before decoding it.
MAX_CURSOR_LENGTH = 1000
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1

# The Python type a sort key's value has, which decides how a cursor carries it.
KeyValue = int | float | datetime | uuid.UUID | None


class Direction(StrEnum):
    """Sort direction; NULLs always come after every value."""

    ASC = "ASC"
    DESC = "DESC"


@dataclass(frozen=True)
class SortKey:
    """One column of a keyset order: how to sort it and how a cursor stores it."""

    name: str
    column: sa.ColumnElement[Any]
    direction: Direction
    kind: type[int] | type[float] | type[datetime] | type[uuid.UUID]
    nullable: bool = False


@dataclass
class Page(Generic[T]):
    """One page of a connection: (cursor, item) pairs and where it sits."""

    items: list[tuple[str, T]]
    has_next_page: bool
    has_previous_page: bool
    total_count: int | None = None


@dataclass(frozen=True)
class Window:
    """A checked first/after or last/before request."""

    size: int
    forward: bool
    cursor: str | None


def check_window(
    *, first: int | None, after: str | None, last: int | None, before: str | None
) -> Window:
    """Validate Relay paging arguments; nothing is clamped."""
    if first is not None and last is not None:
        raise ServiceError(
            ErrorCode.BAD_USER_INPUT, "give either first or last, not both", "first"
        )
    if last is None and before is not None:
        raise ServiceError(
            ErrorCode.BAD_USER_INPUT,
            "before pages backwards; use it with last",
            "before",
        )
    if last is not None and after is not None:
        raise ServiceError(
            ErrorCode.BAD_USER_INPUT, "after pages forwards; use it with first", "after"
        )
    if last is not None:
        _check_size("last", last)
        return Window(size=last, forward=False, cursor=before)
    size = DEFAULT_PAGE_SIZE if first is None else first
    _check_size("first", size)
    return Window(size=size, forward=True, cursor=after)


def _check_size(field: str, value: int) -> None:
    if isinstance(value, bool) or not 1 <= value <= MAX_PAGE_SIZE:
        raise ServiceError(
            ErrorCode.OUT_OF_RANGE,
            f"{field} must be between 1 and {MAX_PAGE_SIZE}; got {value}",
            field,
        )


def order_spec(scope: str, keys: Sequence[SortKey]) -> str:
    """A short fingerprint of an order, so a cursor only fits the order it came from."""
    text = scope + "|" + ",".join(f"{k.name}:{k.direction}" for k in keys)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def encode_cursor(spec: str, values: Sequence[KeyValue]) -> str:
    """Write sort values and the order fingerprint as an opaque base64url string."""
    plain = [_to_json(v) for v in values]
    raw = json.dumps({"o": spec, "v": plain}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _to_json(value: KeyValue) -> str | int | float | None:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def decode_cursor(
    cursor: str, *, spec: str, keys: Sequence[SortKey], field: str
) -> list[KeyValue]:
    """Read a cursor back, refusing one that is malformed or made for another order."""

    def refuse(why: str) -> ServiceError:
        return ServiceError(ErrorCode.BAD_USER_INPUT, f"{field} cursor {why}", field)

    if not isinstance(cursor, str) or len(cursor) > MAX_CURSOR_LENGTH:
        raise refuse("is not one this API issued")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
    except (binascii.Error, ValueError) as err:
        raise refuse("is not one this API issued") from err
    if not isinstance(data, dict) or not isinstance(data.get("v"), list):
        raise refuse("is not one this API issued")
    if data.get("o") != spec:
        raise refuse("was made for a different orderBy; start again without it")
    plain: list[Any] = data["v"]
    if len(plain) != len(keys):
        raise refuse("is not one this API issued")
    try:
        return [_from_json(v, k) for v, k in zip(plain, keys, strict=True)]
    except (TypeError, ValueError) as err:
        raise refuse("is not one this API issued") from err


def _from_json(value: Any, key: SortKey) -> KeyValue:
    if value is None:
        if not key.nullable:
            raise ValueError(f"{key.name} cannot be null")
        return None
    if key.kind is datetime:
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is None:
            raise ValueError("naive timestamp")
        return moment
    if key.kind is uuid.UUID:
        return uuid.UUID(value)
    if key.kind is int:
        if type(value) is not int or not INT64_MIN <= value <= INT64_MAX:
            raise ValueError(f"{key.name} must be an integer")
        return value
    if type(value) not in (int, float) or not math.isfinite(value):
        raise ValueError(f"{key.name} must be a number")
    return float(value)


def _after(key: SortKey, value: KeyValue, forward: bool) -> sa.ColumnElement[bool]:
    """Rows strictly after `value` on this key, in the page's reading direction."""
    ascending = (key.direction is Direction.ASC) == forward
    col = key.column
    if forward:  # NULLs are last, so nothing follows a NULL and NULLs follow values
        if value is None:
            return sa.false()
        beyond = col > value if ascending else col < value
        return sa.or_(col.is_(None), beyond) if key.nullable else beyond
    if value is None:  # reading backwards from a NULL: every value comes first
        return col.is_not(None)
    beyond = col > value if ascending else col < value
    return sa.and_(col.is_not(None), beyond) if key.nullable else beyond


def _equal(key: SortKey, value: KeyValue) -> sa.ColumnElement[bool]:
    return key.column.is_(None) if value is None else key.column == value


def _bound(
    keys: Sequence[SortKey], values: Sequence[KeyValue], forward: bool
) -> sa.ColumnElement[bool]:
    """A range that holds the cursor's row and every row past it, on the leading
    keys that are not NULL and share the first key's direction, as one row value.

    It lets PostgreSQL bound the index scan: on the first key alone it would
    still read every row of an equal first value (a width thousands of outputs
    share) up to the cursor, and without it the hasPreviousPage probe scans the
    table.
    """
    lead = keys[0]
    prefix: list[tuple[sa.ColumnElement[Any], KeyValue]] = []
    for key, value in zip(keys, values, strict=True):
        if key.nullable or value is None or key.direction is not lead.direction:
            break
        prefix.append((key.column, value))
    if not prefix:
        return sa.true()
    ascending = (lead.direction is Direction.ASC) == forward
    row = sa.tuple_(*[column for column, _ in prefix])
    at = tuple(value for _, value in prefix)
    return row >= at if ascending else row <= at


def _beyond(
    keys: Sequence[SortKey], values: Sequence[KeyValue], forward: bool
) -> list[sa.ColumnElement[bool]]:
    branches = []
    for i, key in enumerate(keys):
        prefix = [_equal(k, v) for k, v in zip(keys[:i], values[:i], strict=True)]
        branches.append(sa.and_(*prefix, _after(key, values[i], forward)))
    return branches


def seek(
    keys: Sequence[SortKey], values: Sequence[KeyValue], *, forward: bool
) -> sa.ColumnElement[bool]:
    """Rows strictly after the cursor position (before it when reading backwards)."""
    return sa.and_(
        _bound(keys, values, forward), sa.or_(*_beyond(keys, values, forward))
    )


def at_or_beyond(
    keys: Sequence[SortKey], values: Sequence[KeyValue], *, forward: bool
) -> sa.ColumnElement[bool]:
    """The cursor's own row and every row past it in the given direction."""
    exact = sa.and_(*[_equal(k, v) for k, v in zip(keys, values, strict=True)])
    return sa.and_(
        _bound(keys, values, forward),
        sa.or_(exact, *_beyond(keys, values, forward)),
    )


def order_by(keys: Sequence[SortKey], *, forward: bool) -> list[sa.ColumnElement[Any]]:
    """ORDER BY terms; NULLS LAST only on nullable keys so indexes stay usable."""
    terms: list[sa.ColumnElement[Any]] = []
    for key in keys:
        ascending = (key.direction is Direction.ASC) == forward
        term = key.column.asc() if ascending else key.column.desc()
        if key.nullable:
            term = term.nulls_last() if forward else term.nulls_first()
        terms.append(term)
    return terms


async def fetch_page(
    session: AsyncSession,
    stmt: sa.Select[Any],
    *,
    keys: Sequence[SortKey],
    scope: str,
    window: Window,
    with_total: bool,
    convert: Callable[[sa.Row[*tuple[Any, ...]]], T],
    values_of: Callable[[T], Sequence[KeyValue]],
) -> Page[T]:
    """Read one keyset page of `stmt` (already filtered), plus its flags and count.

    `stmt` must name its FROM explicitly (select_from) so the count and existence
    checks, which swap its columns, keep the same joins and filters.
    """
    spec = order_spec(scope, keys)
    field = "after" if window.forward else "before"
    page_stmt = stmt
    cursor_values: list[KeyValue] | None = None
    if window.cursor is not None:
        cursor_values = decode_cursor(window.cursor, spec=spec, keys=keys, field=field)
        page_stmt = stmt.where(seek(keys, cursor_values, forward=window.forward))
    page_stmt = page_stmt.order_by(*order_by(keys, forward=window.forward))
    rows = (await session.execute(page_stmt.limit(window.size + 1))).all()
    more = len(rows) > window.size
    items = [convert(row) for row in rows[: window.size]]
    if not window.forward:
        items.reverse()
    # Relay lets these be false when costly; one indexed LIMIT 1 probe is cheap.
    # Its order is the index's: unordered, PostgreSQL bets on a table scan finding
    # a heavy account's row early, which a light account's would lose.
    behind = False
    if cursor_values is not None:
        back = not window.forward
        probe = (
            stmt.with_only_columns(sa.literal(1))
            .where(at_or_beyond(keys, cursor_values, forward=back))
            .order_by(*order_by(keys, forward=back))
        )
        behind = await session.scalar(probe.limit(1)) is not None
    total = None
    if with_total:
        total = await session.scalar(stmt.with_only_columns(sa.func.count()))
    return Page(
        items=[(encode_cursor(spec, values_of(item)), item) for item in items],
        has_next_page=more if window.forward else behind,
        has_previous_page=behind if window.forward else more,
        total_count=total,
    )
