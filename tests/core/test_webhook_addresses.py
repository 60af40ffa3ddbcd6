"""Outbound address rules: what webhook URLs may name and what hosts may resolve to.

Nothing here connects anywhere: the rules are decided before any connection,
and resolving a literal address or `localhost` needs no network.
"""

import ipaddress

import pytest

from core.errors import ErrorCode, ServiceError
from core.webhooks.addresses import AddressRefused, refusal, resolve_allowed
from core.webhooks.endpoints import check_url

REFUSED_BY_DEFAULT = [
    ("127.0.0.1", "loopback"),
    ("::1", "loopback"),
    ("10.1.2.3", "private"),
    ("172.16.0.1", "private"),
    ("192.168.1.1", "private"),
    ("100.64.0.1", "private"),  # carrier-grade NAT
    ("fd12:3456::1", "private"),  # IPv6 unique local
    ("fec0::1", "private"),  # IPv6 site-local
    ("169.254.1.1", "link-local"),
    ("fe80::1", "link-local"),
    ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped
    ("::ffff:10.0.0.1", "private"),
    ("64:ff9b::a00:1", "private"),  # NAT64 of 10.0.0.1
    ("2002:a00:1::", "private"),  # 6to4 of 10.0.0.1
]
ALWAYS_REFUSED = [
    ("169.254.169.254", "metadata"),
    ("fd00:ec2::254", "metadata"),
    ("::ffff:169.254.169.254", "metadata"),
    ("0.0.0.0", "unicast"),
    ("::", "unicast"),
    ("224.0.0.1", "unicast"),
    ("ff02::1", "unicast"),
    ("240.0.0.1", "reserved"),
]


@pytest.mark.parametrize(("address", "why"), REFUSED_BY_DEFAULT)
def test_non_public_addresses_are_refused_unless_private_ones_are_allowed(
    address: str, why: str
) -> None:
    ip = ipaddress.ip_address(address)
    reason = refusal(ip, allow_private=False)
    assert reason is not None
    assert why in reason
    assert refusal(ip, allow_private=True) is None


@pytest.mark.parametrize(("address", "why"), ALWAYS_REFUSED)
def test_metadata_multicast_and_unspecified_addresses_are_refused_even_when_allowed(
    address: str, why: str
) -> None:
    for allow in (False, True):
        reason = refusal(ipaddress.ip_address(address), allow_private=allow)
        assert reason is not None
        assert why in reason


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:4700:4700::1111"])
def test_public_addresses_pass(address: str) -> None:
    assert refusal(ipaddress.ip_address(address), allow_private=False) is None


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "10.0.0.1", "169.254.169.254", "[::1]", "localhost"]
)
async def test_a_host_is_refused_after_resolving_when_it_reaches_a_refused_address(
    host: str,
) -> None:
    # when a literal address, or a name resolving to loopback, is checked
    with pytest.raises(AddressRefused) as refused:
        await resolve_allowed(host, 443, allow_private=False)
    # then the refusal says what it reached
    if host == "localhost":
        assert str(refused.value).startswith("localhost resolves to ")


async def test_loopback_resolves_when_private_addresses_are_allowed() -> None:
    ip = await resolve_allowed("localhost", 80, allow_private=True)
    assert ip.is_loopback


@pytest.mark.parametrize(
    ("url", "code", "words"),
    [
        ("", ErrorCode.REQUIRED, "must not be empty"),
        ("http://example.com/hook", ErrorCode.URL_NOT_ALLOWED, "https://"),
        ("ftp://example.com/hook", ErrorCode.URL_NOT_ALLOWED, "https://"),
        ("https://user:pw@example.com/", ErrorCode.URL_NOT_ALLOWED, "user name"),
        ("https://127.0.0.1/hook", ErrorCode.URL_NOT_ALLOWED, "loopback"),
        ("https://[::1]:8443/hook", ErrorCode.URL_NOT_ALLOWED, "loopback"),
        ("https://10.0.0.7/hook", ErrorCode.URL_NOT_ALLOWED, "private"),
        ("https://169.254.169.254/latest", ErrorCode.URL_NOT_ALLOWED, "metadata"),
        ("https://localhost/hook", ErrorCode.URL_NOT_ALLOWED, "loopback name"),
        ("https://api.localhost/hook", ErrorCode.URL_NOT_ALLOWED, "loopback name"),
        ("https://example.com:99999/", ErrorCode.BAD_USER_INPUT, "not a valid URL"),
        ("https:///path-only", ErrorCode.BAD_USER_INPUT, "not a valid URL"),
        ("https://example.com/a#frag", ErrorCode.BAD_USER_INPUT, "fragment"),
        ("https://example.com/" + "a" * 2000, ErrorCode.BAD_USER_INPUT, "2000"),
    ],
)
def test_a_webhook_url_is_refused_with_the_rule_it_breaks(
    url: str, code: ErrorCode, words: str
) -> None:
    with pytest.raises(ServiceError) as refused:
        check_url(url, allow_private=False)
    assert (refused.value.code, refused.value.field) == (code, "url")
    assert words in refused.value.message


def test_a_public_https_url_is_accepted_trimmed() -> None:
    url = "  https://hooks.example.com:8443/darkroom?x=1 "
    assert check_url(url, allow_private=False) == url.strip()


def test_http_and_loopback_are_accepted_when_private_addresses_are_allowed() -> None:
    assert check_url("http://127.0.0.1:9000/hook", allow_private=True)
    with pytest.raises(ServiceError):
        check_url("http://169.254.169.254/", allow_private=True)
