"""The search ranking on both engines, with hand-made vectors: order, word
matches, filters inside the search, cursors, counts, the model guard.

tests/resolvers/test_search.py runs the real model through GraphQL.
"""

import uuid

import numpy as np
import pytest

from core.db import Database
from core.errors import ServiceError
from core.history.filters import IntFilter, OutputWhere, output_filter
from core.history.paging import check_window
from core.history.queries import visible_outputs
from core.search.index import (
    IndexMismatch,
    Unindexed,
    adopt_model,
    count_unindexed,
    open_index,
    store_vectors,
    unindexed_outputs,
)
from core.search.ranking import (
    MIN_SIMILARITY,
    Ranking,
    _cosines,
    check_search_text,
    ranked_page,
)
from tests.core.test_history import T0, add_outputs, add_user, make_output

DIM = 8


def unit(*weights: float) -> np.ndarray:
    vector = np.zeros(DIM, dtype=np.float32)
    vector[: len(weights)] = weights
    return vector / np.linalg.norm(vector)


def towards(similarity: float) -> np.ndarray:
    """A unit vector with exactly this cosine to unit(1)."""
    return unit(similarity, float(np.sqrt(1 - similarity**2)))


async def index_all(db: Database, vectors: dict[uuid.UUID, np.ndarray]) -> None:
    await adopt_model(db, model_id="hand-made", dimension=DIM)
    async with db.session() as session:
        pending = await unindexed_outputs(session, after=None, limit=10_000)
        await store_vectors(session, [(item, vectors[item.id]) for item in pending])


async def search(db, user_id, ranking, *, where=None, first=10, after=None, total=True):
    async with db.session() as session:
        dialect = session.get_bind().dialect.name
        outputs = visible_outputs(user_id).where(output_filter(where, dialect=dialect))
        window = check_window(first=first, after=after, last=None, before=None)
        return await ranked_page(
            session,
            outputs,
            ranking,
            window=window,
            with_total=total,
            scope=user_id.hex,
        )


async def walk(db, user_id, ranking, *, where=None, first=3):
    seen, after, pages = [], None, 0
    while True:
        page = await search(db, user_id, ranking, where=where, first=first, after=after)
        seen += [(output.id, score) for _, (output, score) in page.items]
        pages += 1
        if not page.has_next_page:
            return seen, page.total_count, pages
        after = page.items[-1][0]


async def test_outputs_rank_by_similarity_words_first_and_unrelated_left_out(
    search_db: Database,
) -> None:
    db = search_db
    user = await add_user(db)
    rows = [
        make_output(user, 0, prompt="a lighthouse at dusk"),
        make_output(user, 1, prompt="the zx81-orchid in bloom"),
        make_output(user, 2, prompt="a lighthouse in fog"),
        make_output(user, 3, prompt="a bowl of soup"),
    ]
    await add_outputs(db, rows)
    vectors = {
        rows[0].id: towards(0.9),
        rows[1].id: towards(0.1),  # unrelated in meaning, but holds the words
        rows[2].id: towards(0.6),
        rows[3].id: towards(MIN_SIMILARITY - 0.05),
    }
    await index_all(db, vectors)
    ranking = Ranking(vector=unit(1), words="zx81-orchid", key="t")
    page = await search(db, user, ranking)
    got = [(output.id, round(score, 4)) for _, (output, score) in page.items]
    assert got == [(rows[1].id, 1.1), (rows[0].id, 0.9), (rows[2].id, 0.6)]
    assert page.total_count == 3
    assert not page.has_next_page


