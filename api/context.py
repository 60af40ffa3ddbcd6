"""Who is calling: the caller an Authorization value names, for HTTP and websockets."""

from core.tokens import Caller, authenticate
from resolvers.context import Services


def bearer_secret(value: str | None) -> str | None:
    """The secret from an `Authorization: Bearer <token>` value, if well formed."""
    if not value:
        return None
    scheme, _, secret = value.strip().partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        return None
    return secret.strip()


async def authenticate_header(
    services: Services, header: str | None, *, fresh: bool = False
) -> Caller | None:
    """The caller named by an Authorization header; None for a missing or bad token.

    HTTP requests may use a caller cached a few seconds; `fresh` reads the token
    row, as a websocket does once for the hours it may stay open.
    """
    secret = bearer_secret(header)
    if secret is None:
        return None
    caller = None if fresh else services.callers.get(secret)
    if caller is None:
        async with services.db.session() as session:
            caller = await authenticate(session, secret=secret)
        if caller is not None:
            services.callers.put(secret, caller)
    return caller
