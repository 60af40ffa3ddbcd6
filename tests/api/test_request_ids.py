"""Request ids on every response and error, in every log line; no secret in a log."""

import io
import json
import logging
import re
from collections.abc import Iterator

import pytest

from core.logcontext import ContextFilter, JsonFormatter
from tests.conftest import Api

BROKEN = "{ me { nosuchfield } }"
TOKEN_CREATE = """mutation { apiTokenCreate(input: {name: "ci"}) {
  secret userErrors { code } } }"""


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    """Every record at DEBUG, as `DARKROOM_LOG_FORMAT=json` writes it."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.addFilter(ContextFilter())
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield out
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def test_a_well_formed_request_id_is_echoed_and_put_in_each_error(api: Api) -> None:
    token = api.account("ann@example.com")
    answer = api.client.post(
        "/graphql",
        json={"query": BROKEN},
        headers={"Authorization": f"Bearer {token}", "X-Request-Id": "req-42.a_b"},
    )
    assert answer.headers["x-request-id"] == "req-42.a_b"
    errors = answer.json()["errors"]
    assert errors
    assert all(e["extensions"]["requestId"] == "req-42.a_b" for e in errors)


@pytest.mark.parametrize("given", ["x" * 129, "two words", "<script>", ""])
def test_a_malformed_request_id_is_replaced_by_a_new_one(api: Api, given: str) -> None:
    answer = api.client.post(
        "/graphql", json={"query": BROKEN}, headers={"X-Request-Id": given}
    )
    rid = answer.headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", rid)
    assert answer.json()["errors"][0]["extensions"]["requestId"] == rid


def test_a_refusal_before_execution_carries_the_request_id_too(api: Api) -> None:
    answer = api.client.post(
        "/graphql", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert answer.status_code in (200, 400)
    rid = answer.headers["x-request-id"]
    assert answer.json()["errors"][0]["extensions"]["requestId"] == rid


def test_log_lines_carry_the_request_id_and_never_a_secret(
    api: Api, json_lines: io.StringIO
) -> None:
    # given requests at DEBUG level: one using a token, one making a new token
    token = api.account("bo@example.com")
    made = api.client.post(
        "/graphql",
        json={"query": TOKEN_CREATE},
        headers={"Authorization": f"Bearer {token}", "X-Request-Id": "find-me"},
    ).json()["data"]["apiTokenCreate"]["secret"]
    # and a line of ours that quotes secrets, as a careless message might
    logging.getLogger("darkroom.test").warning(
        "token %s webhook whsec_c2VjcmV0K3NlY3JldA== link /files/a.png?expires=9&signature=abc123",
        token,
    )
    lines = [json.loads(line) for line in json_lines.getvalue().splitlines()]
    text = json_lines.getvalue()
    # then no secret is in any line
    for secret in (token, made, "c2VjcmV0K3NlY3JldA==", "abc123"):
        assert secret not in text
    assert "drk_[redacted]" in text
    assert "signature=[redacted]" in text
    # and the lines of the request carry its id
    assert any(line.get("request_id") == "find-me" for line in lines)