async def test_paging_through_ties_neither_skips_nor_repeats(
    search_db: Database,
) -> None:
    db = search_db
    user = await add_user(db)
    # Four images per prompt share a vector: their scores tie exactly.
    rows = [make_output(user, i, prompt=f"prompt {i // 4}") for i in range(23)]
    await add_outputs(db, rows)
    vectors = {row.id: towards(0.4 + 0.1 * (row.index // 4)) for row in rows}
    await index_all(db, vectors)
    seen, total, pages = await walk(db, user, Ranking(vector=unit(1), words=None))
    assert sorted(output_id for output_id, _ in seen) == sorted(r.id for r in rows)
    assert total == 23
    assert pages == 8
    keys = [(-score, -output_id.int) for output_id, score in seen]
    assert keys == sorted(keys)


async def test_filters_apply_inside_the_search_not_after_a_cut(
    search_db: Database,
) -> None:
    db = search_db
    user = await add_user(db)
    # The 30 closest are narrow; the 5 wide ones are the least similar.
    rows = [make_output(user, i, width=512) for i in range(30)]
    rows += [make_output(user, 30 + i, width=1024) for i in range(5)]
    await add_outputs(db, rows)
    vectors = {
        row.id: towards(0.95 - 0.01 * row.index if row.width == 512 else 0.35)
        for row in rows
    }
    await index_all(db, vectors)
    wide = OutputWhere(width=IntFilter(gte=1000))
    page = await search(db, user, Ranking(vector=unit(1), words=None), where=wide)
    assert len(page.items) == 5
    assert page.total_count == 5


async def test_another_accounts_and_deleted_outputs_never_match(
    search_db: Database,
) -> None:
    db = search_db
    mine, theirs = await add_user(db), await add_user(db)
    rows = [make_output(mine, 0), make_output(mine, 1), make_output(theirs, 0)]
    await add_outputs(db, rows)
    await index_all(db, {row.id: unit(1) for row in rows})
    async with db.session() as session:
        deleted = await session.get(type(rows[1]), rows[1].id)
        deleted.deleted_at = deleted.created_at
    seen, total, _ = await walk(db, mine, Ranking(vector=unit(1), words="cat"))
    assert [output_id for output_id, _ in seen] == [rows[0].id]
    assert total == 1


async def test_similar_to_leaves_the_output_itself_out(search_db: Database) -> None:
    db = search_db
    user = await add_user(db)
    rows = [make_output(user, i) for i in range(3)]
    await add_outputs(db, rows)
    await index_all(db, {row.id: unit(1) for row in rows})
    ranking = Ranking(vector=unit(1), words=None, exclude=rows[0].id, key="x")
    seen, _, _ = await walk(db, user, ranking)
    assert {output_id for output_id, _ in seen} == {rows[1].id, rows[2].id}


async def test_a_cursor_from_another_search_is_refused(search_db: Database) -> None:
    db = search_db
    user = await add_user(db)
    await add_outputs(db, [make_output(user, i) for i in range(3)])
    rows = await _all_unindexed(db)
    await index_all(db, {row.id: unit(1) for row in rows})
    page = await search(db, user, Ranking(vector=unit(1), words=None, key="a"), first=1)
    with pytest.raises(ServiceError) as refused:
        await search(
            db,
            user,
            Ranking(vector=unit(1), words=None, key="b"),
            after=page.items[0][0],
        )
    assert refused.value.code == "BAD_USER_INPUT"


async def _all_unindexed(db: Database) -> list[Unindexed]:
    async with db.session() as session:
        return await unindexed_outputs(session, after=None, limit=1000)


async def test_reindexing_resumes_and_a_new_model_empties_the_index(
    search_db: Database,
) -> None:
    db = search_db
    user = await add_user(db)
    await add_outputs(db, [make_output(user, i) for i in range(5)])
    await add_outputs(db, [make_output(user, 5, prompt="")])  # nothing to embed
    await open_index(db, model_id="model-a", dimension=DIM)
    async with db.session() as session:
        first_two = await unindexed_outputs(session, after=None, limit=2)
        await store_vectors(session, [(item, unit(1)) for item in first_two])
        await store_vectors(session, [(item, unit(1)) for item in first_two])  # again
    async with db.session() as session:
        assert await count_unindexed(session) == 3
        rest = await unindexed_outputs(session, after=first_two[-1].id, limit=10)
        assert len(rest) == 3
    assert not await adopt_model(db, model_id="model-a", dimension=DIM)
    with pytest.raises(IndexMismatch, match="darkroom search reindex"):
        await open_index(db, model_id="model-b", dimension=DIM)
    assert await adopt_model(db, model_id="model-b", dimension=DIM)
    async with db.session() as session:
        assert await count_unindexed(session) == 5
    await open_index(db, model_id="model-b", dimension=DIM)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "BAD_USER_INPUT"),
        ("   ", "BAD_USER_INPUT"),
        ("a\x00b", "BAD_USER_INPUT"),
        ("\ud800", "BAD_USER_INPUT"),
        ("x" * 501, "TOO_LONG"),
    ],
)
def test_unsearchable_text_is_a_coded_error(text: str, code: str) -> None:
    with pytest.raises(ServiceError) as refused:
        check_search_text(text)
    assert refused.value.code == code
    assert refused.value.field == "search"


