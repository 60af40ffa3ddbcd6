"""Output history: filters, orders and keyset pages against a plain-Python model."""

import functools
import re
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.dialects import postgresql

from core.db import Database
from core.enums import GalleryStatus, JobKind, JobSource, JobStatus, Tier
from core.errors import ErrorCode, ServiceError
from core.history.filters import (
    AspectRatio,
    BoolFilter,
    DateTimeFilter,
    EnumFilter,
    FloatFilter,
    IntFilter,
    OutputWhere,
    StrFilter,
    TextFilter,
    output_filter,
)
from core.history.paging import Direction, Page
from core.history.queries import (
    OutputOrder,
    OutputOrderField,
    get_outputs,
    list_outputs,
    upscales_of,
)
from core.models import Job, Output, User

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
SIZES = [(512, 512), (1024, 576), (576, 1024), (768, 512), (512, 768), (640, 512)]
SIZES += [(512, 640), (1536, 640), (600, 500)]
PROMPTS = ["A red cat", "a Red dog", "100% cat", "snake_case cat", "blue_sky", "x\\y"]
MODELS = ["sd15", "sdxl", "flux"]


# ---------------------------------------------------------------- row helpers


async def add_user(db: Database, tier: Tier = Tier.PRO) -> uuid.UUID:
    """Insert a user with one succeeded job; return the user id."""
    async with db.session() as session:
        user = User(email=f"{uuid.uuid4().hex}@example.com", tier=tier)
        session.add(user)
        await session.flush()
        session.add(
            Job(
                id=user.id,  # one job per user, sharing its id, keeps helpers short
                user_id=user.id,
                kind=JobKind.GENERATE,
                source=JobSource.API,
                status=JobStatus.SUCCEEDED,
                model_id="sd15",
            )
        )
        return user.id


def make_output(user_id: uuid.UUID, index: int, **fields: Any) -> Output:
    """An output row of `user_id`'s job with sensible defaults."""
    values: dict[str, Any] = {
        "job_id": user_id,
        "user_id": user_id,
        "index": index,
        "storage_key": f"outputs/{user_id}/{index}.png",
        "format": "png",
        "width": 512,
        "height": 512,
        "seed": index,
        "prompt": "a cat",
        "model_id": "sd15",
        "scheduler_id": "DDIM",
        "inference_steps": 25,
        "guidance_scale": 7.0,
        "source": JobSource.API,
        "gallery_status": GalleryStatus.NOT_SUBMITTED,
        "created_at": T0 + timedelta(seconds=index),
    }
    values.update(fields)
    return Output(**values)


async def add_outputs(db: Database, outputs: Sequence[Output]) -> None:
    """Insert outputs in order (originals before their upscales)."""
    async with db.session() as session:
        session.add_all(outputs)


async def walk(
    db: Database, *, size: int, forward: bool, **kw: Any
) -> list[Page[Output]]:
    """Read every page of a listing, forwards or backwards."""
    pages: list[Page[Output]] = []
    cursor: str | None = None
    while True:
        async with db.session() as session:
            if forward:
                page = await list_outputs(session, first=size, after=cursor, **kw)
            else:
                page = await list_outputs(session, last=size, before=cursor, **kw)
        pages.append(page)
        more = page.has_next_page if forward else page.has_previous_page
        if not more:
            return pages
        assert page.items, "a page that promises more must not be empty"
        cursor = page.items[-1][0] if forward else page.items[0][0]
        assert len(pages) <= 200


def ids_of(pages: Sequence[Page[Output]], forward: bool = True) -> list[uuid.UUID]:
    ordered = pages if forward else list(reversed(pages))
    return [output.id for page in ordered for _, output in page.items]


# ------------------------------------------------------- plain-Python model


def like(pattern: str, text: str) -> bool:
    """Hasura/PostgreSQL ILIKE with a backslash escape, for ASCII text."""
    regex, chars = "", iter(pattern)
    for ch in chars:
        if ch == "\\":
            regex += re.escape(next(chars))
        elif ch == "%":
            regex += ".*"
        elif ch == "_":
            regex += "."
        else:
            regex += re.escape(ch)
    return re.fullmatch(regex, text, re.IGNORECASE | re.DOTALL) is not None


