"""GraphQL authenticated by a console session cookie, and the checks that make a
cookie safe to accept.

A browser sends cookies with requests other sites start, so a cookie alone
proves nothing about who wrote the request. A request signed in by the cookie
(and carrying no Authorization header) must therefore come from the console's
own origin (Origin, or Sec-Fetch-Site where a browser sends no Origin), carry
the session's CSRF token in X-CSRF-Token (a header a form cannot set and another
origin cannot read), and be JSON rather than a form's content type. A websocket
is checked by its handshake's Origin and the token in connection_init.
"""

import hmac
from urllib.parse import urlsplit

from starlette.requests import HTTPConnection

from core.errors import ErrorCode
from core.sessions import authenticate_session, csrf_token_for
from core.tokens import Caller
from resolvers.context import Services

COOKIE = "darkroom_session"
CSRF_HEADER = "x-csrf-token"
# What a connection_init payload names the token with.
CSRF_PARAM = "csrfToken"
# What a plain HTML form can send without script (and so without a CORS check).
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data", "text/plain")

SIGN_IN_AGAIN = (
    "the console session in this cookie has expired, was signed out, or is "
    "unknown; sign in again with a new link (`darkroom console-link EMAIL`)"
)


class SessionRefused(Exception):  # noqa: N818  # reads as the event it reports
    """A request whose session cookie cannot sign it in, and why."""

    def __init__(self, status: int, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def own_origins(services: Services, connection: HTTPConnection) -> set[str]:
    """The origins the console is served from: this request's host, and the
    configured public URL (behind a proxy the two may differ)."""
    here = _origin(str(connection.base_url))
    if connection.scope["type"] == "websocket":
        here = here.replace("ws://", "http://", 1).replace("wss://", "https://", 1)
    return {here, _origin(services.settings.public_base_url)}


def check_same_origin(services: Services, connection: HTTPConnection) -> None:
    """Refuse a request another origin started (cross-site request forgery)."""
    origin = connection.headers.get("origin")
    if origin is not None:
        if origin.lower() not in own_origins(services, connection):
            raise SessionRefused(
                403,
                ErrorCode.FORBIDDEN,
                f"a console session only works from the console's own origin; "
                f"this request came from {origin}",
            )
        return
    site = connection.headers.get("sec-fetch-site")
    if site != "same-origin":
        raise SessionRefused(
            403,
            ErrorCode.FORBIDDEN,
            "a request signed in by the console cookie must come from the console "
            "page: it has no Origin header, and Sec-Fetch-Site is "
            f"{site or 'missing'} rather than same-origin",
        )


def _check_csrf(secret: str, sent: str | None) -> None:
    if not sent:
        raise SessionRefused(
            403,
            ErrorCode.FORBIDDEN,
            "a request signed in by the console cookie needs the page's CSRF token "
            "in the X-CSRF-Token header",
        )
    if not hmac.compare_digest(sent.encode(), csrf_token_for(secret).encode()):
        raise SessionRefused(
            403,
            ErrorCode.FORBIDDEN,
            "the X-CSRF-Token header does not match this console session; reload "
            "the console page",
        )


async def authenticate_cookie(
    services: Services, connection: HTTPConnection, *, csrf: str | None
) -> Caller | None:
    """The caller the console cookie signs in, None without a cookie; raises
    SessionRefused for a cookie that cannot be accepted on this request."""
    secret = connection.cookies.get(COOKIE)
    if not secret:
        return None
    if connection.scope["type"] == "http":
        content_type = connection.headers.get("content-type", "").lower()
        if content_type.startswith(FORM_TYPES):
            raise SessionRefused(
                403,
                ErrorCode.FORBIDDEN,
                f"a request signed in by the console cookie must be JSON, not "
                f"{content_type.split(';')[0]} (a form's content type)",
            )
    check_same_origin(services, connection)
    _check_csrf(secret, csrf)
    async with services.db.session() as session:
        caller = await authenticate_session(session, secret=secret)
    if caller is None:
        raise SessionRefused(401, ErrorCode.UNAUTHENTICATED, SIGN_IN_AGAIN)
    return caller
