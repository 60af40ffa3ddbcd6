"""Signing in to the console over HTTP: the link's page, the cookie's flags, the
refusal pages of used, expired and forged codes, and signing out."""

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from core.models import ConsoleLoginCode, utcnow
from tests.conftest import Api
from tests.console.signing import (
    ORIGIN,
    console_post,
    csrf_of,
    login_code,
    sign_in,
)

ME = "{ me { email } }"


def test_the_link_shows_a_button_and_its_post_sets_a_strict_session_cookie(
    api: Api,
) -> None:
    # given a sign-in link for alice
    api.account("alice@example.com")
    code = login_code(api, "alice@example.com")
    # when she opens it, then a page offers to sign her in, spending nothing
    page = api.client.get(f"/console/login?code={code}")
    assert page.status_code == 200
    assert "alice@example.com" in page.text
    assert 'method="post"' in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    # when she presses the button
    response = api.client.post(
        "/console/login",
        data={"code": code},
        headers={"Origin": ORIGIN},
        follow_redirects=False,
    )
    # then she goes to the console with an HttpOnly, SameSite=Lax cookie, not
    # Secure over plain HTTP, that lasts at most 14 days
    assert response.status_code == 303
    assert response.headers["location"] == "/console/"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("darkroom_session=")
    flags = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "samesite=lax", "path=/", f"max-age={14 * 86400}"} <= flags
    assert "secure" not in flags
    # and the console page now names her CSRF token and she is signed in
    assert console_post(api, ME, csrf=csrf_of(api))["data"] == {
        "me": {"email": "alice@example.com"}
    }


def test_over_https_the_cookie_is_secure(api: Api) -> None:
    # given alice's link, used over HTTPS (a proxy's TLS, say)
    api.account("alice@example.com")
    code = login_code(api, "alice@example.com")
    # when she signs in
    response = api.client.post(
        "https://testserver/console/login",
        data={"code": code},
        headers={"Origin": "https://testserver"},
        follow_redirects=False,
    )
    # then the cookie is only ever sent back over HTTPS
    assert response.status_code == 303
    flags = {p.strip().lower() for p in response.headers["set-cookie"].split(";")}
    assert "secure" in flags
    assert "httponly" in flags


def test_a_used_code_is_gone_with_a_page_saying_so(api: Api) -> None:
    # given a code already exchanged
    api.account("alice@example.com")
    code = login_code(api, "alice@example.com")
    sign_in_once = api.client.post(
        "/console/login", data={"code": code}, headers={"Origin": ORIGIN}
    )
    assert sign_in_once.status_code == 200  # followed to the console
    # when it is opened or posted again
    for response in (
        api.client.get(f"/console/login?code={code}"),
        api.client.post(
            "/console/login", data={"code": code}, headers={"Origin": ORIGIN}
        ),
    ):
        # then a 410 page says it was used and how to get another
        assert response.status_code == 410
        assert "already used" in response.text
        assert "darkroom console-link" in response.text
        assert response.headers["content-type"].startswith("text/html")


def test_an_expired_code_is_gone_and_a_forged_one_is_a_bad_request(api: Api) -> None:
    # given a code past its 15 minutes
    api.account("alice@example.com")
    code = login_code(api, "alice@example.com")

    async def expire(session: AsyncSession) -> None:
        await session.execute(sa.update(ConsoleLoginCode).values(expires_at=utcnow()))

    api.run(expire)
    # then it is refused as expired, with 410
    expired = api.client.get(f"/console/login?code={code}")
    assert expired.status_code == 410
    assert "expired" in expired.text
    # and codes never issued, cut short, missing or absurd are 400s, never 500s
    for forged in ("B" * 43, code[:20], "", "%00<script>", "x" * 5000):
        response = api.client.get("/console/login", params={"code": forged})
        assert response.status_code == 400, forged
        assert "not valid" in response.text
        assert "<script>" not in response.text
    posted = api.client.post(
        "/console/login", data={"code": "B" * 43}, headers={"Origin": ORIGIN}
    )
    assert posted.status_code == 400


def test_another_site_cannot_post_a_code_to_sign_a_visitor_in(api: Api) -> None:
    # given a code (an attacker's own, say)
    api.account("mallory@example.com")
    code = login_code(api, "mallory@example.com")
    # when another origin's form posts it
    response = api.client.post(
        "/console/login",
        data={"code": code},
        headers={"Origin": "https://evil.example"},
        follow_redirects=False,
    )
    # then it is refused and no cookie is set
    assert response.status_code == 403
    assert "set-cookie" not in response.headers


def test_sign_out_ends_this_session_and_everywhere_ends_them_all(api: Api) -> None:
    # given alice signed in twice (this client, and a second browser's cookie)
    api.account("alice@example.com")
    first = sign_in(api, "alice@example.com")
    first_cookie = api.client.cookies["darkroom_session"]
    api.client.cookies.clear()
    second = sign_in(api, "alice@example.com")
    # when the second signs out everywhere
    response = api.client.post(
        "/console/logout",
        json={"everywhere": True},
        headers={"Origin": ORIGIN, "X-CSRF-Token": second},
    )
    # then both sessions ended and the cookie is cleared
    assert response.status_code == 200
    assert response.json() == {"ended": 2}
    assert 'darkroom_session=""' in response.headers["set-cookie"]
    api.client.cookies.set("darkroom_session", first_cookie)
    refused = console_post(api, ME, csrf=first)
    assert refused["status"] == 401
    assert refused["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"  # type: ignore[index]


def test_sign_out_needs_the_csrf_token(api: Api) -> None:
    # given a signed-in client
    csrf = sign_in(api)
    # when a request without the token tries to sign it out
    response = api.client.post("/console/logout", headers={"Origin": ORIGIN})
    # then it is refused and the session lives on
    assert response.status_code == 403
    assert console_post(api, ME, csrf=csrf)["status"] == 200