def leaf_holds(value: Any, spec: Any) -> bool:
    ops = {
        "eq": lambda v, x: v == x,
        "neq": lambda v, x: v != x,
        "gt": lambda v, x: v > x,
        "gte": lambda v, x: v >= x,
        "lt": lambda v, x: v < x,
        "lte": lambda v, x: v <= x,
        "in_": lambda v, x: v in x,
        "nin": lambda v, x: v not in x,
    }
    for op, test in ops.items():
        arg = getattr(spec, op, None)
        if arg is not None and (value is None or not test(value, arg)):
            return False
    is_null = getattr(spec, "is_null", None)
    return is_null is None or (value is None) == is_null


def ratio_of(output: Output, ratio: AspectRatio) -> bool:
    w, h = ratio.ratio
    return output.width * h == output.height * w


_FILTERED = [
    *("created_at", "width", "height", "inference_steps", "seed", "guidance_scale"),
    *("model_id", "scheduler_id", "gallery_status", "source", "is_favorite"),
    *("is_public", "is_upscaled"),
]


def holds(output: Output, where: OutputWhere) -> bool:
    for name in _FILTERED:
        spec = getattr(where, name)
        if spec is not None and not leaf_holds(getattr(output, name), spec):
            return False
    ar = where.aspect_ratio
    if ar is not None:
        if ar.eq is not None and not ratio_of(output, ar.eq):
            return False
        if ar.in_ is not None and not any(ratio_of(output, r) for r in ar.in_):
            return False
        if ar.nin is not None and any(ratio_of(output, r) for r in ar.nin):
            return False
    if where.job_id is not None and output.job_id != where.job_id:
        return False
    text = where.prompt
    if (
        text is not None
        and text.ilike is not None
        and not like(text.ilike, output.prompt)
    ):
        return False
    if where.and_ is not None and not all(holds(output, w) for w in where.and_):
        return False
    if where.or_ is not None and not any(holds(output, w) for w in where.or_):
        return False
    return where.not_ is None or not holds(output, where.not_)


_ATTR = {
    OutputOrderField.CREATED_AT: "created_at",
    OutputOrderField.WIDTH: "width",
    OutputOrderField.HEIGHT: "height",
    OutputOrderField.INFERENCE_STEPS: "inference_steps",
    OutputOrderField.GUIDANCE_SCALE: "guidance_scale",
}


def expected_order(rows: list[Output], order: list[OutputOrder]) -> list[Output]:
    """Sort as documented: each term with NULLs last, then the id in the first term's
    direction."""
    terms = [(_ATTR[o.field], o.direction) for o in order] or [
        ("created_at", Direction.DESC)
    ]
    terms.append(("id", terms[0][1]))

    def compare(a: Output, b: Output) -> int:
        for attr, direction in terms:
            x, y = getattr(a, attr), getattr(b, attr)
            if x == y:
                continue
            if x is None or y is None:
                return 1 if x is None else -1
            result = -1 if x < y else 1
            return result if direction is Direction.ASC else -result
        return 0

    return sorted(rows, key=functools.cmp_to_key(compare))


# ------------------------------------------------------------- strategies


@st.composite
def output_rows(draw: st.DrawFn, user_id: uuid.UUID) -> list[Output]:
    count = draw(st.integers(30, 60))
    # Drawn ids keep the id tie-break reproducible when Hypothesis replays a case.
    ids = draw(st.lists(st.uuids(), min_size=count, max_size=count, unique=True))
    rows: list[Output] = []
    for i, row_id in enumerate(ids):
        width, height = draw(st.sampled_from(SIZES))
        parents = [r for r in rows if not r.is_upscaled]
        upscale = bool(parents) and draw(st.integers(0, 6)) == 0
        deleted = draw(st.integers(0, 9)) == 0
        rows.append(
            make_output(
                user_id,
                i,
                id=row_id,
                width=width * 4 if upscale else width,
                height=height * 4 if upscale else height,
                seed=draw(st.none() | st.integers(0, 5)),
                prompt=draw(st.sampled_from(PROMPTS)),
                model_id=draw(st.sampled_from(MODELS)),
                scheduler_id=draw(st.none() | st.sampled_from(["DDIM", "K_EULER"])),
                inference_steps=None
                if upscale
                else draw(st.sampled_from([20, 25, 30])),
                guidance_scale=None if upscale else draw(st.sampled_from([5.0, 7.5])),
                source=draw(st.sampled_from(JobSource)),
                gallery_status=draw(st.sampled_from(GalleryStatus)),
                is_favorite=draw(st.booleans()),
                is_public=draw(st.booleans()),
                is_upscaled=upscale,
                upscaled_from_id=draw(st.sampled_from(parents)).id if upscale else None,
                # few distinct instants, so equal timestamps are common
                created_at=T0 + timedelta(seconds=draw(st.integers(0, 6))),
                deleted_at=T0 if deleted else None,
            )
        )
    return rows


