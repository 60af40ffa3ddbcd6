"""Outbound address rules for webhooks: which hosts Darkroom may POST to.

A webhook URL is the caller's to choose, so without rules it reaches whatever
the sender can: its own loopback services, the private network, a cloud's
metadata service. Hosts are resolved and every address checked at each send (a
name may point elsewhere tomorrow); the request then goes to the checked
address itself, so a second lookup cannot swap it (DNS rebinding).
"""

import asyncio
import ipaddress
import socket

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Never a webhook receiver, even where private addresses are allowed: AWS, GCP and
# Azure's 169.254.169.254, ECS task metadata, AWS's IPv6 one, Alibaba's.
METADATA = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "169.254.170.2", "fd00:ec2::254", "100.100.100.200")
)
CGNAT = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT: not global
NAT64 = ipaddress.ip_network("64:ff9b::/96")  # IPv4 reached through a NAT64 gateway


class AddressRefused(Exception):  # noqa: N818  # reads as the refusal it reports
    """The host's address may not be reached; the message says which and why."""


class UnknownHost(Exception):  # noqa: N818  # as above
    """The host did not resolve (a retry may find it)."""


def refusal(ip: IPAddress, *, allow_private: bool) -> str | None:
    """Why `ip` may not be reached, or None when it may."""
    embedded = _embedded_ipv4(ip)
    if embedded is not None:
        # ::ffff:10.0.0.1 and friends reach the IPv4 address inside them.
        return refusal(embedded, allow_private=allow_private)
    if ip in METADATA:
        return f"{ip} is a cloud metadata address"
    if ip.is_unspecified or ip.is_multicast:
        return f"{ip} is not a unicast address"
    if ip.is_loopback:
        kind = "a loopback address"
    elif ip.is_link_local:
        kind = "a link-local address"
    elif ip.is_reserved:
        return f"{ip} is a reserved address"
    elif ip.is_private or ip in CGNAT or _site_local(ip):
        kind = "a private address"
    elif ip.is_global:
        return None
    else:
        kind = "not a public address"
    return None if allow_private else f"{ip} is {kind}"


def _site_local(ip: IPAddress) -> bool:
    """fec0::/10: deprecated, but still private, and global to Python's eyes."""
    return isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local


def _embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries (mapped, 6to4, Teredo, NAT64)."""
    if not isinstance(ip, ipaddress.IPv6Address):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if ip in NAT64:
        return ipaddress.IPv4Address(ip.packed[-4:])
    return None


def literal_ip(host: str) -> IPAddress | None:
    """The address a host names literally (`10.0.0.1`, `[::1]`), or None for a name."""
    try:
        return ipaddress.ip_address(host.removeprefix("[").removesuffix("]"))
    except ValueError:
        return None


async def resolve_allowed(host: str, port: int, *, allow_private: bool) -> IPAddress:
    """The address to connect to for `host`: it resolves, and every address it
    resolves to is allowed (a name with one bad address among good ones is refused,
    so the choice of address cannot be steered)."""
    ip = literal_ip(host)
    if ip is not None:
        addresses = [ip]
    else:
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as err:
            raise UnknownHost(f"{host} did not resolve") from err
        addresses = list(
            dict.fromkeys(ipaddress.ip_address(str(info[4][0])) for info in infos)
        )
        if not addresses:
            raise UnknownHost(f"{host} did not resolve")
    for address in addresses:
        reason = refusal(address, allow_private=allow_private)
        if reason is not None:
            shown = reason if ip is not None else f"{host} resolves to {reason}"
            raise AddressRefused(shown)
    return addresses[0]
