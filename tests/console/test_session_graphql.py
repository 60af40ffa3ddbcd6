"""GraphQL signed in by the console cookie: a session is not a token. It works
only from the console's origin with its CSRF token, never from a form or
another site, records its jobs as WEB, and never holds ADMIN or METRICS."""

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.websockets import WebSocketDisconnect

from core.models import ConsoleSession, utcnow
from core.sessions import IDLE_LIFETIME
from tests.conftest import Api
from tests.console.signing import ORIGIN, console_post, sign_in

ME = "{ me { email tokenScopes } }"
CREATE = """mutation($input: GenerationCreateInput!) {
  generationCreate(input: $input) { job { id source } userErrors { code } } }"""
TINY = {"prompt": "a fox", "width": 64, "height": 64, "inferenceSteps": 2}
USAGE = "{ usage(first: 10) { edges { node { jobId source tokenId } } } }"


def _refusal(body: dict[str, object]) -> tuple[int, str, str]:
    [error] = body["errors"]  # type: ignore[misc]
    return body["status"], error["extensions"]["code"], error["message"]  # type: ignore[return-value]


def test_a_session_signs_in_with_the_user_scopes_but_never_admin_or_metrics(
    api: Api,
) -> None:
    # given a signed-in console
    csrf = sign_in(api)
    # when it asks who it is, then it has the scopes of the account's owner
    me = console_post(api, ME, csrf=csrf)["data"]["me"]  # type: ignore[index]
    assert sorted(me["tokenScopes"]) == ["GENERATE", "MANAGE", "READ"]
    # and moderation stays out of reach
    review = console_post(api, "{ galleryReviewQueue { totalCount } }", csrf=csrf)
    assert review["errors"][0]["extensions"]["code"] == "FORBIDDEN"  # type: ignore[index]


def test_jobs_submitted_by_a_session_record_web_and_no_token(api: Api) -> None:
    # given a signed-in console with credits
    csrf = sign_in(api, credits=10)
    # when it submits a generation, even claiming to be the CLI
    api.client.headers["X-Darkroom-Source"] = "CLI"
    created = console_post(api, CREATE, {"input": TINY}, csrf=csrf)
    del api.client.headers["X-Darkroom-Source"]
    # then the job is recorded as WEB, spent by no token
    job = created["data"]["generationCreate"]["job"]  # type: ignore[index]
    assert job["source"] == "WEB"
    [entry] = console_post(api, USAGE, csrf=csrf)["data"]["usage"]["edges"]  # type: ignore[index]
    assert entry["node"] == {"jobId": job["id"], "source": "WEB", "tokenId": None}


def test_a_cross_origin_request_is_refused_even_with_the_csrf_token(api: Api) -> None:
    # given a signed-in console
    csrf = sign_in(api)
    # when another site's page sends the cookie along (with a stolen token, say)
    body = console_post(api, ME, csrf=csrf, origin="https://evil.example")
    # then it is forbidden, saying where it came from
    status, code, message = _refusal(body)
    assert (status, code) == (403, "FORBIDDEN")
    assert "https://evil.example" in message


def test_a_request_with_no_origin_must_say_it_is_same_origin(api: Api) -> None:
    # given a signed-in console
    csrf = sign_in(api)
    # when a request carries neither Origin nor Sec-Fetch-Site, or a cross-site one
    for fetch_site in (None, "cross-site", "same-site"):
        headers = {"X-CSRF-Token": csrf}
        if fetch_site:
            headers["Sec-Fetch-Site"] = fetch_site
        response = api.client.post("/graphql", json={"query": ME}, headers=headers)
        # then it is refused
        assert response.status_code == 403, fetch_site
        assert response.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    # and the same-origin fetch a browser sends without Origin is answered
    same = api.client.post(
        "/graphql",
        json={"query": ME},
        headers={"X-CSRF-Token": csrf, "Sec-Fetch-Site": "same-origin"},
    )
    assert same.status_code == 200
    assert "errors" not in same.json()


def test_a_plain_html_form_post_is_refused(api: Api) -> None:
    # given a signed-in console
    csrf = sign_in(api)
    # when the cookie comes with a form's body, from each content type a form sends
    for content_type in (
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "text/plain",
    ):
        response = api.client.post(
            "/graphql",
            content=b"query=%7B+me+%7B+email+%7D+%7D",
            headers={
                "Content-Type": content_type,
                "Origin": ORIGIN,
                "X-CSRF-Token": csrf,
            },
        )
        # then it is forbidden as a form, before any GraphQL runs
        assert response.status_code == 403, content_type
        error = response.json()["errors"][0]
        assert error["extensions"]["code"] == "FORBIDDEN"
        assert "form" in error["message"]


