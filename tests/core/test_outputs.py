"""Output mutations: visibility rules, all-or-nothing batches, soft delete."""

import uuid
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from core.db import Database
from core.enums import GalleryStatus
from core.errors import ErrorCode, ServiceError
from core.history.queries import get_outputs, list_outputs, upscales_of
from core.models import Output
from core.outputs import (
    delete_outputs,
    remove_files,
    submit_outputs_to_gallery,
    update_outputs,
)
from core.storage import LocalStorage
from tests.core.test_history import T0, add_outputs, add_user, make_output

NS, SUB, WAIT, OK, REJ = (
    GalleryStatus.NOT_SUBMITTED,
    GalleryStatus.SUBMITTED,
    GalleryStatus.WAITING_FOR_APPROVAL,
    GalleryStatus.APPROVED,
    GalleryStatus.REJECTED,
)


async def stored(db: Database, output_id: uuid.UUID) -> Output:
    async with db.session() as session:
        row = await session.get(Output, output_id)
        assert row is not None
        return row


@pytest.mark.parametrize(
    ("before", "was_public", "make_public", "after"),
    [
        (NS, False, True, SUB),
        (SUB, False, True, SUB),
        (WAIT, False, True, WAIT),
        (OK, False, True, OK),
        (REJ, False, True, REJ),
        (NS, True, False, NS),
        (SUB, True, False, NS),
        (WAIT, True, False, NS),
        (OK, True, False, OK),
        (REJ, True, False, REJ),
    ],
)
async def test_visibility_changes_follow_the_gallery_rules(
    db: Database,
    before: GalleryStatus,
    was_public: bool,
    make_public: bool,
    after: GalleryStatus,
) -> None:
    # given a paid user's output in some gallery state
    alice = await add_user(db)
    output = make_output(alice, 0, gallery_status=before, is_public=was_public)
    await add_outputs(db, [output])
    # when she makes it public or private, twice (it is idempotent)
    for _ in range(2):
        async with db.session() as session:
            changed = await update_outputs(
                session,
                user_id=alice,
                ids=[output.id],
                is_public=make_public,
                free_outputs_public=True,
                user_is_free=False,
            )
    # then visibility follows her choice and the status the rules
    row = await stored(db, output.id)
    assert (row.is_public, row.gallery_status) == (make_public, after)
    assert [(o.id, o.is_public) for o in changed] == [(output.id, make_public)]


async def test_favoriting_leaves_visibility_alone(db: Database) -> None:
    # given a private output
    alice = await add_user(db)
    output = make_output(alice, 0)
    await add_outputs(db, [output])
    # when it is favorited
    async with db.session() as session:
        await update_outputs(
            session,
            user_id=alice,
            ids=[output.id],
            is_favorite=True,
            free_outputs_public=True,
            user_is_free=True,
        )
    # then only the favorite flag moved
    row = await stored(db, output.id)
    assert (row.is_favorite, row.is_public, row.gallery_status) == (True, False, NS)


async def test_a_free_user_cannot_make_outputs_private(db: Database) -> None:
    # given a free user's public output while free outputs must stay public
    alice = await add_user(db)
    output = make_output(alice, 0, is_public=True, gallery_status=SUB)
    await add_outputs(db, [output])
    # when she tries to make it private
    async with db.session() as session:
        with pytest.raises(ServiceError) as err:
            await update_outputs(
                session,
                user_id=alice,
                ids=[output.id],
                is_public=False,
                free_outputs_public=True,
                user_is_free=True,
            )
    # then it is forbidden and stays public
    assert (err.value.code, err.value.field) == (ErrorCode.FORBIDDEN, "is_public")
    assert (await stored(db, output.id)).is_public


