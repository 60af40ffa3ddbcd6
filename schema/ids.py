"""Global ids: every id in the schema is a Relay global id, made and parsed here.

An id that is malformed, of another type or of another account's object is
indistinguishable from one that does not exist: all are NOT_FOUND, so ids of
other accounts cannot be probed.
"""

import uuid

from strawberry import relay

from core.errors import ErrorCode, ServiceError


def global_id(type_name: str, key: object) -> relay.GlobalID:
    """The global id of a `type_name` object whose own id is `key`."""
    return relay.GlobalID(type_name, str(key))


def row_id(
    value: relay.GlobalID,
    type_name: str,
    *,
    field: str = "id",
    code: ErrorCode = ErrorCode.NOT_FOUND,
) -> uuid.UUID:
    """The row id inside a global id of `type_name`, or a refusal naming `field`
    (NOT_FOUND, unless a filter would rather call it bad input)."""
    if value.type_name == type_name:
        try:
            return uuid.UUID(value.node_id)
        except ValueError:
            pass
    message = (
        f"no such {type_name}"
        if code is ErrorCode.NOT_FOUND
        else (f"{field} must be the id of a {type_name}")
    )
    raise ServiceError(code, message, field)


def optional_row_id(
    value: relay.GlobalID | None, type_name: str, *, field: str
) -> uuid.UUID | None:
    """As row_id, for an optional argument."""
    return None if value is None else row_id(value, type_name, field=field)


def catalog_key(value: str, type_name: str) -> str:
    """A catalog id given as it is ("darkroom-tiny") or inside a global id of
    `type_name` (a Model's `id` from `models`): both name the same entry."""
    try:
        decoded = relay.GlobalID.from_id(value)
    except ValueError:
        return value
    return decoded.node_id if decoded.type_name == type_name else value
