"""Rank outputs by a search: prompt vectors fused with full-text word matches.

One score per output, the same on every page, so keyset cursors page through the
ranking without a skip or a repeat:

    score = cosine(query, prompt) + WORD_BONUS if every query word is in the prompt
          = cosine(query, prompt)              otherwise

An output matches when its words do or its cosine reaches MIN_SIMILARITY, so a
rare exact word ("zx81-orchid") ranks first and a paraphrase still ranks above
prompts about something else. Filters are part of the statement the ranking
runs over, never applied after a top-k cut, and `totalCount` counts matches.

PostgreSQL computes the cosines (pgvector) and matches the words (to_tsvector,
its GIN index); SQLite has neither vectors nor extension loading here, so its
vectors are scored exactly in numpy (one account's outputs, within milliseconds)
and its words matched with FTS5 (what it reads is kept while nothing it depends on
changes: core.search.candidates). Both then rank, page and count in numpy.
"""

import hashlib
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import ErrorCode, ServiceError
from core.history.paging import (
    Direction,
    Page,
    SortKey,
    Window,
    decode_cursor,
    encode_cursor,
)
from core.models import Output
from core.search.candidates import RowKeys, read_candidates
from core.search.index import EMBEDDINGS, OUTPUTS, pg_vector
from core.text import text_problem

# Measured with all-MiniLM-L6-v2: paraphrases score 0.5-0.8, unrelated prompts
# below 0.2 (tests/engine/test_embedding.py prints both ranges).
MIN_SIMILARITY = 0.3
WORD_BONUS = 1.0
MAX_SEARCH_LENGTH = 500
# The HNSW candidate list per step; more finds more of the true nearest (recall).
HNSW_EF_SEARCH = 200
# Scores are rounded so that the last bits of a float sum (which BLAS may add in
# another order for another number of rows) never move an output across a cursor.
_DECIMALS = 9
# Rows scored per block on SQLite: 2,048 x 384 float64 is 6 MB, which glibc hands
# back from its heap rather than from a fresh mapping.
_SCORE_BLOCK = 2048
_WORD = re.compile(r"\w+")
_LOW = 2**64 - 1  # a UUID's 128 bits as two uint64 sort keys


@dataclass(frozen=True)
class Ranking:
    """What to rank by: a query vector, the words to match, an output to leave out."""

    vector: np.ndarray
    words: str | None
    exclude: uuid.UUID | None = None
    # Which search this is, so a cursor from one search does not fit another.
    key: str = ""


def check_search_text(text: str, field: str = "search") -> str:
    """The search text, stripped; a coded error when it cannot be searched for."""
    problem = text_problem(text)
    if problem is not None:
        raise ServiceError(ErrorCode.BAD_USER_INPUT, f"{field}: {problem}", field)
    stripped = text.strip()
    if not stripped:
        raise ServiceError(
            ErrorCode.BAD_USER_INPUT, f"{field} needs some text to search for", field
        )
    if len(stripped) > MAX_SEARCH_LENGTH:
        raise ServiceError(
            ErrorCode.TOO_LONG,
            f"{field} is {len(stripped)} characters; at most {MAX_SEARCH_LENGTH}",
            field,
        )
    return stripped


def _spec(ranking: Ranking) -> str:
    return hashlib.sha256(f"search|{ranking.key}".encode()).hexdigest()[:12]


_SCORE_KEYS = [
    SortKey("score", sa.literal_column("score"), Direction.DESC, float),
    SortKey("id", OUTPUTS.c.id, Direction.DESC, uuid.UUID),
]


