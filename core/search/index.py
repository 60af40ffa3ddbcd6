"""The search index: one prompt vector per output, the model that made them, and
(on SQLite) the words for full-text matching.

Vectors are float32, L2-normalized, one per output with a prompt. PostgreSQL
keeps them in pgvector's vector(n); SQLite as raw float32 bytes beside an FTS5
table of the prompts (PostgreSQL matches words with to_tsvector instead).
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import Database
from core.models import Output, SearchIndex, output_embeddings, utcnow

OUTPUTS: sa.Table = Output.__table__  # type: ignore[attr-defined]  # set by SQLModel
EMBEDDINGS = output_embeddings
HNSW_INDEX = "ix_output_embeddings_hnsw"


class SearchUnavailable(Exception):  # noqa: N818  # reads as the state it reports
    """Search cannot run on this deployment; the message says what to do."""


class IndexMismatch(SearchUnavailable):
    """The index was built by another model than the one configured."""


@dataclass(frozen=True)
class Unindexed:
    """An output whose prompt has no vector yet."""

    id: uuid.UUID
    prompt: str


class VectorType(sa.types.UserDefinedType[str]):
    """pgvector's type, for casting a bound '[x,y,...]' text to a vector."""

    cache_ok = True

    def get_col_spec(self, **_: object) -> str:
        return "vector"


def as_float32(vector: np.ndarray) -> np.ndarray:
    """One vector as contiguous float32."""
    return np.ascontiguousarray(vector, dtype=np.float32).reshape(-1)


def _text(vector: np.ndarray) -> str:
    # repr of a float32 widened to float is exact, so the value survives the trip.
    return "[" + ",".join(repr(float(x)) for x in as_float32(vector)) + "]"


def pg_vector(vector: np.ndarray) -> sa.ColumnElement[str]:
    """A bound vector for PostgreSQL, cast from its exact text."""
    return sa.cast(sa.bindparam(None, _text(vector), type_=sa.String), VectorType())


async def _column_type(session: AsyncSession) -> str:
    """The embedding column's type on PostgreSQL: 'vector(384)', or 'bytea'."""
    found = await session.scalar(
        sa.text(
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute"
            " WHERE attrelid = 'output_embeddings'::regclass AND attname = 'embedding'"
        )
    )
    return str(found)


async def _use_dimension(session: AsyncSession, dimension: int) -> None:
    """Give PostgreSQL's (empty) embedding column vector(dimension) and its index."""
    available = await session.scalar(
        sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'")
    )
    if not available:
        raise SearchUnavailable(
            "search on PostgreSQL needs the pgvector extension, which this server"
            " lacks: install it (https://github.com/pgvector/pgvector) or set"
            " DARKROOM_SEARCH=off"
        )
    if await _column_type(session) == f"vector({dimension})":
        return
    await session.execute(sa.text("CREATE EXTENSION IF NOT EXISTS vector"))
    await session.execute(sa.text(f"DROP INDEX IF EXISTS {HNSW_INDEX}"))
    await session.execute(sa.delete(EMBEDDINGS))
    await session.execute(
        sa.text(
            "ALTER TABLE output_embeddings ALTER COLUMN embedding"
            f" TYPE vector({int(dimension)}) USING NULL"
        )
    )
    await session.execute(
        sa.text(
            f"CREATE INDEX {HNSW_INDEX} ON output_embeddings"
            " USING hnsw (embedding vector_cosine_ops)"
        )
    )


async def can_search(db: Database) -> bool:
    """Whether this database can hold vectors: SQLite always, PostgreSQL with pgvector."""
    if db.is_sqlite:
        return True
    async with db.reading() as session:
        available = await session.scalar(
            sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'")
        )
    return available is not None


