"""Refuse NUL and unpaired surrogates in every string an operation brings in.

This is the API's one check of core.text's rule, for every String and ID input
on every transport (JSON, GET, multipart, both websocket protocols). It would sit
most naturally in the String and ID scalars, but graphql-core 3.3 refuses to
redefine its built-in scalars, so it runs as a schema extension instead: after
parsing, before validation, so a refusal is an ordinary pre-execution error
(BAD_USER_INPUT, nothing executed, nothing charged) and the SDL is untouched.
"""

from collections.abc import Iterator, Mapping
from typing import Any

from graphql import DocumentNode, GraphQLError, StringValueNode, Visitor, visit
from strawberry.extensions import SchemaExtension

from core.errors import ErrorCode
from core.text import text_problem

# A request full of bad strings gets this many errors back, not one per string.
MAX_REPORTED = 10


class TextInputRules(SchemaExtension):
    """Refuse an operation whose variables or string literals hold refused text."""

    def on_validate(self) -> Iterator[None]:
        """Check before graphql-core validates; a refusal skips validation."""
        ec = self.execution_context
        if ec.pre_execution_errors is not None:  # refused already: leave it be
            yield
            return
        variables = ec.variables if isinstance(ec.variables, Mapping) else {}
        errors = list(_variable_errors(variables))
        if ec.graphql_document is not None:
            errors += _literal_errors(ec.graphql_document)
        if errors:
            # Strawberry validates only while no pre-execution errors are set, then
            # returns these as the result without executing.
            ec.pre_execution_errors = errors[:MAX_REPORTED]
        yield


def _error(message: str, *, nodes: Any = None) -> GraphQLError:
    return GraphQLError(
        message, nodes=nodes, extensions={"code": ErrorCode.BAD_USER_INPUT.value}
    )


def _variable_errors(variables: Mapping[str, Any]) -> Iterator[GraphQLError]:
    for name, value in variables.items():
        if problem := text_problem(name):
            yield _error(f"A variable name has invalid text: {problem}.")
            continue
        for path, problem in _problems(value, name):
            yield _error(f'Variable "${name}" has invalid text at "{path}": {problem}.')


def _problems(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """(path, problem) for each refused string in a JSON value, keys included."""
    if isinstance(value, str):
        if problem := text_problem(value):
            yield path, problem
    elif isinstance(value, Mapping):
        for key, item in value.items():
            if problem := text_problem(str(key)):
                # The key itself cannot go in the message: point at its parent.
                yield path, f"a field name: {problem}"
                continue
            yield from _problems(item, f"{path}.{key}")
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _problems(item, f"{path}[{index}]")


def _literal_errors(document: DocumentNode) -> list[GraphQLError]:
    """The lexer already refuses surrogates and raw NUL; a "\\u0000" escape is left."""
    literals = _StringLiterals()
    visit(document, literals)
    return literals.errors


class _StringLiterals(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.errors: list[GraphQLError] = []

    def enter_string_value(self, node: StringValueNode, *_args: Any) -> None:
        if problem := text_problem(node.value):
            message = f"String value has invalid text: {problem}."
            self.errors.append(_error(message, nodes=node))
