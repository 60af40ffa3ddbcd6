"""Error shaping: service refusals keep their codes; surprises are logged and masked."""

import logging

import strawberry
from graphql.error import GraphQLError
from strawberry.extensions import MaskErrors
from strawberry.types import ExecutionContext

from api.http import DATABASE_UNAVAILABLE, RETRY_AFTER_SECONDS
from core.db import is_database_down
from core.errors import ErrorCode, ServiceError, ValidationFailed
from core.logcontext import request_id

log = logging.getLogger("darkroom.api")


class QuietSchema(strawberry.Schema):
    """A Schema that leaves logging to ErrorCodes.

    Strawberry logs every error with a traceback; refusals (bad token, cost,
    rate limit, NOT_FOUND) are answers, not faults, and ErrorCodes already logs
    the unexpected ones.
    """

    def process_errors(
        self,
        errors: list[GraphQLError],
        execution_context: ExecutionContext | None = None,
    ) -> None:
        """Log nothing here."""


class ErrorCodes(MaskErrors):
    """Give every error an extensions.code; mask unexpected ones outside debug."""

    def __init__(self, *, debug: bool = False) -> None:
        super().__init__(error_message="Internal server error.")
        self.debug = debug

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        coded = self._code_all(errors)
        rid = request_id.get()
        if rid is None:
            return coded
        # What a user quotes to find the request's log lines. Copies: a cached
        # validation error is shared by every request that sends its document.
        return [
            GraphQLError(
                error.message,
                nodes=error.nodes,
                source=error.source,
                positions=error.positions,
                path=error.path,
                original_error=error.original_error,
                extensions={**(error.extensions or {}), "requestId": rid},
            )
            for error in coded
        ]

    def _code_all(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        coded: list[GraphQLError] = []
        for error in errors:
            original = error.original_error
            if isinstance(original, ValidationFailed):
                # Several problems with one request: one error each, as a payload's
                # userErrors would list them.
                coded += [_refusal(error, problem) for problem in original.problems]
            else:
                coded.append(self._coded(error))
        return coded

    def _coded(self, error: GraphQLError) -> GraphQLError:
        original = error.original_error
        extensions = dict(error.extensions or {})
        if isinstance(original, ServiceError):
            return _refusal(error, original)
        if original is None or isinstance(original, GraphQLError):
            # Parse and validation errors, or errors that already carry a code.
            extensions.setdefault("code", "BAD_USER_INPUT")
        elif is_database_down(original):
            log_unavailable(original)
            return GraphQLError(
                DATABASE_UNAVAILABLE,
                nodes=error.nodes,
                path=error.path,
                original_error=original,  # the view may run a query again
                extensions={
                    **extensions,
                    "code": ErrorCode.UNAVAILABLE.value,
                    "retryAfter": RETRY_AFTER_SECONDS,
                },
            )
        else:
            log.error("unexpected error in %s", error.path, exc_info=original)
            if not self.debug:
                masked = self.anonymise_error(error)
                masked.extensions = {"code": "INTERNAL"}
                return masked
            extensions["code"] = "INTERNAL"
        error.extensions = extensions
        return error


def log_unavailable(error: BaseException) -> None:
    """One line, no traceback: an outage is expected now and then, not a bug."""
    log.warning("database unavailable: %s", str(error).splitlines()[0][:200])


def _refusal(error: GraphQLError, refusal: ServiceError) -> GraphQLError:
    """The error for one refusal, with its code and the input path it names."""
    extensions = {**(error.extensions or {}), "code": refusal.code.value}
    if refusal.field:
        extensions["field"] = refusal.field.split(".")
    return GraphQLError(
        refusal.message,
        nodes=error.nodes,
        path=error.path,
        original_error=refusal,
        extensions=extensions,
    )
