"""The class behind a type of the running schema, for a back-reference.

A Job lists its Outputs and an Output names its Job: if both modules imported each
other, the domains would form a cycle. The referring side imports the other as
usual; the one pointing back finds the class through the schema being executed,
which Strawberry has already built from both.
"""

from typing import Any

from strawberry.types import Info
from strawberry.types.base import StrawberryObjectDefinition


def schema_class(info: Info[Any, Any], type_name: str) -> Any:
    """The Strawberry class the schema knows as `type_name`."""
    definition = info.schema.get_type_by_name(type_name)
    assert isinstance(definition, StrawberryObjectDefinition), type_name
    return definition.origin
