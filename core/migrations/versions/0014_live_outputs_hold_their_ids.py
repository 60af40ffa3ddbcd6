"""ix_outputs_user_live holds each output's id too

A search on SQLite reads an account's ids again after each write to it; an
account's live outputs then came from this index but each id from its table row:
a 50,000-output account's ids took 55 ms in SQLite, 25 ms with the id in the
index (benchmarks/search.py, 'first after a write'). On PostgreSQL a history
page's ids can come from an index-only scan the same way.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = "ix_outputs_user_live"
LIVE = sa.text("deleted_at IS NULL")


def _replace(columns: list[str]) -> None:
    op.drop_index(NAME, table_name="outputs")
    op.create_index(NAME, "outputs", columns, postgresql_where=LIVE, sqlite_where=LIVE)


def upgrade() -> None:
    _replace(["user_id", "upscaled_from_id", "id"])


def downgrade() -> None:
    _replace(["user_id", "upscaled_from_id"])
