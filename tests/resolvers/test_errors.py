"""Error shaping: codes for refusals, masking for surprises, paths for payloads."""

import logging

import pytest
from graphql.error import GraphQLError

from api.errors import ErrorCodes
from core.errors import ErrorCode, ServiceError, ValidationFailed
from resolvers.errors import input_path, user_errors


def test_a_refusal_keeps_its_code_and_field() -> None:
    error = GraphQLError(
        "no", original_error=ServiceError(ErrorCode.NOT_FOUND, "no", "id")
    )
    [coded] = ErrorCodes()._process_errors([error])
    assert coded.extensions == {"code": "NOT_FOUND", "field": "id"}


def test_an_unexpected_error_is_logged_and_masked(
    caplog: pytest.LogCaptureFixture,
) -> None:
    error = GraphQLError("db password is hunter2", original_error=RuntimeError("boom"))
    with caplog.at_level(logging.ERROR, logger="darkroom.api"):
        [masked] = ErrorCodes()._process_errors([error])
    assert masked.message == "Internal server error."
    assert masked.extensions == {"code": "INTERNAL"}
    assert "unexpected error" in caplog.text


def test_debug_shows_the_unexpected_error_with_its_code() -> None:
    error = GraphQLError("boom", original_error=RuntimeError("boom"))
    [shown] = ErrorCodes(debug=True)._process_errors([error])
    assert shown.message == "boom"
    assert shown.extensions == {"code": "INTERNAL"}


def test_a_validation_error_is_bad_user_input() -> None:
    [coded] = ErrorCodes()._process_errors([GraphQLError("Cannot query field 'x'")])
    assert coded.extensions == {"code": "BAD_USER_INPUT"}


def test_python_field_names_map_to_input_paths() -> None:
    assert input_path("negative_prompt") == ["input", "negativePrompt"]
    assert input_path("width") == ["input", "width"]
    assert input_path("ids") == ["ids"]
    assert input_path(None) is None


def test_every_problem_becomes_one_user_error() -> None:
    problems = [
        ServiceError(ErrorCode.INVALID_SIZE, "width bad", "width"),
        ServiceError(ErrorCode.UNKNOWN_SCHEDULER, "scheduler bad", "scheduler_id"),
    ]
    errors = user_errors(ValidationFailed(problems))
    assert [(e.field, e.code) for e in errors] == [
        (["input", "width"], "INVALID_SIZE"),
        (["input", "schedulerId"], "UNKNOWN_SCHEDULER"),
    ]
