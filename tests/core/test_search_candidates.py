"""What SQLite's search keeps of the rows it read (core.search.candidates): kept
while the account (or the gallery) is unchanged, read again after any write to
it, from this process or another, and its vectors read once."""

import sqlite3
import uuid
from collections.abc import AsyncIterator

import numpy as np
import pytest
import sqlalchemy as sa

from core.db import Database
from core.enums import GalleryStatus
from core.models import Output
from core.outputs import delete_outputs, update_outputs
from core.search.candidates import CandidateCache, VectorStore
from core.search.queries import search_gallery, search_outputs
from core.search.ranking import Ranking
from tests.conftest import _empty_tables
from tests.core.test_history import add_outputs, add_user, make_output
from tests.core.test_search_ranking import index_all, unit


@pytest.fixture
async def db(sqlite_database_url: str) -> AsyncIterator[Database]:
    database = Database(sqlite_database_url)
    await _empty_tables(database)
    yield database
    await database.dispose()


class VectorReads:
    """Counts the statements that read stored vectors, on every engine of `db`."""

    def __init__(self, db: Database) -> None:
        self.count = 0
        for engine in {db.engine.sync_engine, db._read_engine.sync_engine}:
            sa.event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, _conn, _cursor, statement: str, *_args) -> None:
        if "output_embeddings.embedding" in statement:
            self.count += 1


async def found(db: Database, user_id: uuid.UUID) -> list[uuid.UUID]:
    async with db.reading() as session:
        page = await search_outputs(
            session,
            user_id=user_id,
            ranking=Ranking(vector=unit(1), words=None),
            first=50,
        )
    return sorted(output.id for _, (output, _) in page.items)


async def test_a_search_reads_its_rows_again_only_after_a_write_to_its_account(
    db: Database,
) -> None:
    mine, theirs = await add_user(db), await add_user(db)
    rows = [make_output(mine, i) for i in range(3)] + [make_output(theirs, 0)]
    await add_outputs(db, rows)
    await index_all(db, {row.id: unit(1) for row in rows})
    reads = VectorReads(db)
    ids = sorted(row.id for row in rows[:3])

    assert await found(db, mine) == ids
    assert await found(db, mine) == ids
    assert reads.count == 1

    # Another account's write leaves this one's rows kept.
    more = make_output(theirs, 1)
    await add_outputs(db, [more])
    await index_all(db, {more.id: unit(1)})
    assert await found(db, mine) == ids
    assert reads.count == 1

    # A delete here is seen at once; the ids are read again, the vectors kept.
    async with db.session() as session:
        await delete_outputs(session, user_id=mine, ids=[rows[0].id])
    assert await found(db, mine) == sorted(r.id for r in rows[1:3])
    assert reads.count == 1

    # So is a new output, once its vector is stored: that one vector is read.
    new = make_output(mine, 7)
    await add_outputs(db, [new])
    assert await found(db, mine) == sorted(r.id for r in rows[1:3])
    await index_all(db, {new.id: unit(1)})
    assert await found(db, mine) == sorted([new.id, rows[1].id, rows[2].id])
    assert reads.count == 2  # that vector alone


async def test_a_write_from_another_process_is_seen(
    db: Database, sqlite_database_url: str
) -> None:
    user = await add_user(db)
    rows = [make_output(user, i) for i in range(2)]
    await add_outputs(db, rows)
    await index_all(db, {row.id: unit(1) for row in rows})
    assert len(await found(db, user)) == 2
    # As `darkroom search reindex` would, with a connection of its own.
    path = sqlite_database_url.split(":///", 1)[1]
    with sqlite3.connect(path) as other:
        other.execute(
            "DELETE FROM output_embeddings WHERE output_id = ?", (rows[0].id.hex,)
        )
    assert await found(db, user) == [rows[1].id]


async def test_an_output_made_private_leaves_the_gallery_at_once(db: Database) -> None:
    user = await add_user(db)
    approved = GalleryStatus.APPROVED
    rows = [
        make_output(user, i, is_public=True, gallery_status=approved) for i in range(2)
    ]
    await add_outputs(db, rows)
    await index_all(db, {row.id: unit(1) for row in rows})

    async def gallery() -> set[uuid.UUID]:
        async with db.reading() as session:
            page = await search_gallery(
                session, ranking=Ranking(vector=unit(1), words=None)
            )
        return {output.id for _, (output, _) in page.items}

    assert await gallery() == {rows[0].id, rows[1].id}
    async with db.session() as session:
        await update_outputs(
            session,
            user_id=user,
            ids=[rows[0].id],
            is_public=False,
            free_outputs_public=True,
            user_is_free=False,
        )
    assert await gallery() == {rows[1].id}
    async with db.session() as session:
        await session.execute(
            sa.update(Output).where(Output.id == rows[1].id).values(prompt="a dog")
        )
    assert await gallery() == {rows[1].id}  # still there, read again


def vectors(count: int) -> list[tuple[str, bytes]]:
    return [
        (uuid.uuid4().hex, np.full(4, i, dtype=np.float32).tobytes())
        for i in range(count)
    ]


def test_the_store_keeps_each_vector_once_at_a_stable_row() -> None:
    store = VectorStore()
    first, second = vectors(3), vectors(2000)
    store.add(first)
    store.add(first + second)  # grows, and skips the three it has
    assert store.matrix.shape == (2003, 4)
    assert store.rows_of([first[1][0], second[-1][0]]).tolist() == [1, 2002]
    assert store.matrix[1].tolist() == [1.0] * 4
    assert store.matrix[2002].tolist() == [1999.0] * 4


def test_the_cache_drops_whole_scopes_least_recently_used_first() -> None:
    cache = CandidateCache(max_bytes=10**9)
    for name in ("a", "b", "c"):
        cache.scope(name, vectors_version=1).store.add(vectors(100))
    size = cache.scope("a", 1).nbytes  # "b" is now the least recently used
    cache.max_bytes = 2 * size
    cache.trim()
    assert cache.scope("b", 1).store.index == {}  # dropped: a fresh scope
    assert len(cache.scope("a", 1).store.index) == 100
    # A vector deleted since (another model's reindex): nothing kept survives.
    assert cache.scope("a", vectors_version=2).store.index == {}
