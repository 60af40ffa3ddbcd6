"""drop ix_jobs_status: it made queue places scan every queued job

A queue that grows faster than autovacuum analyzes the table (a burst on a table
of finished jobs) leaves statistics saying QUEUED is rare. The planner then read
each lane's head and tail through this narrow index on status alone, sorting
every queued row, rather than through ix_jobs_queued_ticket: 0.4 to 0.5 s a
subquery, 4.5 s for one job's place at 100,000 queued (benchmarks/scale.py).
Every query it served, ix_jobs_status_finished (status first) serves too.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch_op:
        batch_op.drop_index("ix_jobs_status")


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch_op:
        batch_op.create_index("ix_jobs_status", ["status"], unique=False)
