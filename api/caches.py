"""Parse and validate each distinct query text once: clients send the same few."""

from collections.abc import Iterator
from contextlib import suppress
from functools import lru_cache
from typing import Any

from graphql import (
    ASTValidationRule,
    DocumentNode,
    GraphQLError,
    GraphQLSchema,
    parse,
)
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

# Distinct documents remembered. Unique texts only churn the caches, never grow them.
CACHED_DOCUMENTS = 256


@lru_cache(maxsize=CACHED_DOCUMENTS)
def _parse(query: str, options: tuple[tuple[str, Any], ...]) -> DocumentNode:
    return parse(query, **dict(options))


@lru_cache(maxsize=CACHED_DOCUMENTS)
def _validate(
    schema: GraphQLSchema,
    query: str,
    document: DocumentNode,
    rules: tuple[type[ASTValidationRule], ...],
) -> list[GraphQLError]:
    return validate_document(schema, document, rules)


class CachedParsing(SchemaExtension):
    """Strawberry's ParserCache, except that a document that does not parse is
    left to Strawberry, which reports the syntax error as a request error
    (ParserCache raises it from inside the hook, past the error formatting)."""

    def on_parse(self) -> Iterator[None]:
        ec = self.execution_context
        if ec.query is not None and ec.graphql_document is None:
            options = tuple(sorted(ec.parse_options.items()))
            # One that does not parse is left for Strawberry to parse and report.
            with suppress(GraphQLError):
                ec.graphql_document = _parse(ec.query, options)
        yield


class CachedValidation(SchemaExtension):
    """Strawberry's ValidationCache, but keyed by the query text and polite.

    Keyed by text because hashing a document walks all of it. And it leaves
    alone a request that an earlier check refused (shape, bad strings), where
    ValidationCache would overwrite that refusal with the validation result.
    Place it after those checks.
    """

    def on_validate(self) -> Iterator[None]:
        ec = self.execution_context
        if (
            ec.pre_execution_errors is None
            and ec.query is not None
            and ec.graphql_document is not None
            and ec.validation_rules
        ):
            ec.pre_execution_errors = _validate(
                ec.schema._schema,
                ec.query,
                ec.graphql_document,
                tuple(ec.validation_rules),
            )
        yield
