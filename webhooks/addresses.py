"""Which endpoint URLs the service calls. Pure: resolving host names is the caller's job.

An endpoint URL is ``http`` or ``https`` with a host, without user information or a fragment, at most 2,000
characters. Every address it resolves to must be public (globally routable, not multicast): a court
system's URL must not turn the service into a way to reach its own network. Private, loopback, link-local and
other special ranges are refused unless they fall in a network the operator allowed
(``TIAOJIE_WEBHOOK_ALLOWED_NETWORKS``, e.g. a court intranet, or loopback in tests). The same check runs when
the endpoint is registered and again on every connection (a host name may resolve differently later).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from tiaojie.errors import InvalidInput

__all__ = [
    "IpAddress",
    "IpNetwork",
    "ParsedUrl",
    "address_allowed",
    "literal_address",
    "parse_networks",
    "parse_url",
]

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
MAX_URL_LENGTH = 2000


@dataclass(frozen=True, slots=True)
class ParsedUrl:
    url: str
    scheme: str
    host: str  # without brackets for IPv6
    port: int


def _refuse(message: str, code: str) -> InvalidInput:
    return InvalidInput(message, field="url", code=code)


def parse_url(url: str) -> ParsedUrl:
    """The parts of an acceptable endpoint URL; InvalidInput ``invalid_url`` otherwise."""
    if len(url) > MAX_URL_LENGTH:
        raise _refuse(f"the URL is longer than {MAX_URL_LENGTH} characters", "invalid_url")
    if any(ch.isspace() or ord(ch) < 0x20 or ch == "\x7f" for ch in url):
        raise _refuse("the URL contains spaces or control characters", "invalid_url")
    try:
        parts = urlsplit(url)
        port = parts.port
        host = parts.hostname
    except ValueError:
        raise _refuse("not a valid URL", "invalid_url") from None
    if parts.scheme not in ("http", "https"):
        raise _refuse("the URL must start with https:// or http://", "invalid_url")
    if not host:
        raise _refuse("the URL has no host", "invalid_url")
    if parts.username is not None or parts.password is not None:
        raise _refuse("the URL must not carry a user name or password", "invalid_url")
    if parts.fragment or url.endswith("#"):
        raise _refuse("the URL must not have a fragment", "invalid_url")
    try:
        host.encode("idna")
    except UnicodeError:
        raise _refuse("the URL's host name is not valid", "invalid_url") from None
    if port == 0:
        raise _refuse("the URL's port is not valid", "invalid_url")
    return ParsedUrl(
        url=url, scheme=parts.scheme, host=host, port=port or (443 if parts.scheme == "https" else 80)
    )


def literal_address(host: str) -> IpAddress | None:
    """The address when ``host`` is an IP literal, else None."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def parse_networks(values: Iterable[str]) -> tuple[IpNetwork, ...]:
    """Networks from CIDR strings (``10.20.0.0/16``, ``::1/128``); ValueError on a bad one."""
    return tuple(ipaddress.ip_network(v.strip(), strict=False) for v in values if v.strip())


def address_allowed(address: IpAddress, allowed: Sequence[IpNetwork]) -> bool:
    """Whether the service may connect to ``address``: public, or inside an allowed network."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if any(address in network for network in allowed if network.version == address.version):
        return True
    return address.is_global and not address.is_multicast