async def test_the_gallery_ranks_only_public_approved_outputs(
    search_db: Database,
) -> None:
    from core.enums import GalleryStatus
    from core.search.queries import search_gallery

    db = search_db
    one, two = await add_user(db), await add_user(db)
    approved = GalleryStatus.APPROVED
    rows = [
        make_output(one, 0, is_public=True, gallery_status=approved),
        make_output(two, 0, is_public=True, gallery_status=approved),
        make_output(one, 1, is_public=True, gallery_status=GalleryStatus.SUBMITTED),
        make_output(two, 1, is_public=False, gallery_status=approved),
        make_output(one, 2, is_public=True, gallery_status=approved, deleted_at=T0),
    ]
    await add_outputs(db, rows)
    await index_all(db, {row.id: towards(0.5 + 0.1 * i) for i, row in enumerate(rows)})
    async with db.session() as session:
        page = await search_gallery(
            session, ranking=Ranking(vector=unit(1), words="cat"), with_total=True
        )
    assert [output.id for _, (output, _) in page.items] == [rows[1].id, rows[0].id]
    assert page.total_count == 2


async def test_a_large_account_ranks_its_nearest_and_word_matches_on_both_engines(
    search_db: Database,
) -> None:
    # given an account past the exact-scoring limit (PostgreSQL then ranks the
    # HNSW-nearest candidates): a few close prompts, one rare word far away, the
    # rest unrelated, and another account's even closer output
    from core.search.queries import EXACT_LIMIT, search_outputs

    db = search_db
    mine, theirs = await add_user(db), await add_user(db)
    close = [make_output(mine, i, prompt="a dog") for i in range(5)]
    rare = make_output(mine, 5, prompt="the zx81 orchid")
    unrelated = [make_output(mine, 6 + i) for i in range(EXACT_LIMIT)]
    foreign = make_output(theirs, 0, prompt="a dog")
    await add_outputs(db, [*close, rare, *unrelated, foreign])
    vectors = {row.id: towards(0.9 - 0.1 * row.index) for row in close}
    vectors |= {row.id: unit(0, 0, 1) for row in unrelated}
    vectors |= {rare.id: towards(0.1), foreign.id: unit(1)}
    await index_all(db, vectors)
    # when it searches, paging two at a time
    seen, after = [], None
    while True:
        async with db.reading() as session:
            page = await search_outputs(
                session,
                user_id=mine,
                ranking=Ranking(vector=unit(1), words="zx81", key="zx81"),
                first=2,
                after=after,
                with_total=True,
            )
        seen += [output.id for _, (output, _) in page.items]
        if not page.has_next_page:
            break
        after = page.items[-1][0]
    # then the word match leads, the close ones follow nearest first, nothing
    # unrelated or foreign comes, and the count is those six
    assert seen == [rare.id, *(row.id for row in close)]
    assert page.total_count == 6


def test_scores_in_blocks_equal_those_of_the_whole_matrix() -> None:
    # given more rows than one scoring block holds, unit-length float32 rows
    rng = np.random.default_rng(7)
    matrix = rng.standard_normal((5_000, 384)).astype(np.float32)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    query = matrix[4_321]
    # when they are scored block by block
    scores = _cosines(matrix, query)
    # then every score is the whole float64 product's, to the rounding ranks use
    whole = matrix.astype(np.float64) @ query.astype(np.float64)
    assert np.array_equal(np.round(scores, 9), np.round(whole, 9))
    assert scores.argmax() == 4_321