def _ints(lo: int, hi: int) -> st.SearchStrategy[IntFilter]:
    one = st.integers(lo, hi)
    many = st.lists(one, max_size=3)
    return st.one_of(
        st.builds(IntFilter, eq=one),
        st.builds(IntFilter, neq=one),
        st.builds(IntFilter, in_=many),
        st.builds(IntFilter, nin=many),
        st.builds(IntFilter, gte=one, lt=st.none() | one),
        st.builds(IntFilter, gt=one),
        st.builds(IntFilter, lte=one),
        st.builds(IntFilter, is_null=st.booleans()),
    )


_leaves = st.one_of(
    st.builds(OutputWhere, width=_ints(500, 2500)),
    st.builds(OutputWhere, height=_ints(500, 2500)),
    st.builds(OutputWhere, inference_steps=_ints(19, 31)),
    st.builds(OutputWhere, seed=_ints(0, 5)),
    st.builds(
        OutputWhere,
        guidance_scale=st.builds(
            FloatFilter,
            eq=st.none() | st.sampled_from([5.0, 7.5]),
            gt=st.none() | st.just(6.0),
        ),
    ),
    st.builds(
        OutputWhere,
        model_id=st.builds(StrFilter, in_=st.lists(st.sampled_from(MODELS))),
    ),
    st.builds(OutputWhere, scheduler_id=st.builds(StrFilter, eq=st.just("DDIM"))),
    st.builds(
        OutputWhere,
        gallery_status=st.builds(
            EnumFilter, nin=st.lists(st.sampled_from(GalleryStatus))
        ),
    ),
    st.builds(OutputWhere, source=st.builds(EnumFilter, eq=st.sampled_from(JobSource))),
    st.builds(OutputWhere, is_favorite=st.builds(BoolFilter, eq=st.booleans())),
    st.builds(OutputWhere, is_upscaled=st.builds(BoolFilter, eq=st.booleans())),
    st.builds(
        OutputWhere,
        aspect_ratio=st.builds(
            EnumFilter, in_=st.lists(st.sampled_from(AspectRatio), max_size=3)
        ),
    ),
    st.builds(
        OutputWhere, aspect_ratio=st.builds(EnumFilter, eq=st.sampled_from(AspectRatio))
    ),
    st.builds(
        OutputWhere,
        created_at=st.builds(
            DateTimeFilter,
            gte=st.none() | st.integers(0, 6).map(lambda s: T0 + timedelta(seconds=s)),
            lt=st.none() | st.integers(0, 6).map(lambda s: T0 + timedelta(seconds=s)),
        ),
    ),
    st.builds(
        OutputWhere,
        prompt=st.builds(
            TextFilter,
            ilike=st.sampled_from(
                ["%cat", "%CAT%", "a red%", "100\\%%", "%\\_%", "_____sky", "%x\\\\y%"]
            ),
        ),
    ),
)


def _depth(where: OutputWhere) -> int:
    children = (
        (where.and_ or []) + (where.or_ or []) + ([where.not_] if where.not_ else [])
    )
    return 1 + max((_depth(c) for c in children), default=0)


