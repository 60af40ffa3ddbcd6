"""Typed output filters, Hasura style, and the one builder that turns them into SQL.

Semantics, identical on SQLite and PostgreSQL:
- Operators inside one filter are ANDed; an empty filter matches everything.
- Comparisons are two-valued: a NULL column satisfies no operator except
  `is_null: true`, and `not_` is the plain complement, so it matches NULLs.
- `in_: []` matches nothing, `nin: []` every non-NULL value; `and_: []` matches
  everything and `or_: []` nothing.
- `prompt.ilike` is a case-insensitive LIKE where `%` and `_` are wildcards, as in
  Hasura; a backslash makes the next character literal (`100\\%`). SQLite folds case
  for ASCII letters only.
- `prompt.search` is PostgreSQL full text (`to_tsvector('simple', prompt) @@
  plainto_tsquery('simple', ...)`). SQLite has no full text here: it matches when
  every word appears in the prompt, case-insensitively, even inside longer words.
"""

import math
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Generic, TypeVar

import sqlalchemy as sa

from core.enums import GalleryStatus, JobSource
from core.errors import ErrorCode, ServiceError, ValidationFailed
from core.models import Output

E = TypeVar("E", bound=StrEnum)

MAX_LIST_ITEMS = 100
MAX_DEPTH = 5
MAX_TEXT_LENGTH = 1000
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


class AspectRatio(StrEnum):
    """Width to height, matched exactly (width * h == height * w)."""

    SQUARE_1_1 = "SQUARE_1_1"
    LANDSCAPE_16_9 = "LANDSCAPE_16_9"
    PORTRAIT_9_16 = "PORTRAIT_9_16"
    LANDSCAPE_3_2 = "LANDSCAPE_3_2"
    PORTRAIT_2_3 = "PORTRAIT_2_3"
    LANDSCAPE_4_3 = "LANDSCAPE_4_3"
    PORTRAIT_3_4 = "PORTRAIT_3_4"
    LANDSCAPE_5_4 = "LANDSCAPE_5_4"
    PORTRAIT_4_5 = "PORTRAIT_4_5"
    LANDSCAPE_2_4_1 = "LANDSCAPE_2_4_1"

    @property
    def ratio(self) -> tuple[int, int]:
        """(width part, height part) in lowest terms; 2.4:1 is 12:5."""
        return _RATIOS[self]


_RATIOS = {
    AspectRatio.SQUARE_1_1: (1, 1),
    AspectRatio.LANDSCAPE_16_9: (16, 9),
    AspectRatio.PORTRAIT_9_16: (9, 16),
    AspectRatio.LANDSCAPE_3_2: (3, 2),
    AspectRatio.PORTRAIT_2_3: (2, 3),
    AspectRatio.LANDSCAPE_4_3: (4, 3),
    AspectRatio.PORTRAIT_3_4: (3, 4),
    AspectRatio.LANDSCAPE_5_4: (5, 4),
    AspectRatio.PORTRAIT_4_5: (4, 5),
    AspectRatio.LANDSCAPE_2_4_1: (12, 5),
}


@dataclass
class IntFilter:
    """Integer comparisons (`in_` and `nin` hold at most 100 values)."""

    eq: int | None = None
    neq: int | None = None
    in_: list[int] | None = None
    nin: list[int] | None = None
    gt: int | None = None
    gte: int | None = None
    lt: int | None = None
    lte: int | None = None
    is_null: bool | None = None


@dataclass
class FloatFilter:
    """Number comparisons (`in_` and `nin` hold at most 100 values)."""

    eq: float | None = None
    neq: float | None = None
    in_: list[float] | None = None
    nin: list[float] | None = None
    gt: float | None = None
    gte: float | None = None
    lt: float | None = None
    lte: float | None = None
    is_null: bool | None = None


@dataclass
class DateTimeFilter:
    """Time range; every bound must be timezone-aware."""

    gt: datetime | None = None
    gte: datetime | None = None
    lt: datetime | None = None
    lte: datetime | None = None


@dataclass
class StrFilter:
    """Exact string match against one value or a list."""

    eq: str | None = None
    in_: list[str] | None = None
    nin: list[str] | None = None


@dataclass
class EnumFilter(Generic[E]):
    """Enum value match against one value or a list."""

    eq: E | None = None
    in_: list[E] | None = None
    nin: list[E] | None = None


@dataclass
class BoolFilter:
    """Boolean match."""

    eq: bool | None = None


@dataclass
class TextFilter:
    """Prompt text: a LIKE pattern and/or full-text words."""

    ilike: str | None = None
    search: str | None = None


