"""The rows a search ranks on SQLite, and what the API keeps of them.

SQLite has no vector index here, so a search scores every output its filters
select, in numpy. Reading a 50,000-output account's ids and vectors took
250-350 ms a search, against 8 ms of scoring (benchmarks/search.py), so each API
process keeps, per scope (an account, or the gallery):

- the vectors it has read, by output id. A stored vector never changes: only a
  delete (a reindex by another model) ends it, and that moves the `vectors`
  counter, which drops every scope's vectors;
- each statement's result (which outputs it selects) with the scope's counter
  as it was before the read. Triggers move that counter on every write to the
  scope's outputs or vectors (migration 0013), from any process, so a result is
  used only while nothing it depends on has changed: a deleted output, or one
  made private, leaves every search at once.

After a write, the result is read again as ids alone, and only vectors not yet
kept are read. Memory is bounded: whole scopes go, least recently used first.
"""

from collections import OrderedDict
from dataclasses import dataclass, field
from itertools import repeat
from typing import Any
from weakref import WeakKeyDictionary

import numpy as np
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from core.search.index import EMBEDDINGS

# The counters migration 0013's triggers move, beside one per account (its hex id).
GALLERY_SCOPE = "*"
VECTORS_SCOPE = "#"
DEFAULT_MAX_BYTES = 256 * 2**20
_ID_BYTES = 100  # a 32-character str and its dict or list slot, about
_FETCH_CHUNK = 500  # ids per IN (...) when reading vectors not kept yet


@dataclass(frozen=True)
class RowKeys:
    """Rows' ids as stored (32 hex digits) and as two uint64 sort keys each."""

    ids: list[str]
    high: np.ndarray
    low: np.ndarray

    @classmethod
    def of(cls, ids: list[str]) -> "RowKeys":
        # The 128 bits as two big-endian words, decoded at once rather than one
        # UUID object per row.
        words = np.frombuffer(bytes.fromhex("".join(ids)), dtype=">u8").reshape(-1, 2)
        return cls(ids, words[:, 0].astype(np.uint64), words[:, 1].astype(np.uint64))


class VectorStore:
    """Float32 vectors by output id, in one matrix that grows by doubling: a
    fresh 77 MB array per search cost more in page faults than its copy."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}
        self._matrix = np.zeros((0, 0), dtype=np.float32)
        self._high = self._low = np.zeros(0, dtype=np.uint64)

    @property
    def matrix(self) -> np.ndarray:
        """Every kept vector, one row each."""
        return self._matrix[: len(self.index)]

    @property
    def nbytes(self) -> int:
        return self._matrix.nbytes + (_ID_BYTES + 16) * len(self._high)

    def add(self, rows: list[tuple[str, bytes]]) -> None:
        fresh = [row for row in rows if row[0] not in self.index]
        if not fresh:
            return
        size, dimension = len(self.index), len(fresh[0][1]) // 4
        needed = size + len(fresh)
        if needed > len(self._matrix):
            capacity = max(needed, 2 * len(self._matrix))
            grown = np.empty((capacity, dimension), dtype=np.float32)
            high, low = np.empty(capacity, np.uint64), np.empty(capacity, np.uint64)
            if size:
                grown[:size], high[:size], low[:size] = self.matrix, self.high, self.low
            self._matrix, self._high, self._low = grown, high, low
        joined = b"".join(row[1] for row in fresh)
        block = np.frombuffer(joined, dtype=np.float32).reshape(len(fresh), dimension)
        self._matrix[size:needed] = block
        keys = RowKeys.of([row[0] for row in fresh])
        self._high[size:needed], self._low[size:needed] = keys.high, keys.low
        for offset, (output_id, _) in enumerate(fresh):
            self.index[output_id] = size + offset

    @property
    def high(self) -> np.ndarray:
        """Each kept row's id, its first 64 bits (a sort key)."""
        return self._high[: len(self.index)]

    @property
    def low(self) -> np.ndarray:
        """Each kept row's id, its last 64 bits."""
        return self._low[: len(self.index)]

    def rows_of(self, ids: list[str]) -> np.ndarray:
        """Each id's row; -1 for one not kept."""
        return np.fromiter(map(self.index.get, ids, repeat(-1)), np.int64, len(ids))


@dataclass(frozen=True)
class Candidates:
    """The rows one search statement selects: their keys, and their rows in the
    scope's vector store."""

    keys: RowKeys
    rows: np.ndarray
    store: VectorStore

    @property
    def nbytes(self) -> int:
        return (_ID_BYTES + 24) * len(self.keys.ids)  # the ids, rows and sort keys


@dataclass
class _Scope:
    vectors_version: int
    store: VectorStore = field(default_factory=VectorStore)
    results: dict[str, tuple[int, Candidates]] = field(default_factory=dict)

    @property
    def nbytes(self) -> int:
        kept = sum(candidates.nbytes for _, candidates in self.results.values())
        return self.store.nbytes + kept


