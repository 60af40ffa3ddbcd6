"""Error shaping: codes for refusals, masking for surprises, paths for payloads."""

import logging

import pytest
from graphql.error import GraphQLError

from api.errors import ErrorCodes
from core.errors import ErrorCode, ServiceError, ValidationFailed
from tests.conftest import Api


def test_a_refusal_keeps_its_code_and_field() -> None:
    error = GraphQLError(
        "no", original_error=ServiceError(ErrorCode.NOT_FOUND, "no", "id")
    )
    [coded] = ErrorCodes()._process_errors([error])
    assert coded.extensions == {"code": "NOT_FOUND", "field": ["id"]}


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


def test_several_problems_in_a_query_become_one_error_each() -> None:
    problems = [
        ServiceError(ErrorCode.OUT_OF_RANGE, "first bad", "first"),
        ServiceError(ErrorCode.BAD_USER_INPUT, "where bad", "where.width"),
    ]
    error = GraphQLError("x", original_error=ValidationFailed(problems))
    coded = ErrorCodes()._process_errors([error])
    assert [(e.message, e.extensions) for e in coded] == [
        ("first bad", {"code": "OUT_OF_RANGE", "field": ["first"]}),
        ("where bad", {"code": "BAD_USER_INPUT", "field": ["where", "width"]}),
    ]


GENERATE = """mutation($input: GenerationCreateInput!) {
  generationCreate(input: $input) { job { id } userErrors { field code message } }
}"""
OUTPUTS = """query($where: OutputWhere) {
  outputs(first: 1, where: $where) { edges { cursor } }
}"""


def test_payload_errors_name_graphql_input_paths_in_field_and_message(
    api: Api,
) -> None:
    # given a token
    token = api.account("paths@example.com", credits=10)
    # when a generation breaks rules of two fields with multi-word names
    body = api.data(
        GENERATE,
        {"input": {"prompt": "x", "negativePrompt": "n" * 501, "inferenceSteps": 0}},
        token=token,
    )
    # then each userError names the GraphQL path, in field and message alike
    errors = body["generationCreate"]["userErrors"]
    assert [e["field"] for e in errors] == [
        ["input", "negativePrompt"],
        ["input", "inferenceSteps"],
    ]
    assert errors[0]["message"].startswith("negativePrompt must be")
    assert errors[1]["message"].startswith("inferenceSteps must be")
    assert not any("_" in e["message"].split()[0] for e in errors)


def test_query_errors_name_graphql_paths_inside_filters(api: Api) -> None:
    # given a token
    token = api.account("filters@example.com")
    # when a nested filter holds a time without a UTC offset
    where = {"_or": [{"createdAt": {"_gte": "2026-01-01T00:00:00"}}]}
    body = api.post(OUTPUTS, {"where": where}, token=token)
    # then the error's field and message use the schema's names
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == ["where", "_or", "0", "createdAt", "_gte"]
    assert error["message"].startswith("where._or[0].createdAt._gte:")


def test_an_invalid_document_sent_again_gets_the_same_errors(api: Api) -> None:
    # given a document whose validation result is now cached
    first = api.client.post("/graphql", json={"query": "{ models { nope } }"}).json()
    # when it is sent again
    second = api.client.post("/graphql", json={"query": "{ models { nope } }"}).json()
    # then it is refused the same way, code included (each with its own request id)
    for body in (first, second):
        for error in body["errors"]:
            assert error["extensions"].pop("requestId")
    assert first == second
    assert first["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