async def ranked_page(
    session: AsyncSession,
    outputs: sa.Select[Any],
    ranking: Ranking,
    *,
    window: Window,
    with_total: bool,
    scope: str,
    nearest: int | None = None,
) -> Page[tuple[Output, float]]:
    """One page of `outputs` (a filtered select of Output rows) in ranking order,
    each with its score; `window` reads forwards only.

    `scope` is what the outputs are drawn from, an account's hex id or the
    gallery: on SQLite, its rows are read again only after a write to it.

    `nearest` ranks only that many outputs closest by pgvector's HNSW index (an
    approximate, filtered, iterative scan), plus every word match: for sets too
    large to score each time, such as the gallery. Exact everywhere else.
    """
    if not window.forward:
        raise ServiceError(
            ErrorCode.BAD_USER_INPUT,
            "a search pages forwards only: use first and after",
            "last",
        )
    if ranking.exclude is not None:
        outputs = outputs.where(OUTPUTS.c.id != ranking.exclude)
    with_vectors = outputs.join(EMBEDDINGS, EMBEDDINGS.c.output_id == OUTPUTS.c.id)
    if session.get_bind().dialect.name != "postgresql":
        return await _in_numpy(
            session, outputs, with_vectors, ranking, window, with_total, scope
        )
    return await _in_postgresql(
        session, with_vectors, ranking, window, with_total, nearest
    )


def _words(text: str | None) -> list[str]:
    return _WORD.findall(text.lower()) if text else []


def _distance(ranking: Ranking) -> sa.ColumnElement[float]:
    return EMBEDDINGS.c.embedding.op("<=>", return_type=sa.Float)(
        pg_vector(ranking.vector)
    )


def _holds_words(ranking: Ranking) -> sa.ColumnElement[bool]:
    """The very expression ix_outputs_user_prompt_words indexes, matched."""
    vector = sa.func.to_tsvector(sa.literal_column("'simple'"), OUTPUTS.c.prompt)
    query = sa.func.plainto_tsquery(sa.literal_column("'simple'"), ranking.words)
    return vector.op("@@")(query)


async def _in_postgresql(
    session: AsyncSession,
    outputs: sa.Select[Any],
    ranking: Ranking,
    window: Window,
    with_total: bool,
    nearest: int | None,
) -> Page[tuple[Output, float]]:
    """Rank the outputs (with `nearest`, those the HNSW index finds closest) and
    every word match.

    Short statements give the candidates with their cosines, computed by
    pgvector; the ranking, the keyset and the count are then done here, as for
    SQLite. One ranking statement in SQL was slower at every size: its plan
    hashed every stored vector, whatever the account (110 ms for an account of
    150 outputs among 200,000), and scored all of a large account's before
    keeping the candidates.
    """
    distance = _distance(ranking)
    similarity = sa.cast(1 - distance, sa.Float)
    # Planned for these values each time: after five runs of a prepared statement
    # PostgreSQL may switch to a generic plan, which knows neither the account nor
    # the vector and sorted a large account's every distance (3 s instead of 40 ms).
    await session.execute(sa.text("SET LOCAL plan_cache_mode = force_custom_plan"))
    candidates = near = outputs.with_only_columns(OUTPUTS.c.id, similarity)
    if nearest is not None:
        # The index yields rows nearest first and keeps scanning past those the
        # filters drop (relaxed order: the scores order them again below).
        await session.execute(sa.text("SET LOCAL hnsw.iterative_scan = relaxed_order"))
        await session.execute(
            sa.text(f"SET LOCAL hnsw.ef_search = {int(HNSW_EF_SEARCH)}")
        )
        candidates = near.order_by(distance).limit(nearest)
    cosines = {row[0]: row[1] for row in await session.execute(candidates)}
    worded: set[str] = set()
    if _words(ranking.words) and (nearest is not None or cosines):
        holding = near.where(_holds_words(ranking))
        found = {row[0]: row[1] for row in await session.execute(holding)}
        cosines.update(found)
        worded = {output_id.hex for output_id in found}
    keys = RowKeys.of([output_id.hex for output_id in cosines])
    similarities = np.fromiter(cosines.values(), dtype=np.float64, count=len(cosines))
    return await _ranked_ids(
        session, keys, similarities, worded, ranking, window, with_total
    )


async def _in_numpy(
    session: AsyncSession,
    outputs: sa.Select[Any],
    with_vectors: sa.Select[Any],
    ranking: Ranking,
    window: Window,
    with_total: bool,
    scope: str,
) -> Page[tuple[Output, float]]:
    # Core rows, the id as its stored hex: a 50,000-output account spent more
    # time building ORM rows and UUIDs than reading and scoring its vectors.
    hex_id = sa.type_coerce(OUTPUTS.c.id, sa.String)
    candidates = await read_candidates(
        session,
        with_vectors.with_only_columns(hex_id, EMBEDDINGS.c.embedding),
        outputs.with_only_columns(hex_id),
        scope,
    )
    keys = candidates.keys
    similarities = np.zeros(0)
    if keys.ids:
        # Every kept vector of the scope is scored (8 ms for 50,000), then the
        # candidates' taken: gathering their rows first would copy the matrix.
        scored = _cosines(candidates.store.matrix, ranking.vector)
        similarities = scored[candidates.rows]
    words = _words(ranking.words)
    worded = await _worded(session, words) if words and keys.ids else set()
    return await _ranked_ids(
        session, keys, similarities, worded, ranking, window, with_total
    )