wheres = st.recursive(
    _leaves,
    lambda inner: st.one_of(
        st.builds(OutputWhere, and_=st.lists(inner, max_size=3)),
        st.builds(OutputWhere, or_=st.lists(inner, max_size=3)),
        st.builds(OutputWhere, not_=inner),
        st.builds(
            OutputWhere,
            is_public=st.builds(BoolFilter, eq=st.booleans()),
            or_=st.lists(inner, min_size=1, max_size=2),
        ),
    ),
    max_leaves=5,
).filter(lambda w: _depth(w) <= 5)

orders = st.lists(
    st.builds(
        OutputOrder, st.sampled_from(OutputOrderField), st.sampled_from(Direction)
    ),
    max_size=3,
    unique_by=lambda o: o.field,
)


# ------------------------------------------------------------------- tests


async def _reset(db: Database) -> None:
    async with db.session() as session:
        for table in (Output, Job, User):
            await session.execute(sa.delete(table))


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
async def test_walking_every_page_both_ways_matches_a_plain_filter_and_sort(
    db: Database, data: st.DataObject
) -> None:
    # given alice's outputs (some deleted, some upscales, many equal timestamps)
    # and a few of bob's that match anything
    await _reset(db)
    alice, bob = await add_user(db), await add_user(db)
    rows = data.draw(output_rows(alice), label="rows")
    await add_outputs(db, rows)
    await add_outputs(db, [make_output(bob, i) for i in range(3)])
    where = data.draw(st.none() | wheres, label="where")
    order = data.draw(orders, label="order")
    size = data.draw(st.integers(1, 25), label="size")
    deleted = {r.id for r in rows if r.deleted_at is not None}
    live = [
        r for r in rows if r.id not in deleted and r.upscaled_from_id not in deleted
    ]
    expected = [
        r.id
        for r in expected_order(
            [r for r in live if where is None or holds(r, where)], order
        )
    ]

    # when we read every page forwards and then backwards
    query = {"user_id": alice, "where": where, "order": order, "with_total": True}
    forward = await walk(db, size=size, forward=True, **query)
    backward = await walk(db, size=size, forward=False, **query)

    # then both walks give exactly the expected rows, in order, with true flags
    assert ids_of(forward) == expected
    assert ids_of(backward, forward=False) == expected
    for pages in (forward, backward):
        assert {p.total_count for p in pages} == {len(expected)}
    assert [p.has_previous_page for p in forward] == [False] + [True] * (
        len(forward) - 1
    )
    assert [p.has_next_page for p in backward] == [False] + [True] * (len(backward) - 1)
    assert all(len(p.items) == size for p in forward[:-1])


async def test_rows_added_or_deleted_between_pages_are_neither_skipped_nor_repeated(
    db: Database,
) -> None:
    # given 20 outputs sharing four timestamps, read five at a time
    alice = await add_user(db)
    rows = [
        make_output(alice, i, created_at=T0 + timedelta(seconds=i % 4))
        for i in range(20)
    ]
    await add_outputs(db, rows)
    seen: list[uuid.UUID] = []
    cursor = None
    removed: set[uuid.UUID] = set()
    step = 0
    while True:
        async with db.session() as session:
            page = await list_outputs(session, user_id=alice, first=5, after=cursor)
        seen += [o.id for _, o in page.items]
        if not page.has_next_page:
            break
        cursor = page.items[-1][0]
        # when, between pages, a newer output arrives and an unseen one is deleted
        step += 1
        await add_outputs(
            db, [make_output(alice, 100 + step, created_at=T0 + timedelta(days=1))]
        )
        async with db.session() as session:
            victim = await session.scalar(
                sa.select(Output.id)
                .where(
                    Output.user_id == alice, Output.id.not_in(seen), Output.index < 100
                )
                .where(Output.deleted_at.is_(None))
                .limit(1)
            )
            if victim is not None:
                removed.add(victim)
                await session.execute(
                    sa.update(Output).where(Output.id == victim).values(deleted_at=T0)
                )
    # then every surviving original row came exactly once, in order
    survivors = [r for r in expected_order(rows, []) if r.id not in removed]
    assert seen == [r.id for r in survivors]
    assert removed


