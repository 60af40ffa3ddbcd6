"""Error shaping: service refusals keep their codes; surprises are logged and masked."""

import logging
from collections.abc import Iterable

from core.errors import ServiceError, ValidationFailed
from schema.user_error import UserError

log = logging.getLogger("darkroom.api")

# Core names fields in Python; payload errors point at the GraphQL input path.
_SPECIAL_FIELDS = {"ids": ["ids"], "id": ["id"], "wait": ["wait"], "file": ["file"]}


def input_path(field: str | None) -> list[str] | None:
    """Map a Python field name to its GraphQL input path (`negative_prompt` to input.negativePrompt)."""
    if field is None:
        return None
    if field in _SPECIAL_FIELDS:
        return _SPECIAL_FIELDS[field]
    head, *rest = field.split("_")
    return ["input", head + "".join(part.title() for part in rest)]


def user_errors(err: ServiceError) -> list[UserError]:
    """The payload errors for a refusal, one per problem."""
    problems: Iterable[ServiceError] = (
        err.problems if isinstance(err, ValidationFailed) else [err]
    )
    return [
        UserError(field=input_path(p.field), code=p.code.value, message=p.message)
        for p in problems
    ]
