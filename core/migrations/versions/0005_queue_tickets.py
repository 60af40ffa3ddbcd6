"""queue tickets: a place in the queue read from indexes, not by ranking every job

Each lane hands out gapless tickets in dispatch order; the jobs already dispatched
and queued get theirs in today's order (enqueue time, then id), so no place moves.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PARTIAL_INDEXES = {
    "ix_jobs_queued_ticket": (
        ["paid_lane", "queue_ticket"],
        "status = 'QUEUED' AND queue_ticket IS NOT NULL",
    ),
    "ix_jobs_departed_ticket": (
        ["paid_lane", "queue_ticket"],
        "status <> 'QUEUED' AND queue_ticket IS NOT NULL",
    ),
    "ix_jobs_waiting": (
        ["created_at", "id"],
        "status = 'QUEUED' AND enqueued_at IS NULL",
    ),
}


def upgrade() -> None:
    op.add_column("jobs", sa.Column("queue_ticket", sa.BigInteger(), nullable=True))
    lanes = op.create_table(
        "queue_lanes",
        sa.Column("paid", sa.Boolean(), nullable=False),
        sa.Column("issued", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("paid"),
    )
    bind = op.get_bind()
    jobs = sa.table(
        "jobs",
        sa.column("id"),
        sa.column("status"),
        sa.column("paid_lane", sa.Boolean()),
        sa.column("enqueued_at"),
        sa.column("queue_ticket"),
    )
    issued = {}
    for paid in (True, False):
        waiting = list(
            bind.execute(
                sa.select(jobs.c.id)
                .where(
                    jobs.c.status == "QUEUED",
                    jobs.c.enqueued_at.is_not(None),
                    jobs.c.paid_lane == paid,
                )
                .order_by(jobs.c.enqueued_at, jobs.c.id)
            ).scalars()
        )
        for ticket, job_id in enumerate(waiting, start=1):
            bind.execute(
                sa.update(jobs).where(jobs.c.id == job_id).values(queue_ticket=ticket)
            )
        issued[paid] = len(waiting)
    op.bulk_insert(lanes, [{"paid": p, "issued": n} for p, n in issued.items()])
    for name, (columns, where) in PARTIAL_INDEXES.items():
        condition = sa.text(where)
        op.create_index(
            name,
            "jobs",
            columns,
            postgresql_where=condition,
            sqlite_where=condition,
        )
    # The ETA's recent successful runs: the newest finished first, no sort.
    op.create_index("ix_jobs_status_finished", "jobs", ["status", "finished_at"])


def downgrade() -> None:
    op.drop_index("ix_jobs_status_finished", table_name="jobs")
    for name in PARTIAL_INDEXES:
        op.drop_index(name, table_name="jobs")
    op.drop_table("queue_lanes")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("queue_ticket")