def _cosines(matrix: np.ndarray, vector: np.ndarray) -> np.ndarray:
    """Each float32 row's dot with the query, in float64, a block of rows at a time.

    Widening the whole matrix at once allocated 8 bytes a value afresh on every
    search (150 MB for a 50,000-output account): 30 ms when the memory came back
    warm, up to 480 ms when its pages had to be faulted in again, against 8 ms in
    blocks that the allocator reuses. Each row's sum is the same either way.
    """
    query = np.asarray(vector, dtype=np.float64).reshape(-1)
    scores = np.empty(len(matrix), dtype=np.float64)
    for start in range(0, len(matrix), _SCORE_BLOCK):
        block = matrix[start : start + _SCORE_BLOCK]
        scores[start : start + len(block)] = block.astype(np.float64) @ query
    return scores


async def _ranked_ids(
    session: AsyncSession,
    keys: RowKeys,
    similarities: np.ndarray,
    worded: set[str],
    ranking: Ranking,
    window: Window,
    with_total: bool,
) -> Page[tuple[Output, float]]:
    """The page of the matching rows by their cosines and which of them hold
    every word: best score first, the id breaking ties."""
    ids, high, low = keys.ids, keys.high, keys.low
    scores = np.round(similarities, _DECIMALS)
    matches = scores >= MIN_SIMILARITY
    if worded:
        bonus = np.fromiter((i in worded for i in ids), dtype=bool, count=len(ids))
        scores = scores + WORD_BONUS * bonus
        matches |= bonus
    # Best first, the id (descending) breaking ties: lexsort's last key leads,
    # and the reversed ascending order is descending on every key.
    matched = np.nonzero(matches)[0]
    order = matched[np.lexsort((low[matched], high[matched], scores[matched]))[::-1]]
    spec = _spec(ranking)
    start = 0
    if window.cursor is not None:
        score, last = decode_cursor(
            window.cursor, spec=spec, keys=_SCORE_KEYS, field="after"
        )
        assert isinstance(score, float)
        assert isinstance(last, uuid.UUID)
        at_hi, at_lo = np.uint64(last.int >> 64), np.uint64(last.int & _LOW)
        s_, h_, l_ = scores[order], high[order], low[order]
        # Rows at or before the cursor: a higher score, or equal and a higher id.
        before = (s_ > score) | (
            (s_ == score) & ((h_ > at_hi) | ((h_ == at_hi) & (l_ >= at_lo)))
        )
        start = int(before.sum())
    chosen = [
        (uuid.UUID(hex=ids[i]), float(scores[i]))
        for i in order[start : start + window.size]
    ]
    found = await _outputs_by_id(session, [output_id for output_id, _ in chosen])
    items = [
        (encode_cursor(spec, [score, output_id]), (found[output_id], score))
        for output_id, score in chosen
        if output_id in found
    ]
    return Page(
        items=items,
        has_next_page=start + window.size < len(order),
        has_previous_page=start > 0,
        total_count=len(order) if with_total else None,
    )


async def _worded(session: AsyncSession, words: Sequence[str]) -> set[str]:
    """The hex ids of outputs whose prompt holds every word (FTS5, each word
    quoted literally)."""
    query = " ".join(f'"{word}"' for word in words)
    found = await session.scalars(
        sa.text("SELECT output_id FROM output_words WHERE output_words MATCH :q"),
        {"q": query},
    )
    return set(found)


async def _outputs_by_id(
    session: AsyncSession, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, Output]:
    if not ids:
        return {}
    rows = await session.scalars(sa.select(Output).where(OUTPUTS.c.id.in_(ids)))
    return {row.id: row for row in rows}