@dataclass
class OutputWhere:
    """Conditions on the caller's outputs; every given field must hold."""

    created_at: DateTimeFilter | None = None
    width: IntFilter | None = None
    height: IntFilter | None = None
    inference_steps: IntFilter | None = None
    seed: IntFilter | None = None
    guidance_scale: FloatFilter | None = None
    model_id: StrFilter | None = None
    scheduler_id: StrFilter | None = None
    gallery_status: EnumFilter[GalleryStatus] | None = None
    source: EnumFilter[JobSource] | None = None
    is_favorite: BoolFilter | None = None
    is_public: BoolFilter | None = None
    is_upscaled: BoolFilter | None = None
    aspect_ratio: EnumFilter[AspectRatio] | None = None
    job_id: uuid.UUID | None = None
    prompt: TextFilter | None = None
    and_: list["OutputWhere"] | None = None
    or_: list["OutputWhere"] | None = None
    not_: "OutputWhere | None" = None


# Filter fields that compare a column directly, by filter class.
_OUTPUTS: sa.Table = Output.__table__  # type: ignore[attr-defined]  # set by SQLModel
_COLUMNS: dict[str, sa.Column[Any]] = {
    name: _OUTPUTS.c[name]
    for name in (
        "created_at",
        "width",
        "height",
        "inference_steps",
        "seed",
        "guidance_scale",
        "model_id",
        "scheduler_id",
        "gallery_status",
        "source",
        "is_favorite",
        "is_public",
        "is_upscaled",
    )
}


@dataclass
class _Problems:
    found: list[ServiceError] = field(default_factory=list)

    def add(
        self, path: str, message: str, code: ErrorCode = ErrorCode.BAD_USER_INPUT
    ) -> None:
        self.found.append(ServiceError(code, f"{path}: {message}", path))


def output_filter(where: OutputWhere | None, *, dialect: str) -> sa.ColumnElement[bool]:
    """Validate `where` and build its SQL condition; raise every problem at once.

    `dialect` is the session's SQL dialect name; only `prompt.search` depends on it.
    """
    if where is None:
        return sa.true()
    problems = _Problems()
    condition = _where(where, "where", 1, dialect, problems)
    if problems.found:
        raise ValidationFailed(problems.found)
    return condition


def _where(
    w: OutputWhere, path: str, depth: int, dialect: str, problems: _Problems
) -> sa.ColumnElement[bool]:
    if depth > MAX_DEPTH:
        problems.add(path, f"and_/or_/not_ may nest at most {MAX_DEPTH} levels deep")
        return sa.true()
    parts: list[sa.ColumnElement[bool]] = []
    for name, column in _COLUMNS.items():
        spec = getattr(w, name)
        if spec is not None:
            parts.append(_leaf(column, spec, f"{path}.{name}", problems))
    if w.aspect_ratio is not None:
        parts.append(_aspect(w.aspect_ratio, f"{path}.aspect_ratio", problems))
    if w.job_id is not None:
        parts.append(_OUTPUTS.c.job_id == w.job_id)
    if w.prompt is not None:
        parts.append(_text(w.prompt, f"{path}.prompt", dialect, problems))
    for name, combine in (("and_", sa.and_), ("or_", sa.or_)):
        items: list[OutputWhere] | None = getattr(w, name)
        if items is None:
            continue
        if len(items) > MAX_LIST_ITEMS:
            problems.add(
                f"{path}.{name}", f"at most {MAX_LIST_ITEMS} items; got {len(items)}"
            )
            continue
        subs = [
            _where(s, f"{path}.{name}[{i}]", depth + 1, dialect, problems)
            for i, s in enumerate(items)
        ]
        empty = sa.true() if name == "and_" else sa.false()
        parts.append(combine(*subs) if subs else empty)
    if w.not_ is not None:
        parts.append(
            sa.not_(_where(w.not_, f"{path}.not_", depth + 1, dialect, problems))
        )
    return sa.and_(*parts) if parts else sa.true()


