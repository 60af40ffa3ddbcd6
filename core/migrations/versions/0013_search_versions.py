"""search_versions: a counter per account (and one for the gallery) that every
write to its outputs or their vectors moves, on SQLite

SQLite's search scores an account's vectors in numpy, and reading a 50,000-output
account's ids and vectors took 250-350 ms a search (benchmarks/search.py). The API
keeps what it read, with the account's counter then; a search whose counter has
not moved since ranks those same rows again without reading them
(core/search/candidates.py). Triggers move
the counters, so a write from any process (the worker, `darkroom search
reindex`) is seen. PostgreSQL scores in SQL with pgvector and needs none of this.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The gallery spans accounts: every write moves its counter too. The vectors'
# counter moves when a stored vector is deleted or changed (a reindex by another
# model), which no kept vector may outlive.
GALLERY_SCOPE = "*"
VECTORS_SCOPE = "#"


def _bump(owner: str, *, vectors: bool = False) -> str:
    """Move the counters of the account `owner` (an SQL expression) and the
    gallery, and with `vectors` the vectors' counter."""
    more = f" UNION ALL SELECT '{VECTORS_SCOPE}', 1" if vectors else ""
    return (
        "INSERT INTO search_versions (scope, version)"
        f" SELECT {owner}, 1 WHERE {owner} IS NOT NULL"
        f" UNION ALL SELECT '{GALLERY_SCOPE}', 1{more}"
        " ON CONFLICT (scope) DO UPDATE SET version = version + 1;"
    )


_OWNER_OF = "(SELECT user_id FROM outputs WHERE id = {row}.output_id)"

# No trigger on inserting an output: it has no vector yet, so no search finds it
# until its vector's insert moves the counters; a bulk load pays for one trigger
# a row the fewer.
TRIGGERS = {
    "search_versions_output_update": (
        "AFTER UPDATE ON outputs",
        _bump("NEW.user_id") + _bump("OLD.user_id"),
    ),
    "search_versions_output_delete": ("AFTER DELETE ON outputs", _bump("OLD.user_id")),
    "search_versions_vector_insert": (
        "AFTER INSERT ON output_embeddings",
        _bump(_OWNER_OF.format(row="NEW")),
    ),
    "search_versions_vector_delete": (
        "AFTER DELETE ON output_embeddings",
        _bump(_OWNER_OF.format(row="OLD"), vectors=True),
    ),
    "search_versions_vector_update": (
        "AFTER UPDATE ON output_embeddings",
        _bump(_OWNER_OF.format(row="NEW"), vectors=True),
    ),
}


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        return
    op.execute(
        "CREATE TABLE search_versions ("
        "scope VARCHAR(32) PRIMARY KEY, version INTEGER NOT NULL) WITHOUT ROWID"
    )
    for name, (event, body) in TRIGGERS.items():
        op.execute(f"CREATE TRIGGER {name} {event} BEGIN {body} END")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        return
    for name in TRIGGERS:
        op.execute(f"DROP TRIGGER {name}")
    op.execute("DROP TABLE search_versions")
