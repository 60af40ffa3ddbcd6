"""The HTTP and websocket edge: malformed requests are 4xx GraphQL errors, never 500s;
responses follow the GraphQL-over-HTTP spec."""

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.conftest import Api


@pytest.fixture
def api(make_api: Callable[..., Api]) -> Api:
    """The app on SQLite only: the edge does not depend on the database."""
    return make_api()


MODELS = "{ models { name } }"
GRAPHQL_RESPONSE = "application/graphql-response+json"
UPLOAD = (
    '{"query": "mutation($f: Upload!) { imageUpload(file: $f) { userErrors { code } } }",'
    ' "variables": {"f": null}}'
)


def post_raw(api: Api, body: bytes | str, **headers: str) -> Any:
    return api.client.post(
        "/graphql",
        content=body,
        headers={"content-type": "application/json", **headers},
    )


def assert_refused(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    assert "data" not in body
    [error] = body["errors"]
    assert error["extensions"]["code"] == code
    return error


@pytest.mark.parametrize("body", ["null", '"x"', "[1]", "1", "true", "\xff{"])
def test_a_body_that_is_not_a_json_object_is_a_400(api: Api, body: str) -> None:
    # when the body is JSON but not an object (or not JSON at all)
    response = post_raw(api, body.encode("latin-1"))
    # then it is refused as a bad request with a GraphQL error body
    assert_refused(response, 400, "BAD_REQUEST")


@pytest.mark.parametrize("levels", [3_000, 100_000])
def test_json_nested_thousands_of_levels_is_a_400(api: Api, levels: int) -> None:
    # given variables nested thousands of levels deep
    nested = "[" * levels + "]" * levels
    body = '{"query": "query($v: String) { models { name } }", "variables": {"v": %s}}'
    # when sent
    response = post_raw(api, body % nested)
    # then it is refused without recursing
    error = assert_refused(response, 400, "BAD_REQUEST")
    assert "nested" in error["message"]


def test_a_body_over_the_limit_is_refused_whether_declared_or_streamed(
    api: Api,
) -> None:
    limit = api.settings.max_body_bytes
    padding = json.dumps({"query": MODELS, "pad": "x" * limit})
    # when the body declares its length
    declared = post_raw(api, padding)
    # and when it arrives in chunks with no length
    chunked = api.client.post(
        "/graphql",
        content=iter([padding[:1000].encode(), padding[1000:].encode()]),
        headers={"content-type": "application/json"},
    )
    # then both are refused as too large, and a body under it is fine
    for response in (declared, chunked):
        error = assert_refused(response, 413, "PAYLOAD_TOO_LARGE")
        assert f"{limit:,}" in error["message"]
    assert post_raw(api, json.dumps({"query": MODELS})).status_code == 200


@pytest.mark.parametrize(
    "file_map",
    ['["0"]', '{"0": [1]}', '{"0": ["variables.f.0"]}', '{"0": "variables.f"}'],
)
def test_a_multipart_map_that_does_not_fit_is_a_400(api: Api, file_map: str) -> None:
    # when an upload's map is a list, or names paths that do not exist
    response = api.client.post(
        "/graphql",
        files={
            "operations": (None, UPLOAD),
            "map": (None, file_map),
            "0": ("a.png", b"not really", "image/png"),
        },
    )
    # then it is a bad request
    assert_refused(response, 400, "BAD_REQUEST")


def test_a_subscription_over_http_is_refused_with_a_code(api: Api) -> None:
    subscription = "subscription { myJobUpdates { type } }"
    post = api.client.post("/graphql", json={"query": subscription})
    get = api.client.get("/graphql", params={"query": subscription})
    for response in (post, get):
        error = assert_refused(response, 400, "OPERATION_NOT_ALLOWED")
        assert "websocket" in error["message"]


def test_a_mutation_over_get_and_other_methods_are_405(api: Api) -> None:
    mutation = 'mutation { jobCancel(id: "x") { userErrors { code } } }'
    get = api.client.get("/graphql", params={"query": mutation})
    put = api.client.put("/graphql", content=b"{}")
    assert_refused(get, 405, "OPERATION_NOT_ALLOWED")
    assert get.headers["allow"] == "POST"
    assert_refused(put, 405, "METHOD_NOT_ALLOWED")
    assert put.headers["allow"] == "GET, POST"


# --- GraphQL over HTTP: media types and statuses ----------------------------------


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("{ models { name ", 400),  # parse error
        ("{ nope }", 400),  # validation error
        (MODELS, 200),
        ("{ me { email } }", 200),  # a field error still has data (null)
    ],
)
def test_graphql_response_json_gets_its_media_type_and_4xx_for_request_errors(
    api: Api, query: str, status: int
) -> None:
    # when the client accepts application/graphql-response+json
    response = api.client.post(
        "/graphql",
        json={"query": query},
        headers={"accept": f"{GRAPHQL_RESPONSE}, application/json;q=0.9"},
    )
    # then that is the media type, request errors are 4xx without data
    assert response.headers["content-type"] == GRAPHQL_RESPONSE
    assert response.status_code == status
    assert ("data" in response.json()) is (status == 200)


