"""Typed filter inputs, Hasura style: each given operator must hold."""

from datetime import datetime

import strawberry

from schema.enums import AspectRatio, GalleryStatus, JobSource

_LIST = "at most 100 values"


@strawberry.input(description="Integer comparisons; every given operator must hold.")
class IntFilter:
    eq: int | None = strawberry.field(default=None, name="_eq", description="Equals.")
    neq: int | None = strawberry.field(
        default=None, name="_neq", description="Differs from (NULL never matches)."
    )
    in_: list[int] | None = strawberry.field(
        default=None, name="_in", description=f"One of these; {_LIST}."
    )
    nin: list[int] | None = strawberry.field(
        default=None, name="_nin", description=f"None of these; {_LIST}."
    )
    gt: int | None = strawberry.field(
        default=None, name="_gt", description="Greater than."
    )
    gte: int | None = strawberry.field(
        default=None, name="_gte", description="At least."
    )
    lt: int | None = strawberry.field(
        default=None, name="_lt", description="Less than."
    )
    lte: int | None = strawberry.field(
        default=None, name="_lte", description="At most."
    )
    is_null: bool | None = strawberry.field(
        default=None, name="_is_null", description="True: only NULL; false: only set."
    )


@strawberry.input(description="Number comparisons; every given operator must hold.")
class FloatFilter:
    eq: float | None = strawberry.field(default=None, name="_eq", description="Equals.")
    neq: float | None = strawberry.field(
        default=None, name="_neq", description="Differs from (NULL never matches)."
    )
    in_: list[float] | None = strawberry.field(
        default=None, name="_in", description=f"One of these; {_LIST}."
    )
    nin: list[float] | None = strawberry.field(
        default=None, name="_nin", description=f"None of these; {_LIST}."
    )
    gt: float | None = strawberry.field(
        default=None, name="_gt", description="Greater than."
    )
    gte: float | None = strawberry.field(
        default=None, name="_gte", description="At least."
    )
    lt: float | None = strawberry.field(
        default=None, name="_lt", description="Less than."
    )
    lte: float | None = strawberry.field(
        default=None, name="_lte", description="At most."
    )
    is_null: bool | None = strawberry.field(
        default=None, name="_is_null", description="True: only NULL; false: only set."
    )


@strawberry.input(
    description="Time range; bounds need a UTC offset, e.g. 2026-01-01T00:00:00Z."
)
class DateTimeFilter:
    gt: datetime | None = strawberry.field(
        default=None, name="_gt", description="After."
    )
    gte: datetime | None = strawberry.field(
        default=None, name="_gte", description="At or after."
    )
    lt: datetime | None = strawberry.field(
        default=None, name="_lt", description="Before."
    )
    lte: datetime | None = strawberry.field(
        default=None, name="_lte", description="At or before."
    )


@strawberry.input(description="Exact text match, e.g. a catalog model or scheduler id.")
class StringFilter:
    eq: str | None = strawberry.field(
        default=None, name="_eq", description="Equals; at most 1000 characters."
    )
    in_: list[str] | None = strawberry.field(
        default=None, name="_in", description=f"One of these; {_LIST}."
    )
    nin: list[str] | None = strawberry.field(
        default=None, name="_nin", description=f"None of these; {_LIST}."
    )


@strawberry.input(description="Gallery status match.")
class GalleryStatusFilter:
    eq: GalleryStatus | None = strawberry.field(
        default=None, name="_eq", description="Equals."
    )
    in_: list[GalleryStatus] | None = strawberry.field(
        default=None, name="_in", description="One of these."
    )
    nin: list[GalleryStatus] | None = strawberry.field(
        default=None, name="_nin", description="None of these."
    )


@strawberry.input(description="Job source match.")
class JobSourceFilter:
    eq: JobSource | None = strawberry.field(
        default=None, name="_eq", description="Equals."
    )
    in_: list[JobSource] | None = strawberry.field(
        default=None, name="_in", description="One of these."
    )
    nin: list[JobSource] | None = strawberry.field(
        default=None, name="_nin", description="None of these."
    )


@strawberry.input(
    description="Aspect ratio match, computed exactly from width and height."
)
class AspectRatioFilter:
    eq: AspectRatio | None = strawberry.field(
        default=None, name="_eq", description="Equals."
    )
    in_: list[AspectRatio] | None = strawberry.field(
        default=None, name="_in", description="One of these."
    )
    nin: list[AspectRatio] | None = strawberry.field(
        default=None, name="_nin", description="None of these."
    )


@strawberry.input(description="Boolean match.")
class BooleanFilter:
    eq: bool | None = strawberry.field(default=None, name="_eq", description="Equals.")


@strawberry.input(description="Prompt text match; both given means both must hold.")
class PromptFilter:
    ilike: str | None = strawberry.field(
        default=None,
        name="_ilike",
        description=(
            "Case-insensitive LIKE: % is any run, _ any one character, a backslash "
            "makes the next one literal; at most 1000 characters."
        ),
    )
    search: str | None = strawberry.field(
        default=None,
        name="_search",
        description="Every word must appear (full text on PostgreSQL); at most 1000 characters.",
    )
