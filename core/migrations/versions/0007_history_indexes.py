"""history indexes: a heavy account's pages, filters and counts without a scan

Keyset indexes for every output order, an index-only count of live outputs, and
on PostgreSQL trigram and full-text GIN indexes over (account, prompt) for the
prompt filters (pg_trgm and btree_gin, trusted extensions the database owner may
create).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ORDER_INDEXES = {
    "ix_outputs_user_width": ["user_id", "width", "id"],
    "ix_outputs_user_height": ["user_id", "height", "id"],
    "ix_outputs_user_steps": ["user_id", "inference_steps", "id"],
    "ix_outputs_user_guidance": ["user_id", "guidance_scale", "id"],
}
PARTIAL_INDEXES = {
    "ix_outputs_user_live": (["user_id", "upscaled_from_id"], "deleted_at IS NULL"),
    "ix_outputs_user_deleted": (["user_id", "id"], "deleted_at IS NOT NULL"),
}
POSTGRESQL_INDEXES = {
    "ix_outputs_user_prompt_trgm": "USING gin (user_id, prompt gin_trgm_ops)",
    # The very expression core.history.filters builds for prompt.search.
    "ix_outputs_user_prompt_words": (
        "USING gin (user_id, to_tsvector('simple'::regconfig, prompt))"
    ),
    "ix_outputs_user_steps_desc": (
        "(user_id, inference_steps DESC NULLS LAST, id DESC)"
    ),
    "ix_outputs_user_guidance_desc": (
        "(user_id, guidance_scale DESC NULLS LAST, id DESC)"
    ),
}


def upgrade() -> None:
    for name, columns in ORDER_INDEXES.items():
        op.create_index(name, "outputs", columns)
    for name, (columns, where) in PARTIAL_INDEXES.items():
        condition = sa.text(where)
        op.create_index(
            name, "outputs", columns, postgresql_where=condition, sqlite_where=condition
        )
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    with_account = (
        op.get_bind()
        .execute(
            sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'btree_gin'")
        )
        .scalar()
    )
    if with_account:
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gin")  # user_id in a GIN index
    for name, definition in POSTGRESQL_INDEXES.items():
        if not with_account:
            # Some builds lack btree_gin (pgserver's, which brings pgvector): the
            # prompt alone, which PostgreSQL then ANDs with the account's rows.
            definition = definition.replace("(user_id, ", "(")
        op.execute(f"CREATE INDEX {name} ON outputs {definition}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name in POSTGRESQL_INDEXES:
            op.drop_index(name, table_name="outputs")
        # The extensions stay: they may have been there before 0007, for other uses.
    for name in [*PARTIAL_INDEXES, *ORDER_INDEXES]:
        op.drop_index(name, table_name="outputs")