def test_a_missing_or_wrong_csrf_token_is_refused(api: Api) -> None:
    # given a signed-in console
    csrf = sign_in(api)
    # when the token is left out, or is another one
    for sent, words in ((None, "needs the page's CSRF token"), ("0" * 64, "match")):
        body = console_post(api, ME, csrf=sent)
        # then it is forbidden, saying which
        status, code, message = _refusal(body)
        assert (status, code) == (403, "FORBIDDEN")
        assert words in message
    # and another session's token does not fit this one either
    other = api.client.cookies["darkroom_session"]
    api.client.cookies.clear()
    second = sign_in(api)
    api.client.cookies.clear()
    api.client.cookies.set("darkroom_session", other)
    assert _refusal(console_post(api, ME, csrf=second))[:2] == (403, "FORBIDDEN")
    assert console_post(api, ME, csrf=csrf)["status"] == 200


def test_a_stolen_but_expired_or_unknown_session_is_unauthenticated(api: Api) -> None:
    # given a session idle for longer than its idle lifetime
    csrf = sign_in(api)

    async def idle(session: AsyncSession) -> None:
        await session.execute(
            sa.update(ConsoleSession).values(
                last_seen_at=utcnow() - IDLE_LIFETIME - IDLE_LIFETIME
            )
        )

    api.run(idle)
    # when its cookie and token are replayed
    status, code, message = _refusal(console_post(api, ME, csrf=csrf))
    # then it must sign in again
    assert (status, code) == (401, "UNAUTHENTICATED")
    assert "sign in again" in message
    # and a cookie never issued is refused the same way
    api.client.cookies.clear()
    api.client.cookies.set("darkroom_session", "C" * 43)
    from core.sessions import csrf_token_for

    forged = console_post(api, ME, csrf=csrf_token_for("C" * 43))
    assert _refusal(forged)[:2] == (401, "UNAUTHENTICATED")


def test_a_token_is_used_as_before_when_a_cookie_comes_along(api: Api) -> None:
    # given a signed-in browser that also holds a token of another account
    sign_in(api)
    token = api.account("bot@example.com")
    # when it sends the token, with no CSRF token and from anywhere
    response = api.client.post(
        "/graphql",
        json={"query": ME},
        headers={"Authorization": f"Bearer {token}", "Origin": "https://elsewhere"},
    )
    # then the token decides who calls, and no console check applies
    assert response.json()["data"]["me"]["email"] == "bot@example.com"


def test_the_console_websocket_authenticates_by_cookie_from_its_origin(
    api: Api,
) -> None:
    # given a signed-in console
    csrf = sign_in(api)
    missing = "Sm9iOjAwMDAwMDAwLTAwMDAtMDAwMC0wMDAwLTAwMDAwMDAwMDAwMA=="
    subscription = f'subscription {{ jobUpdates(jobId: "{missing}") {{ type }} }}'
    # when it opens a socket from its origin with the CSRF token in connection_init
    with api.client.websocket_connect(
        "/graphql", subprotocols=["graphql-transport-ws"], headers={"Origin": ORIGIN}
    ) as socket:
        socket.send_json({"type": "connection_init", "payload": {"csrfToken": csrf}})
        # then it is acknowledged and its subscriptions run as the account
        assert socket.receive_json()["type"] == "connection_ack"
        socket.send_json(
            {"id": "1", "type": "subscribe", "payload": {"query": subscription}}
        )
        answer = socket.receive_json()
        # (the job does not exist: a signed-in caller is told just that)
        [error] = answer["payload"]["errors"]
        assert error["extensions"]["code"] == "NOT_FOUND", answer
    # and from another origin it is refused at the handshake (Strawberry's own
    # origin check, 1008), and without the CSRF token at connection_init (4403)
    for origin, params, code in (
        ("https://evil.example", {"csrfToken": csrf}, 1008),
        (ORIGIN, {}, 4403),
        (ORIGIN, {"csrfToken": "0" * 64}, 4403),
    ):
        with pytest.raises(WebSocketDisconnect) as closed:
            _init(api, origin, params)
        assert closed.value.code == code, origin


def _init(api: Api, origin: str, params: dict[str, str]) -> None:
    with api.client.websocket_connect(
        "/graphql", subprotocols=["graphql-transport-ws"], headers={"Origin": origin}
    ) as socket:
        socket.send_json({"type": "connection_init", "payload": params})
        socket.receive_json()