async def open_index(db: Database, *, model_id: str, dimension: int) -> None:
    """Check at start-up that the index can take this model's vectors.

    A new index adopts the model. One built by another model is refused: its
    vectors and the new ones would be compared as if they were alike.
    """
    async with db.session() as session:
        if not db.is_sqlite:
            column = await _column_type(session)
            if not column.startswith("vector"):
                await _use_dimension(session, dimension)
        index = await session.get(SearchIndex, 1)
        if index is None:
            if not db.is_sqlite:
                await _use_dimension(session, dimension)
            session.add(SearchIndex(model_id=model_id, dimension=dimension))
            return
        if index.model_id != model_id or index.dimension != dimension:
            raise IndexMismatch(
                f"the search index was built by {index.model_id} ({index.dimension}"
                f" dimensions) and this process is configured with {model_id}"
                f" ({dimension}); run `darkroom search reindex` to rebuild it"
            )


async def adopt_model(db: Database, *, model_id: str, dimension: int) -> bool:
    """Make the index this model's, emptying it if another model built it.

    True when it was emptied (a rebuild starts); False when it already was this
    model's, so a reindex resumes where it stopped.
    """
    async with db.session() as session:
        index = await session.get(SearchIndex, 1)
        if index is not None and (index.model_id, index.dimension) == (
            model_id,
            dimension,
        ):
            return False
        await session.execute(sa.delete(EMBEDDINGS))
        if db.is_sqlite:
            await session.execute(sa.text("DELETE FROM output_words"))
        else:
            await _use_dimension(session, dimension)
        if index is None:
            session.add(SearchIndex(model_id=model_id, dimension=dimension))
        else:
            index.model_id, index.dimension, index.updated_at = (
                model_id,
                dimension,
                utcnow(),
            )
        return True


def _unindexed() -> sa.Select[tuple[uuid.UUID, str]]:
    has_vector = (
        sa.select(sa.literal(1)).where(EMBEDDINGS.c.output_id == OUTPUTS.c.id).exists()
    )
    return sa.select(OUTPUTS.c.id, OUTPUTS.c.prompt).where(
        OUTPUTS.c.prompt != "", OUTPUTS.c.deleted_at.is_(None), ~has_vector
    )


async def unindexed_outputs(
    session: AsyncSession, *, after: uuid.UUID | None, limit: int
) -> list[Unindexed]:
    """Live outputs with a prompt and no vector, by id, after `after`."""
    stmt = _unindexed().order_by(OUTPUTS.c.id).limit(limit)
    if after is not None:
        stmt = stmt.where(OUTPUTS.c.id > after)
    rows = (await session.execute(stmt)).all()
    return [Unindexed(id=row.id, prompt=row.prompt) for row in rows]


async def count_unindexed(session: AsyncSession) -> int:
    """How many live outputs with a prompt have no vector."""
    counted = _unindexed().with_only_columns(sa.func.count()).order_by(None)
    return int(await session.scalar(counted) or 0)


async def store_vectors(
    session: AsyncSession, items: Sequence[tuple[Unindexed, np.ndarray]]
) -> None:
    """Write each output's vector (and on SQLite its words); repeats are no-ops."""
    if not items:
        return
    ids = [item.id for item, _ in items]
    existing = set(
        (
            await session.scalars(
                sa.select(EMBEDDINGS.c.output_id).where(EMBEDDINGS.c.output_id.in_(ids))
            )
        ).all()
    )
    fresh = [(item, vector) for item, vector in items if item.id not in existing]
    if not fresh:
        return
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(
            sa.text(
                "INSERT INTO output_embeddings (output_id, embedding)"
                " VALUES (:id, CAST(:vector AS vector)) ON CONFLICT DO NOTHING"
            ),
            [{"id": item.id, "vector": _text(vector)} for item, vector in fresh],
        )
        return
    await session.execute(
        EMBEDDINGS.insert(),
        [
            {"output_id": item.id, "embedding": as_float32(vector).tobytes()}
            for item, vector in fresh
        ],
    )
    await session.execute(
        sa.text("INSERT INTO output_words (output_id, prompt) VALUES (:id, :prompt)"),
        [{"id": item.id.hex, "prompt": item.prompt} for item, _ in fresh],
    )