@pytest.mark.parametrize("intruder", ["foreign", "unknown", "deleted"])
async def test_one_bad_id_changes_nothing_and_reveals_nothing(
    db: Database, intruder: str
) -> None:
    # given alice's output and an id she may not touch
    alice, bob = await add_user(db), await add_user(db)
    mine = make_output(alice, 0)
    theirs = make_output(bob, 0)
    gone = make_output(alice, 1, deleted_at=T0)
    await add_outputs(db, [mine, theirs, gone])
    bad = {"foreign": theirs.id, "unknown": uuid.uuid4(), "deleted": gone.id}[intruder]
    # when any mutation names both
    attempts = [
        lambda s: update_outputs(
            s,
            user_id=alice,
            ids=[mine.id, bad],
            is_favorite=True,
            free_outputs_public=False,
            user_is_free=False,
        ),
        lambda s: submit_outputs_to_gallery(s, user_id=alice, ids=[mine.id, bad]),
        lambda s: delete_outputs(s, user_id=alice, ids=[mine.id, bad]),
    ]
    messages = set()
    for attempt in attempts:
        async with db.session() as session:
            with pytest.raises(ServiceError) as err:
                await attempt(session)
        assert (err.value.code, err.value.field) == (ErrorCode.NOT_FOUND, "ids")
        messages.add(err.value.message)
    # then nothing changed, and the message never names the id
    row = await stored(db, mine.id)
    assert (row.is_favorite, row.gallery_status, row.deleted_at) == (False, NS, None)
    assert str(bad) not in "".join(messages)


async def test_submitting_moves_only_unsubmitted_outputs(db: Database) -> None:
    # given outputs in every gallery state
    alice = await add_user(db)
    outputs = [
        make_output(alice, i, gallery_status=s) for i, s in enumerate(GalleryStatus)
    ]
    await add_outputs(db, outputs)
    # when all are submitted
    async with db.session() as session:
        result = await submit_outputs_to_gallery(
            session, user_id=alice, ids=[o.id for o in outputs]
        )
    # then the unsubmitted one is submitted and public; the others are untouched
    rows = [await stored(db, o.id) for o in outputs]
    assert [(r.gallery_status, r.is_public) for r in rows] == [
        (SUB, True),
        (SUB, False),
        (WAIT, False),
        (OK, False),
        (REJ, False),
    ]
    assert [o.id for o in result] == [o.id for o in outputs]


async def test_deleting_an_output_hides_it_and_its_upscale_everywhere(
    db: Database,
) -> None:
    # given an output, its upscale and another output
    alice = await add_user(db)
    original = make_output(alice, 0)
    upscale = make_output(alice, 1, upscaled_from_id=original.id, is_upscaled=True)
    other = make_output(alice, 2)
    await add_outputs(db, [original, upscale, other])
    moment = T0 + timedelta(days=1)
    # when the original is deleted
    async with db.session() as session:
        deleted = await delete_outputs(
            session, user_id=alice, ids=[original.id], now=moment
        )
    # then both are gone from lists, counts and lookups; the rows remain, stamped
    async with db.session() as session:
        page = await list_outputs(session, user_id=alice, with_total=True)
        found = await get_outputs(session, user_id=alice, ids=[original.id, upscale.id])
        ups = await upscales_of(session, user_id=alice, output_ids=[original.id])
        stamps = (
            await session.scalars(
                sa.select(Output.deleted_at).where(
                    Output.id.in_([original.id, upscale.id])
                )
            )
        ).all()
    assert deleted.ids == [original.id]
    assert sorted(deleted.storage_keys) == sorted(
        [original.storage_key, upscale.storage_key]
    )
    assert ([o.id for _, o in page.items], page.total_count) == ([other.id], 1)
    assert (found, ups) == ({}, {})
    assert stamps == [moment, moment]


async def test_too_many_or_no_ids_are_refused(db: Database) -> None:
    # given a user
    alice = await add_user(db)
    async with db.session() as session:
        # when a batch is empty or larger than 100
        with pytest.raises(ServiceError) as empty:
            await delete_outputs(session, user_id=alice, ids=[])
        with pytest.raises(ServiceError) as huge:
            await submit_outputs_to_gallery(
                session, user_id=alice, ids=[uuid.uuid4() for _ in range(101)]
            )
    # then each is refused on `ids`
    assert (empty.value.code, empty.value.field) == (ErrorCode.REQUIRED, "ids")
    assert (huge.value.code, huge.value.field) == (ErrorCode.OUT_OF_RANGE, "ids")


async def test_removing_files_goes_on_past_a_failure_and_reports_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # given one stored file and one key no storage accepts
    storage = LocalStorage(tmp_path, base_url="http://test", signing_key=b"k" * 32)
    await storage.put("outputs/a/0.png", b"png", "image/png")
    # when both are removed
    failed = await remove_files(storage, keys=["../escape", "outputs/a/0.png"])
    # then the good one is gone and the bad one is reported and logged
    assert failed == ["../escape"]
    assert not await storage.exists("outputs/a/0.png")
    assert "../escape" in caplog.text