def test_plain_json_keeps_200_but_leaves_data_out_of_request_errors(
    api: Api,
) -> None:
    response = api.client.post("/graphql", json={"query": "{ models { name "})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert "data" not in body
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_a_malformed_request_is_answered_in_the_accepted_media_type(api: Api) -> None:
    response = post_raw(api, "[1]", accept=GRAPHQL_RESPONSE)
    assert response.status_code == 400
    assert response.headers["content-type"] == GRAPHQL_RESPONSE


# --- websockets ------------------------------------------------------------------


@pytest.fixture
def token(api: Api) -> str:
    return api.account("ws@example.com", credits=10)


@pytest.fixture
def socket(api: Api, token: str) -> Iterator[Any]:
    """An acknowledged graphql-transport-ws connection."""
    with api.client.websocket_connect(
        "/graphql", subprotocols=["graphql-transport-ws"]
    ) as ws:
        ws.send_json(
            {"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}
        )
        assert ws.receive_json()["type"] == "connection_ack"
        yield ws


@pytest.mark.parametrize(
    "frame",
    [
        "[1]",
        "7",
        '"subscribe"',
        '{"type": 3}',
        '{"type": "subscribe", "id": "1"}',
        '{"type": "subscribe", "id": "1", "payload": []}',
        '{"type": "subscribe", "id": "1", "payload": {"query": 5}}',
        '{"type": "subscribe", "id": 1, "payload": {"query": "{ __typename }"}}',
        '{"type": "subscribe", "id": "1", "payload": {"query": "{ __typename }", "variables": [1]}}',
        '{"type": "subscribe", "id": "1", "payload": {"query": "query A { __typename }", "operationName": "\\ud800"}}',
        "[" * 100_000 + "]" * 100_000,
    ],
)
def test_a_garbage_frame_closes_the_socket_with_4400(socket: Any, frame: str) -> None:
    socket.send_text(frame)
    message = socket.receive()
    assert message["type"] == "websocket.close"
    assert message["code"] == 4400


def test_a_garbage_frame_on_the_legacy_protocol_closes_with_4400(
    api: Api, token: str
) -> None:
    with api.client.websocket_connect("/graphql", subprotocols=["graphql-ws"]) as ws:
        ws.send_json(
            {"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}
        )
        assert ws.receive_json()["type"] == "connection_ack"
        ws.send_text("[1]")
        message = ws.receive()
    assert message["type"] == "websocket.close"
    assert message["code"] == 4400


def test_one_subscription_too_many_gets_a_coded_error(api: Api, socket: Any) -> None:
    # given a connection running as many subscriptions as it may
    limit = 100
    for n in range(limit):
        socket.send_json(
            {
                "id": str(n),
                "type": "subscribe",
                "payload": {"query": "subscription { myJobUpdates { type } }"},
            }
        )
    # when one more is started
    socket.send_json(
        {
            "id": "extra",
            "type": "subscribe",
            "payload": {"query": "subscription { myJobUpdates { type } }"},
        }
    )
    # then it alone is refused, with a code
    message = socket.receive_json()
    assert message["id"] == "extra"
    assert message["type"] == "error"
    assert message["payload"][0]["extensions"]["code"] == "TOO_MANY_SUBSCRIPTIONS"


def test_an_exhausted_budget_is_429_under_graphql_response_json(
    make_api: Callable[..., Api],
) -> None:
    # given an anonymous budget of one point
    api = make_api(anonymous_rate_limit_points=1)
    api.post("{ __typename }")
    # when the next request does not fit
    response = api.client.post(
        "/graphql",
        json={"query": "{ __typename }"},
        headers={"accept": GRAPHQL_RESPONSE},
    )
    # then it is 429, with Retry-After and no data
    assert response.status_code == 429
    assert "retry-after" in response.headers
    assert "data" not in response.json()


def test_an_upload_written_inline_is_a_user_error(api: Api) -> None:
    # given a token that may upload
    token = api.account("inline@example.com")
    # when the file is a string literal instead of a multipart file part
    body = api.data(
        'mutation { imageUpload(file: "not a file") '
        "{ upload { id } userErrors { field code } } }",
        token=token,
    )
    # then it is refused in the payload, naming the argument
    assert body["imageUpload"] == {
        "upload": None,
        "userErrors": [{"field": ["file"], "code": "REQUIRED"}],
    }
