"""search: prompt vectors per output, the model that made them, full-text words

On PostgreSQL the vectors are pgvector's vector(384) with an HNSW index (cosine)
when the extension is available; without it the column is bytea and search stays
off until it is (core.search.index converts the column when search starts).
On SQLite the vectors are float32 bytes and the words an FTS5 table.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DIMENSION = 384  # all-MiniLM-L6-v2, the bundled model


def upgrade() -> None:
    op.create_table(
        "search_index",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "model_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False
        ),
        sa.Column("dimension", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "output_embeddings",
        sa.Column("output_id", sa.Uuid(), nullable=False),
        sa.Column("embedding", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["output_id"], ["outputs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("output_id"),
    )
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        op.execute(
            "CREATE VIRTUAL TABLE output_words USING fts5("
            "output_id UNINDEXED, prompt, tokenize='unicode61 remove_diacritics 2')"
        )
        return
    available = bind.execute(
        sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'")
    ).scalar()
    if available:
        op.execute("CREATE EXTENSION IF NOT EXISTS vector")
        op.execute(
            "ALTER TABLE output_embeddings ALTER COLUMN embedding"
            f" TYPE vector({DIMENSION}) USING NULL"
        )
        op.execute(
            "CREATE INDEX ix_output_embeddings_hnsw ON output_embeddings"
            " USING hnsw (embedding vector_cosine_ops)"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        op.execute("DROP TABLE output_words")
    op.drop_table("output_embeddings")
    op.drop_table("search_index")
