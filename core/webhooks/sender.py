"""One webhook POST: to the checked address, bounded in time and in what is read.

The request goes to the IP address that passed the rules, carrying the URL's
own host in the Host header and in TLS's SNI (the certificate is verified
against that name), so nothing resolves the name a second time. Redirects are
never followed: a 3xx is an answer like any other non-2xx.
"""

import asyncio
import logging
import ssl
from dataclasses import dataclass

import httpx

from core.webhooks.addresses import AddressRefused, UnknownHost, resolve_allowed

log = logging.getLogger(__name__)

# Enough to see an error page's start; the rest of a reply is never read.
MAX_RESPONSE_BYTES = 4096


@dataclass(frozen=True)
class Attempt:
    """How one POST went, in terms safe to show the endpoint's owner."""

    delivered: bool
    response_code: int | None = None
    error: str | None = None
    # False when trying again cannot help (a refused address).
    retryable: bool = True


async def post_signed(
    url: str,
    body: str,
    headers: dict[str, str],
    *,
    timeout: float,
    allow_private: bool,
) -> Attempt:
    """POST `body` to `url` once; 2xx is delivered, anything else is not."""
    target = httpx.URL(url)
    host = target.raw_host.decode("ascii")
    port = target.port or (443 if target.scheme == "https" else 80)
    try:
        ip = await resolve_allowed(host, port, allow_private=allow_private)
    except AddressRefused as err:
        return Attempt(False, error=f"address refused: {err}", retryable=False)
    except UnknownHost as err:
        return Attempt(False, error=str(err))
    extensions = {"sni_hostname": host} if target.scheme == "https" else {}
    request_headers = {**headers, "host": target.netloc.decode("ascii")}
    try:
        # The whole attempt, not each read: a receiver dripping bytes cannot hold it.
        async with asyncio.timeout(timeout):
            code = await _send(
                target.copy_with(host=str(ip)), body, request_headers, extensions
            )
    except TimeoutError:
        return Attempt(False, error=f"no answer within {timeout:g} s")
    except httpx.HTTPError as err:
        log.info("webhook POST to %s failed", url, exc_info=True)
        return Attempt(False, error=_summary(err))
    if 200 <= code < 300:
        return Attempt(True, response_code=code)
    if 300 <= code < 400:
        return Attempt(False, code, f"HTTP {code}: redirects are not followed")
    return Attempt(False, code, f"HTTP {code}")


async def _send(
    url: httpx.URL,
    body: str,
    headers: dict[str, str],
    extensions: dict[str, str],
) -> int:
    # trust_env=False: a proxy from the environment would resolve the name itself.
    async with (
        httpx.AsyncClient(trust_env=False, follow_redirects=False) as client,
        client.stream(
            "POST",
            url,
            content=body.encode(),
            headers=headers,
            extensions=extensions,
        ) as response,
    ):
        read = 0
        async for chunk in response.aiter_raw():
            read += len(chunk)
            if read >= MAX_RESPONSE_BYTES:
                break
        return response.status_code


def _summary(err: httpx.HTTPError) -> str:
    """A fixed phrase for a transport failure: library text stays in the log."""
    cause: BaseException | None = err
    while cause is not None:
        if isinstance(cause, ssl.SSLError):
            return "TLS handshake or certificate check failed"
        cause = cause.__cause__ or cause.__context__
    if isinstance(err, httpx.ConnectError):
        return "could not connect"
    if isinstance(err, httpx.TimeoutException):
        return "timed out"
    if isinstance(err, httpx.RemoteProtocolError):
        return "the receiver's answer was not valid HTTP"
    return "the request failed"
