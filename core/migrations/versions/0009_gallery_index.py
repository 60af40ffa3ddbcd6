"""gallery indexes: the public gallery and the review queue without a scan

Two partial indexes on PostgreSQL (SQLite reads the few rows without them): the
approved public live outputs newest first, which the gallery pages through, and
the public live outputs awaiting review, oldest first, for moderators.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

POSTGRESQL_INDEXES = {
    "ix_outputs_gallery": (
        "(created_at DESC, id DESC) WHERE is_public"
        " AND gallery_status = 'APPROVED' AND deleted_at IS NULL"
    ),
    "ix_outputs_gallery_pending": (
        "(created_at, id) WHERE is_public"
        " AND gallery_status IN ('SUBMITTED', 'WAITING_FOR_APPROVAL')"
        " AND deleted_at IS NULL"
    ),
}


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, definition in POSTGRESQL_INDEXES.items():
        op.execute(f"CREATE INDEX {name} ON outputs {definition}")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name in POSTGRESQL_INDEXES:
        op.drop_index(name, table_name="outputs")
