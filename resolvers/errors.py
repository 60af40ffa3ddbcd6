"""Refusals as the client sees them: GraphQL paths and names, never Python's.

Core and jobs name the offending input in Python (`where.and_[0].created_at.gt`,
`negative_prompt`); the field being resolved knows its arguments and input types,
so the path is looked up there (`where._and.0.createdAt._gt`), never guessed.
Mutations return these as userErrors; queries raise them, and api/errors.py
gives each its code and field.
"""

import functools
import re
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, ParamSpec, TypeVar

from strawberry.types import Info
from strawberry.types.base import StrawberryContainer, has_object_definition

from core.errors import ServiceError, ValidationFailed
from schema.errors import UserError

P = ParamSpec("P")
T = TypeVar("T")
_SEGMENT = re.compile(r"[^.\[\]]+")


def graphql_path(field: str, info: Info[Any, Any]) -> list[str]:
    """The GraphQL path of a Python field path, within the field being resolved.

    A first segment that is not an argument is a field of the `input` argument.
    """
    names = info.schema.config.name_converter
    segments = _SEGMENT.findall(field)
    arguments = {a.python_name: a for a in info._field.arguments}
    if segments and segments[0] in arguments:
        argument = arguments[segments.pop(0)]
    elif "input" in arguments:
        argument = arguments["input"]
    else:
        return segments
    path = [names.from_argument(argument)]
    owner = _input_class(argument.type)
    for segment in segments:
        found = None
        if owner is not None and not segment.isdigit():
            fields = owner.__strawberry_definition__.fields
            found = next((f for f in fields if f.python_name == segment), None)
        if found is None:
            path.append(segment)  # a list index, or nothing we know: as it is
            continue
        path.append(names.get_graphql_name(found))
        owner = _input_class(found.type)
    return path


def in_graphql_terms(err: ServiceError, info: Info[Any, Any]) -> ServiceError:
    """The same refusal with GraphQL paths in its fields and messages."""
    if isinstance(err, ValidationFailed):
        return ValidationFailed([in_graphql_terms(p, info) for p in err.problems])
    if err.field is None:
        return err
    path = graphql_path(err.field, info)
    message = _renamed(err.message, err.field, path)
    return ServiceError(err.code, message, ".".join(path))


def user_errors(err: ServiceError, info: Info[Any, Any]) -> list[UserError]:
    """A mutation's payload errors for a refusal, one per problem."""
    problems: Iterable[ServiceError] = (
        err.problems if isinstance(err, ValidationFailed) else [err]
    )
    errors = []
    for problem in problems:
        mapped = in_graphql_terms(problem, info)
        field = None if mapped.field is None else mapped.field.split(".")
        errors.append(UserError(field=field, code=mapped.code, message=mapped.message))
    return errors


def refusals_in_graphql_terms(
    resolver: Callable[P, Awaitable[T]],
) -> Callable[P, Awaitable[T]]:
    """Decorate a query resolver so that its refusals name GraphQL paths."""

    @functools.wraps(resolver)
    async def resolve(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return await resolver(*args, **kwargs)
        except ServiceError as err:
            info = kwargs["info"]
            raise in_graphql_terms(err, info) from None  # type: ignore[arg-type]  # Strawberry passes info by name

    return resolve


def _renamed(message: str, field: str, path: list[str]) -> str:
    """The message with the field's Python names replaced by their GraphQL ones."""
    python = _SEGMENT.findall(field)
    # The path may start with an implicit `input`; line the names up from the end.
    pairs = zip(reversed(python), reversed(path), strict=False)
    for old, new in pairs:
        if old != new:
            message = re.sub(rf"(?<![\w]){re.escape(old)}(?![\w])", new, message)
    return message


def _input_class(annotation: Any) -> Any:
    """The input class inside an Optional or list annotation, if it is one."""
    while isinstance(annotation, StrawberryContainer):
        annotation = annotation.of_type
    return annotation if has_object_definition(annotation) else None
