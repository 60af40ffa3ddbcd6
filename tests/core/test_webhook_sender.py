"""One signed POST to a real receiver on loopback: delivered, refused, bounded."""

import socket
import time

import pytest

from core.webhooks.sender import post_signed
from core.webhooks.signing import message_id, new_secret, signed_headers
from tests.receiver import receiver

BODY = '{"type":"job.succeeded","timestamp":"2026-01-01T00:00:00+00:00","data":{}}'
MSG = "msg_0123456789abcdef0123456789abcdef"


def ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


async def test_a_2xx_is_delivered_and_verifies_with_standardwebhooks() -> None:
    # given a receiver and a fresh secret
    secret = new_secret()
    with receiver() as hook:
        # when a body is posted to it, signed
        headers = signed_headers(secret, msg_id=MSG, body=BODY)
        url = hook.url.replace("127.0.0.1", "localhost")
        sent = await post_signed(url, BODY, headers, timeout=5, allow_private=True)
        [got] = hook.wait_for(1)
    # then it arrived with the URL's own Host, and its signature verifies
    assert (sent.delivered, sent.response_code, sent.error) == (True, 200, None)
    assert got.headers["host"] == f"localhost:{hook.port}"
    assert got.headers["webhook-id"] == MSG
    assert got.verified(secret)["type"] == "job.succeeded"


def test_secrets_and_message_ids_have_the_standard_shape() -> None:
    import base64
    import uuid

    secret = new_secret()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 32
    assert message_id(uuid.UUID(int=1)) == "msg_" + "0" * 31 + "1"


async def test_a_5xx_is_not_delivered_and_keeps_its_code() -> None:
    with receiver(500) as hook:
        headers = signed_headers(new_secret(), msg_id=MSG, body=BODY)
        sent = await post_signed(hook.url, BODY, headers, timeout=5, allow_private=True)
    assert (sent.delivered, sent.response_code, sent.error) == (False, 500, "HTTP 500")
    assert sent.retryable


async def test_a_redirect_is_not_followed() -> None:
    # given a receiver that redirects to another one
    with receiver() as target, receiver(302, location=target.url) as hook:
        headers = signed_headers(new_secret(), msg_id=MSG, body=BODY)
        # when a webhook is posted to the first
        sent = await post_signed(hook.url, BODY, headers, timeout=5, allow_private=True)
        hook.wait_for(1)
        # then the redirect is reported, and the second never hears of it
        assert sent.response_code == 302
        assert sent.error == "HTTP 302: redirects are not followed"
        assert target.requests == []


async def test_a_receiver_that_never_answers_costs_at_most_the_timeout() -> None:
    with receiver(hang=True) as hook:
        headers = signed_headers(new_secret(), msg_id=MSG, body=BODY)
        started = time.monotonic()
        sent = await post_signed(
            hook.url, BODY, headers, timeout=0.5, allow_private=True
        )
        took = time.monotonic() - started
    assert (sent.delivered, sent.error) == (False, "no answer within 0.5 s")
    assert took < 2


async def test_a_receiver_that_is_down_is_a_retryable_failure() -> None:
    # given a port nothing listens on
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    headers = signed_headers(new_secret(), msg_id=MSG, body=BODY)
    sent = await post_signed(
        f"http://127.0.0.1:{port}/hook", BODY, headers, timeout=5, allow_private=True
    )
    assert (sent.delivered, sent.error, sent.retryable) == (
        False,
        "could not connect",
        True,
    )


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1"])
async def test_loopback_receivers_are_refused_before_connecting_by_default(
    host: str,
) -> None:
    if host == "::1" and not ipv6_loopback():
        pytest.fail("this machine has no IPv6 loopback (::1) to test against")
    # given a live receiver on loopback, reached by address or by name
    with receiver(host="::1" if host == "::1" else "127.0.0.1") as hook:
        url = hook.url.replace("127.0.0.1", host) if host == "localhost" else hook.url
        headers = signed_headers(new_secret(), msg_id=MSG, body=BODY)
        # when private addresses are not allowed
        sent = await post_signed(url, BODY, headers, timeout=5, allow_private=False)
        # then nothing reached it, and the refusal is final
        assert hook.requests == []
    assert not sent.delivered
    assert sent.error is not None
    assert sent.error.startswith("address refused: ")
    assert "loopback" in sent.error
    assert not sent.retryable
