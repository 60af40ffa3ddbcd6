"""schema.graphql is the exported schema: a change to the code must be exported."""

from pathlib import Path

from strawberry.printer import print_schema

from api.schema import schema

SCHEMA_FILE = Path(__file__).parent.parent.parent / "schema.graphql"


def test_the_committed_schema_matches_the_code() -> None:
    exported = print_schema(schema) + "\n"
    assert SCHEMA_FILE.read_text() == exported, (
        "schema.graphql is stale: run `strawberry export-schema api.schema:schema "
        "--output schema.graphql`"
    )