async def test_nulls_sort_last_in_both_directions(db: Database) -> None:
    # given two generations and two upscales, which have no steps
    alice = await add_user(db)
    rows = [
        make_output(alice, 0, inference_steps=30),
        make_output(alice, 1, inference_steps=None, guidance_scale=None),
        make_output(alice, 2, inference_steps=20),
        make_output(alice, 3, inference_steps=None, guidance_scale=None),
    ]
    await add_outputs(db, rows)
    for direction in Direction:
        order = [OutputOrder(OutputOrderField.INFERENCE_STEPS, direction)]
        # when sorted by steps, read one at a time
        pages = await walk(db, size=1, forward=True, user_id=alice, order=order)
        # then the NULLs come last, tied by id
        by_id = {r.id: r for r in rows}
        steps = [by_id[i].inference_steps for i in ids_of(pages)]
        numbers = [30, 20] if direction is Direction.DESC else [20, 30]
        assert steps == [*numbers, None, None]
        assert ids_of(pages) == [r.id for r in expected_order(rows, order)]


async def test_a_cursor_from_another_order_is_rejected(db: Database) -> None:
    # given a cursor from a listing sorted by width
    alice = await add_user(db)
    await add_outputs(db, [make_output(alice, i) for i in range(3)])
    by_width = [OutputOrder(OutputOrderField.WIDTH, Direction.ASC)]
    async with db.session() as session:
        page = await list_outputs(session, user_id=alice, first=1, order=by_width)
        # when it is used with the default order
        with pytest.raises(ServiceError) as err:
            await list_outputs(session, user_id=alice, first=1, after=page.items[0][0])
    # then it is refused as bad input on `after`
    assert (err.value.code, err.value.field) == (ErrorCode.BAD_USER_INPUT, "after")
    assert "different orderBy" in err.value.message


@pytest.mark.parametrize(
    ("args", "code", "field"),
    [
        ({"first": 0}, ErrorCode.OUT_OF_RANGE, "first"),
        ({"first": 101}, ErrorCode.OUT_OF_RANGE, "first"),
        ({"last": -1}, ErrorCode.OUT_OF_RANGE, "last"),
        ({"first": 5, "last": 5}, ErrorCode.BAD_USER_INPUT, "first"),
        ({"first": 5, "after": "not-a-cursor"}, ErrorCode.BAD_USER_INPUT, "after"),
        ({"last": 5, "before": "eyJ4IjoxfQ"}, ErrorCode.BAD_USER_INPUT, "before"),
        ({"first": 5, "before": "x"}, ErrorCode.BAD_USER_INPUT, "before"),
    ],
)
async def test_bad_paging_arguments_are_refused_never_clamped(
    db: Database, args: dict[str, Any], code: ErrorCode, field: str
) -> None:
    # given a user with outputs
    alice = await add_user(db)
    await add_outputs(db, [make_output(alice, 0)])
    # when the paging arguments are out of range or inconsistent
    async with db.session() as session:
        with pytest.raises(ServiceError) as err:
            await list_outputs(session, user_id=alice, **args)
    # then the call is refused naming the argument
    assert (err.value.code, err.value.field) == (code, field)


@pytest.mark.parametrize(
    ("where", "field"),
    [
        (OutputWhere(width=IntFilter(in_=list(range(101)))), "where.width.in_"),
        (
            OutputWhere(created_at=DateTimeFilter(gt=datetime(2025, 1, 1))),
            "where.created_at.gt",
        ),
        (OutputWhere(prompt=TextFilter(ilike="cat\\")), "where.prompt.ilike"),
        (OutputWhere(prompt=TextFilter(search=" ,. ")), "where.prompt.search"),
        (
            OutputWhere(
                not_=OutputWhere(
                    not_=OutputWhere(
                        not_=OutputWhere(not_=OutputWhere(not_=OutputWhere()))
                    )
                )
            ),
            "where.not_.not_.not_.not_.not_",
        ),
    ],
)
async def test_invalid_filters_are_refused_as_bad_input(
    db: Database, where: OutputWhere, field: str
) -> None:
    # given a user
    alice = await add_user(db)
    # when the filter breaks a limit
    async with db.session() as session:
        with pytest.raises(ServiceError) as err:
            await list_outputs(session, user_id=alice, where=where)
    # then it is refused naming the offending part
    assert err.value.field == field
    assert err.value.code in (ErrorCode.BAD_USER_INPUT, ErrorCode.OUT_OF_RANGE)


