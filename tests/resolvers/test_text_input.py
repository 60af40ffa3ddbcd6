"""NUL and unpaired surrogates are refused in every string input, on every transport.

Bodies are sent as JSON text: json.dumps escapes a lone surrogate as "\\ud800",
exactly as a hostile client would send it (httpx's json= cannot encode one).
"""

import io
import json
from typing import Any

import pytest
from PIL import Image

from tests.conftest import Api

CREATE = """mutation($input: GenerationCreateInput!) {
  generationCreate(input: $input) { job { id status } userErrors { field code message } }
}"""
TOKEN_CREATE = """mutation($input: ApiTokenCreateInput!) {
  apiTokenCreate(input: $input) { secret userErrors { field code message } }
}"""
OUTPUTS = "query($w: OutputWhere) { outputs(first: 5, where: $w) { totalCount } }"
JOBS = "{ jobs(first: 10) { edges { node { id } } } me { credits { total } } }"
TOKENS = "{ apiTokens { name } }"
SMALL = {"prompt": "a lighthouse", "width": 64, "height": 64, "inferenceSteps": 2}
NUL, SURROGATE = "\x00", "\ud800"


def post_text(
    api: Api, query: str, variables: dict[str, Any], token: str
) -> dict[str, Any]:
    """POST the body as ASCII JSON text; lone surrogates travel as \\u escapes."""
    response = api.client.post(
        "/graphql",
        content=json.dumps({"query": query, "variables": variables}),
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
        },
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def refusal(body: dict[str, Any]) -> tuple[str, str]:
    """The code and message of a request refused before execution."""
    # null, or left out as GraphQL over HTTP asks for a request error
    assert body.get("data") is None, body
    [error] = body["errors"]
    return error["extensions"]["code"], error["message"]


def jobs_and_credits(api: Api, token: str) -> tuple[int, int]:
    data = api.data(JOBS, token=token)
    return len(data["jobs"]["edges"]), data["me"]["credits"]["total"]


@pytest.mark.parametrize("field", ["prompt", "negativePrompt", "idempotencyKey"])
def test_nul_or_a_lone_surrogate_in_generation_input_is_refused_before_any_charge(
    api: Api, field: str
) -> None:
    # given an account with 10 credits
    token = api.account("ann@example.com", credits=10)
    # (a low surrogate before a high one is no pair: both are unpaired)
    for bad in (f"fox{NUL}", f"fox{SURROGATE}", "\udc00\ud83d"):
        # when a generation names a field holding NUL or an unpaired surrogate
        body = post_text(api, CREATE, {"input": {**SMALL, field: bad}}, token)
        # then it is BAD_USER_INPUT naming the variable path and the rule
        code, message = refusal(body)
        assert code == "BAD_USER_INPUT"
        assert f'"input.{field}"' in message
        assert "U+0000" in message or "surrogate" in message
    # and no job exists and nothing was charged
    assert jobs_and_credits(api, token) == (0, 10)


def test_a_nul_escape_in_a_string_literal_is_refused_with_its_location(
    api: Api,
) -> None:
    token = api.account("bea@example.com")
    query = 'mutation { apiTokenCreate(input: {name: "ci\\u0000bot"}) { secret } }'
    body = post_text(api, query, {}, token)
    code, message = refusal(body)
    assert code == "BAD_USER_INPUT"
    assert "NUL" in message
    assert body["errors"][0]["locations"] == [{"line": 1, "column": 41}]
    assert [t["name"] for t in api.data(TOKENS, token=token)["apiTokens"]] == [
        "Secret key"
    ]


def test_a_token_name_with_a_lone_surrogate_creates_no_token(api: Api) -> None:
    token = api.account("cal@example.com")
    body = post_text(api, TOKEN_CREATE, {"input": {"name": f"ci{SURROGATE}"}}, token)
    assert refusal(body)[0] == "BAD_USER_INPUT"
    assert len(api.data(TOKENS, token=token)["apiTokens"]) == 1


@pytest.mark.parametrize("bad", [NUL, SURROGATE])
def test_filter_values_with_refused_text_are_bad_input_not_internal_errors(
    api: Api, bad: str
) -> None:
    token = api.account("dee@example.com")
    for where in (
        {"prompt": {"_ilike": f"%fox{bad}%"}},
        {"prompt": {"_in": ["ok", f"fox{bad}"]}},
        {"_or": [{"negativePrompt": {"_eq": bad}}]},
    ):
        body = post_text(api, OUTPUTS, {"w": where}, token)
        assert refusal(body)[0] == "BAD_USER_INPUT", where