class CandidateCache:
    """Scopes' vectors and results, least recently used out past `max_bytes`."""

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.max_bytes = max_bytes
        self._scopes: OrderedDict[str, _Scope] = OrderedDict()

    def scope(self, name: str, vectors_version: int) -> _Scope:
        """The scope's kept state, emptied if a vector was deleted since."""
        kept = self._scopes.get(name)
        if kept is None or kept.vectors_version != vectors_version:
            kept = self._scopes[name] = _Scope(vectors_version)
        self._scopes.move_to_end(name)
        return kept

    def trim(self) -> None:
        """Drop the least recently used scopes until the rest fit."""
        total = sum(scope.nbytes for scope in self._scopes.values())
        while self._scopes and total > self.max_bytes:
            _, dropped = self._scopes.popitem(last=False)
            total -= dropped.nbytes


# One per database engine (a test's database never sees another's rows), each
# of this size: darkroom.search sets it from DARKROOM_SEARCH_CACHE_MB.
_caches: "WeakKeyDictionary[sa.Engine, CandidateCache]" = WeakKeyDictionary()
_max_bytes = DEFAULT_MAX_BYTES


def limit_memory(max_bytes: int) -> None:
    """Bound what each database's cache keeps, in bytes; 0 keeps nothing."""
    global _max_bytes
    _max_bytes = max_bytes
    for cache in _caches.values():
        cache.max_bytes = max_bytes
        cache.trim()


def _cache_of(session: AsyncSession) -> CandidateCache:
    engine = session.get_bind()
    assert isinstance(engine, sa.Engine)
    cache = _caches.get(engine)
    if cache is None:
        cache = _caches[engine] = CandidateCache(_max_bytes)
    return cache


async def _versions(session: AsyncSession, scope: str) -> tuple[int, int]:
    """The scope's counter and the vectors' counter now; 0 before a first write."""
    rows = await session.execute(
        sa.text(
            "SELECT scope, version FROM search_versions WHERE scope IN (:scope, :vectors)"
        ),
        {"scope": scope, "vectors": VECTORS_SCOPE},
    )
    found: dict[str, int] = {row[0]: row[1] for row in rows}
    return int(found.get(scope, 0)), int(found.get(VECTORS_SCOPE, 0))


def _statement_key(session: AsyncSession, statement: sa.Select[Any]) -> str:
    """The statement's SQL and bound values: equal keys select the same rows."""
    compiled = statement.compile(dialect=session.get_bind().dialect)
    return f"{compiled.string}|{sorted(compiled.params.items())!r}"


_HEX_OUTPUT_ID = sa.type_coerce(EMBEDDINGS.c.output_id, sa.String)
_HEX_DIGITS = 32


async def _hex_ids(connection: AsyncConnection, ids_only: sa.Select[Any]) -> list[str]:
    """The hex ids `ids_only` selects, read as one string of them all.

    One row rather than one per output: a 50,000-output account's rows, each a
    Row object the garbage collector tracks, set off its full passes (160-210 ms
    at a time, benchmarks/search.py); and they took 36 ms to fetch, against 20.
    """
    selected = ids_only.subquery()
    joined = sa.func.group_concat(next(iter(selected.c)), sa.literal(""))
    text = await connection.scalar(sa.select(joined))
    if not text:
        return []
    return [text[i : i + _HEX_DIGITS] for i in range(0, len(text), _HEX_DIGITS)]


async def read_candidates(
    session: AsyncSession,
    with_vectors: sa.Select[Any],
    ids_only: sa.Select[Any],
    scope: str,
) -> Candidates:
    """The rows `with_vectors` selects (hex id, vector), kept while `scope`
    holds; `ids_only` is the same selection's hex ids without the vectors' join,
    read instead once the scope's vectors are kept."""
    # The counter is read before the rows: rows newer than their counter only
    # cost a read too many later, rows older than it would be kept stale.
    version, vectors_version = await _versions(session, scope)
    cache = _cache_of(session)
    kept = cache.scope(scope, vectors_version)
    kept.results = {k: r for k, r in kept.results.items() if r[0] == version}
    key = _statement_key(session, with_vectors)
    result = kept.results.get(key)
    if result is not None:  # of this version: older ones were dropped above
        return result[1]
    store = kept.store
    connection = await session.connection()
    if not store.index:
        read = [(row[0], row[1]) for row in await connection.execute(with_vectors)]
        store.add(read)
        ids = [row[0] for row in read]
        rows = store.rows_of(ids)
    else:
        ids = await _hex_ids(connection, ids_only)
        rows = store.rows_of(ids)
        absent = np.nonzero(rows < 0)[0]
        if absent.size:
            missing = [ids[i] for i in absent]
            for start in range(0, len(missing), _FETCH_CHUNK):
                chunk = missing[start : start + _FETCH_CHUNK]
                fetched = await connection.execute(
                    sa.select(_HEX_OUTPUT_ID, EMBEDDINGS.c.embedding).where(
                        _HEX_OUTPUT_ID.in_(chunk)
                    )
                )
                store.add([(row[0], row[1]) for row in fetched])
            rows[absent] = store.rows_of(missing)
            # An output without a vector is not a candidate, as in the join.
            if (rows < 0).any():
                have = np.nonzero(rows >= 0)[0]
                ids, rows = [ids[i] for i in have], rows[have]
    keys = RowKeys(ids, store.high[rows], store.low[rows])
    candidates = Candidates(keys, rows, store)
    kept.results[key] = (version, candidates)
    cache.trim()
    return candidates