async def test_empty_in_matches_nothing_and_empty_filter_everything(
    db: Database,
) -> None:
    # given three outputs
    alice = await add_user(db)
    await add_outputs(db, [make_output(alice, i) for i in range(3)])
    async with db.session() as session:
        # when filtering with an empty list, and with no conditions
        none = await list_outputs(
            session,
            user_id=alice,
            where=OutputWhere(model_id=StrFilter(in_=[])),
            with_total=True,
        )
        every = await list_outputs(
            session, user_id=alice, where=OutputWhere(), with_total=True
        )
    # then the first matches nothing and the second all three
    assert (none.items, none.total_count, none.has_next_page) == ([], 0, False)
    assert every.total_count == 3


async def test_prompt_search_finds_outputs_with_every_word(db: Database) -> None:
    # given prompts that share some words
    alice = await add_user(db)
    prompts = ["A red cat on a mat", "a red dog", "The CAT is red!", "blue cat"]
    await add_outputs(
        db, [make_output(alice, i, prompt=p) for i, p in enumerate(prompts)]
    )
    # when searching for two words in any case and order
    async with db.session() as session:
        page = await list_outputs(
            session,
            user_id=alice,
            where=OutputWhere(prompt=TextFilter(search="Cat, RED")),
            order=[OutputOrder(OutputOrderField.CREATED_AT, Direction.ASC)],
        )
    # then only prompts holding both words match
    assert [o.prompt for _, o in page.items] == [
        "A red cat on a mat",
        "The CAT is red!",
    ]


@pytest.mark.parametrize(
    ("prompt", "index"),
    [
        (TextFilter(ilike="%Cat\\_%"), "ix_outputs_user_prompt_trgm"),
        (TextFilter(search="red CAT"), "ix_outputs_user_prompt_words"),
    ],
)
async def test_prompt_filters_are_the_expressions_postgresql_indexes(
    postgresql_database_url: str, prompt: TextFilter, index: str
) -> None:
    # given the prompt condition as the history builds it
    condition = output_filter(OutputWhere(prompt=prompt), dialect="postgresql")
    sql = (
        sa.select(Output.__table__.c.id)  # type: ignore[attr-defined]  # SQLModel
        .where(condition)
        .compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True})
    )
    database = Database(postgresql_database_url)
    try:
        async with database.engine.connect() as conn:
            # when PostgreSQL plans it with table scans ruled out
            await conn.exec_driver_sql("SET enable_seqscan = off")
            plan = "\n".join(
                row[0] for row in await conn.exec_driver_sql(f"EXPLAIN {sql}")
            )
    finally:
        await database.dispose()
    # then its GIN index serves it: the index expression and operator match
    assert f"Bitmap Index Scan on {index}" in plan, plan


async def test_lookups_hide_deleted_foreign_and_orphaned_upscales(db: Database) -> None:
    # given alice's output with an upscale, a deleted output whose upscale is alive,
    # and bob's output
    alice, bob = await add_user(db), await add_user(db)
    kept = make_output(alice, 0)
    gone = make_output(alice, 1, deleted_at=T0)
    kept_up = make_output(alice, 2, upscaled_from_id=kept.id, is_upscaled=True)
    orphan = make_output(alice, 3, upscaled_from_id=gone.id, is_upscaled=True)
    foreign = make_output(bob, 0)
    await add_outputs(db, [kept, gone, kept_up, orphan, foreign])
    ids = [kept.id, gone.id, kept_up.id, orphan.id, foreign.id]
    async with db.session() as session:
        # when alice looks them up, lists them and asks for their upscales
        found = await get_outputs(session, user_id=alice, ids=ids)
        listed = await list_outputs(session, user_id=alice, with_total=True)
        ups = await upscales_of(session, user_id=alice, output_ids=ids)
    # then she sees only her live output and its upscale
    assert set(found) == {kept.id, kept_up.id}
    assert [o.id for _, o in listed.items] == [kept_up.id, kept.id]
    assert listed.total_count == 2
    assert {k: v.id for k, v in ups.items()} == {kept.id: kept_up.id}
