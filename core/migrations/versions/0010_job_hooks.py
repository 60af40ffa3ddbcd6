"""per-job webhooks

A job may carry its own webhook (URL and events) given at submission; its
deliveries share webhook_deliveries with no endpoint, one per event key, and
are signed with the account's per-job secret, rotated like an endpoint's.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NO_ENDPOINT = sa.text("endpoint_id IS NULL")


def upgrade() -> None:
    op.add_column(
        "jobs",
        sa.Column(
            "webhook_url", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True
        ),
    )
    op.add_column(
        "jobs",
        sa.Column(
            "webhook_events",
            sqlmodel.sql.sqltypes.AutoString(length=100),
            nullable=True,
        ),
    )
    with op.batch_alter_table("webhook_deliveries") as batch:
        batch.alter_column("endpoint_id", existing_type=sa.Uuid(), nullable=True)
    op.create_index(
        "ux_webhook_deliveries_job_hook_event",
        "webhook_deliveries",
        ["event_key"],
        unique=True,
        postgresql_where=NO_ENDPOINT,
        sqlite_where=NO_ENDPOINT,
    )
    op.create_table(
        "job_hook_secrets",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column(
            "secret", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False
        ),
        sa.Column(
            "previous_secret",
            sqlmodel.sql.sqltypes.AutoString(length=100),
            nullable=True,
        ),
        sa.Column("previous_secret_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("user_id"),
    )


def downgrade() -> None:
    op.drop_table("job_hook_secrets")
    op.drop_index("ux_webhook_deliveries_job_hook_event", "webhook_deliveries")
    op.execute("DELETE FROM webhook_deliveries WHERE endpoint_id IS NULL")
    with op.batch_alter_table("webhook_deliveries") as batch:
        batch.alter_column("endpoint_id", existing_type=sa.Uuid(), nullable=False)
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("webhook_events")
        batch.drop_column("webhook_url")
