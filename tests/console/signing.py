"""Signing a test client into the console, as a browser does: a link's code,
the button's POST, the cookie, and the CSRF token the page names."""

import re
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from core.accounts import get_user_by_email
from core.sessions import create_login_code
from tests.conftest import Api

ORIGIN = "http://testserver"  # TestClient's own origin
CSRF = re.compile(r'<meta name="darkroom-csrf" content="([0-9a-f]{64})"')


def login_code(api: Api, email: str) -> str:
    """A new sign-in code for an existing account."""

    async def work(session: AsyncSession) -> str:
        user = await get_user_by_email(session, email=email)
        return await create_login_code(session, user_id=user.id)

    return api.run(work)


def sign_in(api: Api, email: str | None = None, *, credits: int = 0) -> str:
    """Create an account (unless given), sign the client in; the CSRF token."""
    if email is None:
        email = f"{uuid.uuid4().hex[:8]}@example.com"
        api.account(email, credits=credits)
    response = api.client.post(
        "/console/login",
        data={"code": login_code(api, email)},
        headers={"Origin": ORIGIN},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return csrf_of(api)


def csrf_of(api: Api) -> str:
    """The CSRF token the console page names for the client's session."""
    page = api.client.get("/console/")
    match = CSRF.search(page.text)
    assert match, page.text
    return match.group(1)


def console_post(
    api: Api,
    query: str,
    variables: dict[str, object] | None = None,
    *,
    csrf: str | None,
    origin: str | None = ORIGIN,
) -> dict[str, object]:
    """POST GraphQL as the console page does: cookie, Origin, CSRF header."""
    headers = {}
    if origin is not None:
        headers["Origin"] = origin
    if csrf is not None:
        headers["X-CSRF-Token"] = csrf
    response = api.client.post(
        "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
    )
    body: dict[str, object] = response.json()
    body["status"] = response.status_code
    return body
