"""Signing in and out of the console over plain HTTP.

GET /console/login?code=... only shows a button: link scanners and previews
fetch links, and must not spend the one use. The button POSTs the code back
(from our own origin, which is checked, so no other site can sign a visitor into
its own account); that exchange sets the session cookie. POST /console/logout
ends this browser's session, or every session of the account.
"""

import html
import json
from datetime import timedelta

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from api.console_auth import COOKIE, SessionRefused, authenticate_cookie
from api.console_auth import check_same_origin as _same_origin
from api.console_page import html_page
from core.sessions import (
    ABSOLUTE_LIFETIME,
    CodeRefusal,
    CodeRefused,
    check_login_code,
    end_session,
    redeem_login_code,
)
from resolvers.context import Services

# Unknown is the client's mistake (400); used or expired was real once (410).
_REFUSALS = {
    CodeRefusal.UNKNOWN: (
        400,
        "This sign-in link is not valid",
        "The code in it was never issued: the link may be cut short or mistyped.",
    ),
    CodeRefusal.USED: (
        410,
        "This sign-in link was already used",
        "Each link signs in once.",
    ),
    CodeRefusal.EXPIRED: (
        410,
        "This sign-in link has expired",
        "Links are valid for 15 minutes.",
    ),
}
NEW_LINK = "Make a new one with <code>darkroom console-link EMAIL</code>."


def _refused(reason: CodeRefusal) -> Response:
    status, title, why = _REFUSALS[reason]
    body = f"<main><h1>{title}</h1><p>{why} {NEW_LINK}</p></main>"
    return html_page(title, body, status=status)


def _cookie_max_age(lifetime: timedelta) -> int:
    return int(lifetime.total_seconds())


async def login_page(services: Services, request: Request) -> Response:
    """A button that signs in with the link's code, or why the link is no good."""
    code = request.query_params.get("code", "")
    try:
        async with services.db.session() as session:
            user = await check_login_code(session, code=code)
    except CodeRefused as refused:
        return _refused(refused.reason)
    body = (
        "<main><h1>Sign in to the Darkroom console</h1>"
        f"<p>as <strong>{html.escape(user.email)}</strong></p>"
        '<form method="post" action="/console/login">'
        f'<input type="hidden" name="code" value="{html.escape(code)}" />'
        '<button type="submit" id="sign-in">Sign in</button></form></main>'
    )
    return html_page("Sign in", body)


async def login(services: Services, request: Request) -> Response:
    """Exchange the code for a session cookie and go to the console."""
    try:
        _same_origin(services, request)
    except SessionRefused as refused:
        body = f"<main><h1>Sign-in refused</h1><p>{html.escape(refused.message)}</p>"
        return html_page("Sign-in refused", body + "</main>", status=403)
    form = await request.form()
    code = form.get("code")
    try:
        async with services.db.session() as session:
            opened = await redeem_login_code(
                session, code=code if isinstance(code, str) else ""
            )
    except CodeRefused as refused:
        return _refused(refused.reason)
    response = RedirectResponse("/console/", status_code=303)
    response.set_cookie(
        COOKIE,
        opened.secret,
        max_age=_cookie_max_age(ABSOLUTE_LIFETIME),
        path="/",
        httponly=True,  # script never reads it: the page gets a CSRF token instead
        secure=request.url.scheme == "https",
        samesite="lax",  # not sent with other sites' POSTs, nor their fetches
    )
    return response


async def logout(services: Services, request: Request) -> Response:
    """End this browser's session, or with {"everywhere": true} every session of
    its account; needs the same checks as a GraphQL request by cookie."""
    try:
        caller = await authenticate_cookie(
            services, request, csrf=request.headers.get("x-csrf-token")
        )
    except SessionRefused as refused:
        return JSONResponse({"error": refused.message}, status_code=refused.status)
    secret = request.cookies.get(COOKIE)
    if caller is None or secret is None:
        return JSONResponse({"error": "not signed in"}, status_code=401)
    try:
        everywhere = bool(json.loads(await request.body() or b"{}").get("everywhere"))
    except (ValueError, AttributeError):
        return JSONResponse({"error": 'send {"everywhere": true|false}'}, 400)
    async with services.db.session() as session:
        ended = await end_session(session, secret=secret, everywhere=everywhere)
    response = JSONResponse({"ended": ended})
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax")
    return response