def test_a_document_validated_once_still_refuses_bad_text_sent_with_it_later(
    api: Api,
) -> None:
    # given the filter query already validated and cached with clean variables
    token = api.account("fay@example.com")
    clean = post_text(api, OUTPUTS, {"w": {"prompt": {"_ilike": "fox"}}}, token)
    assert clean["data"] == {"outputs": {"totalCount": 0}}
    # when the same text comes with a NUL in its variables, twice
    for _ in range(2):
        body = post_text(api, OUTPUTS, {"w": {"prompt": {"_ilike": NUL}}}, token)
        # then the cached validation never overrides the refusal
        assert refusal(body)[0] == "BAD_USER_INPUT"


def test_a_field_name_with_a_lone_surrogate_is_refused_without_echoing_it(
    api: Api,
) -> None:
    token = api.account("eli@example.com", credits=10)
    body = post_text(api, CREATE, {"input": {**SMALL, SURROGATE: 1}}, token)
    code, message = refusal(body)
    assert code == "BAD_USER_INPUT"
    assert "field name" in message
    assert jobs_and_credits(api, token) == (0, 10)


def test_text_outside_the_basic_plane_is_accepted(api: Api) -> None:
    # given a prompt with an emoji, which JSON sends as a surrogate pair
    token = api.account("fay@example.com", credits=10)
    body = post_text(api, CREATE, {"input": {**SMALL, "prompt": "a fox 🦊"}}, token)
    # then the pair is one valid character and the job is queued
    assert body["data"]["generationCreate"]["userErrors"] == []
    assert jobs_and_credits(api, token)[0] == 1


def test_an_operation_over_a_websocket_with_refused_text_gets_a_bad_input_error(
    api: Api,
) -> None:
    token = api.account("gil@example.com")
    with api.client.websocket_connect(
        "/graphql", subprotocols=["graphql-transport-ws"]
    ) as ws:
        ws.send_json(
            {"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}
        )
        assert ws.receive_json()["type"] == "connection_ack"
        for number, bad in enumerate((NUL, SURROGATE)):
            subscribe = {
                "id": str(number),
                "type": "subscribe",
                "payload": {
                    "query": OUTPUTS,
                    "variables": {"w": {"prompt": {"_eq": f"fox{bad}"}}},
                },
            }
            ws.send_text(json.dumps(subscribe))
            message = ws.receive_json()
            assert message["type"] == "error", message
            assert message["payload"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_a_multipart_request_with_refused_text_stores_and_charges_nothing(
    api: Api,
) -> None:
    # given an upload and a generation in one multipart operation, one prompt bad
    token = api.account("hal@example.com", credits=10)
    query = """mutation($file: Upload!, $input: GenerationCreateInput!) {
      imageUpload(file: $file) { upload { id } }
      generationCreate(input: $input) { job { id } }
    }"""
    image = io.BytesIO()
    Image.new("RGB", (64, 64)).save(image, format="PNG")
    bad_input = {**SMALL, "prompt": f"fox{NUL}"}
    operations = {"query": query, "variables": {"file": None, "input": bad_input}}
    # when it is sent
    response = api.client.post(
        "/graphql",
        data={
            "operations": json.dumps(operations),
            "map": json.dumps({"0": ["variables.file"]}),
        },
        files={"0": ("in.png", image.getvalue(), "image/png")},
        headers={"Authorization": f"Bearer {token}"},
    )
    # then the whole operation is refused: no upload stored, nothing charged
    assert response.status_code == 200, response.text
    assert refusal(response.json())[0] == "BAD_USER_INPUT"
    assert not list((api.settings.storage_root / "uploads").glob("**/*.*"))
    assert jobs_and_credits(api, token) == (0, 10)


@pytest.mark.parametrize(
    ("query", "variables", "code"),
    [
        (CREATE, {"input": {**SMALL, "idempotencyKey": "k" * 101}}, "TOO_LONG"),
        (CREATE, {"input": {**SMALL, "prompt": "p" * 501}}, "PROMPT_TOO_LONG"),
        (CREATE, {"input": {**SMALL, "negativePrompt": "n" * 501}}, "PROMPT_TOO_LONG"),
        (TOKEN_CREATE, {"input": {"name": "x" * 51}}, "TOO_LONG"),
    ],
)
def test_text_longer_than_its_column_is_a_user_error_not_a_database_error(
    api: Api, query: str, variables: dict[str, Any], code: str
) -> None:
    token = api.account("ivy@example.com", credits=10)
    body = post_text(api, query, variables, token)
    [payload] = body["data"].values()
    assert [e["code"] for e in payload["userErrors"]] == [code]
    assert jobs_and_credits(api, token) == (0, 10)
