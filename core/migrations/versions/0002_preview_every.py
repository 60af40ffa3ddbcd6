"""rename the stored `previews` setting to `preview_every`

A generation's params column now uses the request's own names from end to end;
only this one key differed. Jobs stored before keep their value under the new
name, so a queued job runs after the upgrade exactly as it was asked for.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JOBS = sa.table("jobs", sa.column("id", sa.Uuid()), sa.column("params", sa.JSON()))


def _rename(old: str, new: str) -> None:
    bind = op.get_bind()
    # Only rows holding the key: the text of a JSON object names its keys quoted.
    holding = sa.cast(JOBS.c.params, sa.Text).like(f'%"{old}"%')
    rows = bind.execute(sa.select(JOBS.c.id, JOBS.c.params).where(holding)).all()
    for job_id, params in rows:
        if isinstance(params, dict) and old in params:
            renamed = {new if k == old else k: v for k, v in params.items()}
            bind.execute(
                JOBS.update().where(JOBS.c.id == job_id).values(params=renamed)
            )


def upgrade() -> None:
    _rename("previews", "preview_every")


def downgrade() -> None:
    _rename("preview_every", "previews")
