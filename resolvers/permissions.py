"""Declarative permissions: authentication first, then the token's scope."""

from typing import Any, ClassVar

from strawberry.permission import BasePermission
from strawberry.types import Info

from core.enums import Scope
from resolvers.context import Context


class IsAuthenticated(BasePermission):
    """The request carries a valid, active API token."""

    message = "A valid API token is required: send `Authorization: Bearer drk_...`."
    # Strawberry reads both per instance; they never change.
    error_extensions = {"code": "UNAUTHENTICATED"}  # noqa: RUF012

    def has_permission(
        self, source: Any, info: Info[Context, Any], **kwargs: Any
    ) -> bool:
        """True when a caller was authenticated for this request."""
        return info.context.caller is not None


class _HasScope(BasePermission):
    scope: ClassVar[Scope]
    error_extensions = {"code": "FORBIDDEN"}  # noqa: RUF012  # read per instance

    @property
    def message(self) -> str:  # type: ignore[override]  # Strawberry reads it as an attribute
        return f"This token lacks the {self.scope.value} scope."

    def has_permission(
        self, source: Any, info: Info[Context, Any], **kwargs: Any
    ) -> bool:
        """True when the caller's token has the scope."""
        caller = info.context.caller
        return caller is not None and self.scope in caller.scopes


class CanGenerate(_HasScope):
    """The token may create, cancel and watch jobs."""

    scope = Scope.GENERATE


class CanRead(_HasScope):
    """The token may read outputs, jobs, usage and credits."""

    scope = Scope.READ


class CanManage(_HasScope):
    """The token may manage tokens, delete outputs and change visibility."""

    scope = Scope.MANAGE


class IsAdmin(_HasScope):
    """The token may moderate the public gallery."""

    scope = Scope.ADMIN


def needs(permission: type[BasePermission]) -> list[type[BasePermission]]:
    """Authentication, then one scope: the usual guard for a field."""
    return [IsAuthenticated, permission]


class CanManageVisibility(BasePermission):
    """Changing isPublic needs MANAGE; favorites need only READ."""

    message = "This token lacks the MANAGE scope, which changing isPublic needs."
    error_extensions = {"code": "FORBIDDEN"}  # noqa: RUF012  # read per instance

    def has_permission(
        self, source: Any, info: Info[Context, Any], **kwargs: Any
    ) -> bool:
        """True unless isPublic is set by a token without MANAGE."""
        update = kwargs.get("input")
        if update is None or getattr(update, "is_public", None) is None:
            return True
        caller = info.context.caller
        return caller is not None and Scope.MANAGE in caller.scopes


# Node types anyone may look up by `node(id)`, without a token or scope.
PUBLIC_NODE_TYPES = frozenset({"GalleryImage"})


def _public_node(kwargs: dict[str, Any]) -> bool:
    gid = kwargs.get("id")
    return getattr(gid, "type_name", None) in PUBLIC_NODE_TYPES


class NodeIsAuthenticated(IsAuthenticated):
    """A token is needed, unless the id is of a public type (a gallery image)."""

    def has_permission(
        self, source: Any, info: Info[Context, Any], **kwargs: Any
    ) -> bool:
        """True for a public node's id, else as IsAuthenticated."""
        return _public_node(kwargs) or super().has_permission(source, info, **kwargs)


class NodeCanRead(CanRead):
    """READ is needed, unless the id is of a public type (a gallery image)."""

    def has_permission(
        self, source: Any, info: Info[Context, Any], **kwargs: Any
    ) -> bool:
        """True for a public node's id, else as CanRead."""
        return _public_node(kwargs) or super().has_permission(source, info, **kwargs)