def _leaf(
    column: sa.Column[Any], spec: Any, path: str, problems: _Problems
) -> sa.ColumnElement[bool]:
    parts: list[sa.ColumnElement[bool]] = []
    nullable = column.nullable

    def check(op: str, value: Any) -> Any:
        if isinstance(spec, IntFilter) and (
            type(value) is not int or not INT64_MIN <= value <= INT64_MAX
        ):
            problems.add(
                f"{path}.{op}",
                f"must be a 64-bit integer; got {value!r}",
                ErrorCode.OUT_OF_RANGE,
            )
        if isinstance(spec, FloatFilter) and (
            type(value) not in (int, float) or not math.isfinite(value)
        ):
            problems.add(f"{path}.{op}", f"must be a finite number; got {value!r}")
        if isinstance(spec, DateTimeFilter) and (
            not isinstance(value, datetime) or value.tzinfo is None
        ):
            problems.add(f"{path}.{op}", "must be a timezone-aware timestamp")
        if isinstance(spec, StrFilter) and len(value) > MAX_TEXT_LENGTH:
            problems.add(f"{path}.{op}", f"at most {MAX_TEXT_LENGTH} characters")
        return value

    simple = {"eq": "__eq__", "neq": "__ne__", "gt": "__gt__", "gte": "__ge__"}
    simple |= {"lt": "__lt__", "lte": "__le__"}
    for op, method in simple.items():
        value = getattr(spec, op, None)
        if value is not None:
            parts.append(getattr(column, method)(check(op, value)))
    for op in ("in_", "nin"):
        values = getattr(spec, op, None)
        if values is None:
            continue
        if len(values) > MAX_LIST_ITEMS:
            problems.add(
                f"{path}.{op}", f"at most {MAX_LIST_ITEMS} values; got {len(values)}"
            )
            continue
        checked = [check(op, v) for v in values]
        parts.append(column.in_(checked) if op == "in_" else column.not_in(checked))
    if nullable and parts:
        # Two-valued logic: a NULL never satisfies a comparison, even under not_.
        parts.insert(0, column.is_not(None))
    is_null = getattr(spec, "is_null", None)
    if is_null is not None:
        parts.append(column.is_(None) if is_null else column.is_not(None))
    return sa.and_(*parts) if parts else sa.true()


def _aspect(
    spec: EnumFilter[AspectRatio], path: str, problems: _Problems
) -> sa.ColumnElement[bool]:
    def matches(ratio: AspectRatio) -> sa.ColumnElement[bool]:
        w, h = AspectRatio(ratio).ratio
        return _OUTPUTS.c.width * h == _OUTPUTS.c.height * w

    parts: list[sa.ColumnElement[bool]] = []
    if spec.eq is not None:
        parts.append(matches(spec.eq))
    for op in ("in_", "nin"):
        values: list[AspectRatio] | None = getattr(spec, op)
        if values is None:
            continue
        if len(values) > MAX_LIST_ITEMS:
            problems.add(
                f"{path}.{op}", f"at most {MAX_LIST_ITEMS} values; got {len(values)}"
            )
            continue
        any_of = sa.or_(*[matches(v) for v in values]) if values else sa.false()
        parts.append(any_of if op == "in_" else sa.not_(any_of))
    return sa.and_(*parts) if parts else sa.true()


_WORD = re.compile(r"\w+")


def _text(
    spec: TextFilter, path: str, dialect: str, problems: _Problems
) -> sa.ColumnElement[bool]:
    parts: list[sa.ColumnElement[bool]] = []
    if spec.ilike is not None:
        pattern = spec.ilike
        if len(pattern) > MAX_TEXT_LENGTH:
            problems.add(f"{path}.ilike", f"at most {MAX_TEXT_LENGTH} characters")
        elif re.search(r"(?<!\\)(\\\\)*\\$", pattern):
            problems.add(f"{path}.ilike", "ends with an unpaired backslash; write \\\\")
        else:
            parts.append(_OUTPUTS.c.prompt.ilike(pattern, escape="\\"))
    if spec.search is not None:
        words = _WORD.findall(spec.search.lower())
        if len(spec.search) > MAX_TEXT_LENGTH:
            problems.add(f"{path}.search", f"at most {MAX_TEXT_LENGTH} characters")
        elif not words:
            problems.add(f"{path}.search", "needs at least one word")
        else:
            parts.append(_search(spec.search, words, dialect))
    return sa.and_(*parts) if parts else sa.true()


def _search(query: str, words: list[str], dialect: str) -> sa.ColumnElement[bool]:
    if dialect == "postgresql":
        vector = sa.func.to_tsvector(sa.literal_column("'simple'"), _OUTPUTS.c.prompt)
        tsquery = sa.func.plainto_tsquery(sa.literal_column("'simple'"), query)
        return vector.op("@@")(tsquery)
    escaped = [re.sub(r"([\\%_])", r"\\\1", w) for w in words]
    return sa.and_(*[_OUTPUTS.c.prompt.ilike(f"%{w}%", escape="\\") for w in escaped])
