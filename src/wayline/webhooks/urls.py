"""Where a webhook may deliver: URL checks and the address rules that guard against SSRF.

A webhook makes the server send requests to a URL a user chose, so a careless rule would let any
user reach the server's own network (cloud metadata at 169.254.169.254, databases on loopback).
The rules: the scheme is http or https; the host is a DNS name or a canonical IP literal; it
resolves; and every address it resolves to is public (IPv4-mapped, 6to4 and NAT64 IPv6 forms are
judged by the IPv4 address they carry). ``WAYLINE_WEBHOOK_ALLOW_PRIVATE_IPS`` (or MLflow's
``MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS``) lifts the address rule for receivers on a private network.

``resolve_target`` is used twice: when a webhook is created or changed (``validate_webhook_url``)
and again before every delivery, whose connection then goes to the address that was just checked
(``Target.pinned_url``), so a DNS answer that changes in between (DNS rebinding) cannot redirect
it.
"""

from __future__ import annotations

import ipaddress
import os
import re
import socket
import threading
from collections.abc import Mapping
from dataclasses import dataclass

import httpx

from wayline.errors import InvalidParameter

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

ALLOW_PRIVATE_IPS_ENV = ("WAYLINE_WEBHOOK_ALLOW_PRIVATE_IPS", "MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS")
SCHEMES = ("http", "https")
_TRUE = ("true", "1", "yes", "on")
_RESOLVE_TIMEOUT_S = 5.0
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
# A host made only of numbers (decimal, octal, hex) is an IPv4 address to the C resolver, which
# reads "127.1" or "0x7f000001" as 127.0.0.1: such spellings must be canonical to be accepted.
_NUMERIC_HOST = re.compile(r"^(0x[0-9a-f]*|\d+)(\.(0x[0-9a-f]*|\d+))*\.?$", re.IGNORECASE)
_DNS_HOST = re.compile(
    r"^[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*\.?$"
)
_ALLOW_HINT = (
    "Point the webhook at a public host, or set WAYLINE_WEBHOOK_ALLOW_PRIVATE_IPS=true on the"
    " server to allow receivers on loopback or private networks."
)


class HostResolutionError(InvalidParameter):
    """The webhook's host name did not resolve (possibly a passing DNS failure)."""


def private_ips_allowed(environ: Mapping[str, str] | None = None) -> bool:
    """Whether the allow-private switch is on in ``environ`` (default ``os.environ``)."""
    env = os.environ if environ is None else environ
    for name in ALLOW_PRIVATE_IPS_ENV:
        value = env.get(name)
        if value is not None and value.strip():
            return value.strip().lower() in _TRUE
    return False


def embedded_ipv4(ip: Address) -> Address:
    """The IPv4 address an IPv6 transition address carries (mapped, 6to4, NAT64), else ``ip``."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            return embedded
    return ip


def non_public_reason(ip: Address) -> str | None:
    """Why ``ip`` is not a public address ("loopback", "private", …), or None if it is."""
    ip = embedded_ipv4(ip)
    # Order matters: 127.0.0.1 is also "private" to ipaddress, and the precise word helps more.
    checks = (
        ("unspecified", ip.is_unspecified),
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("reserved", ip.is_reserved),
        ("private", ip.is_private or getattr(ip, "is_site_local", False)),
        ("not globally routable", not ip.is_global),
    )
    return next((word for word, hit in checks if hit), None)


@dataclass(frozen=True, slots=True)
class Target:
    """A checked webhook URL: its parts and the addresses its host resolved to."""

    url: httpx.URL
    host: str  # as sent in Host and SNI: IDNA-encoded, or the IP literal
    addresses: tuple[Address, ...]

    def pinned_url(self) -> httpx.URL:
        """The URL with its host replaced by the first checked address: connecting to it cannot
        resolve the name again. Send it with ``headers()`` and ``extensions()``."""
        return self.url.copy_with(host=str(self.addresses[0]))

    def headers(self) -> dict[str, str]:
        return {"Host": self.url.netloc.decode("ascii")}

    def extensions(self) -> dict[str, str]:
        # TLS still names (SNI) and verifies the certificate against the host, not the address.
        return {"sni_hostname": self.host} if self.url.scheme == "https" else {}


def validate_webhook_url(url: str, *, allow_private: bool | None = None) -> None:
    """InvalidParameter unless ``url`` is an http(s) URL whose host resolves to public addresses.

    ``allow_private`` defaults to the ``WAYLINE_WEBHOOK_ALLOW_PRIVATE_IPS`` /
    ``MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS`` switch; when on, any address is accepted (the host must
    still resolve).
    """
    resolve_target(
        url, allow_private=private_ips_allowed() if allow_private is None else allow_private
    )


def resolve_target(url: str, *, allow_private: bool) -> Target:
    """Parse, resolve and check ``url``; InvalidParameter (HostResolutionError when the name does
    not resolve) with a message that says what to change."""
    parsed = _parse(url)
    host = parsed.raw_host.decode("ascii")
    addresses = _addresses(url, host, parsed.port or (443 if parsed.scheme == "https" else 80))
    if not allow_private:
        for ip in addresses:
            if reason := non_public_reason(ip):
                raise InvalidParameter(
                    f"Webhook URL {url!r} resolves to {ip} ({reason}): webhooks may only reach"
                    f" public addresses. {_ALLOW_HINT}"
                )
    return Target(parsed, host, addresses)


def _parse(url: str) -> httpx.URL:
    if not isinstance(url, str) or not url.strip():
        raise InvalidParameter(
            "Webhook URL must not be empty: give the http(s) URL of the receiver."
        )
    try:
        parsed = httpx.URL(url.strip())
    except (httpx.InvalidURL, ValueError) as error:
        raise InvalidParameter(f"Invalid webhook URL {url!r}: {error}.") from None
    if parsed.scheme not in SCHEMES:
        scheme = parsed.scheme or "(none)"
        raise InvalidParameter(
            f"Invalid webhook URL scheme {scheme!r} in {url!r}: use http:// or https://."
        )
    if parsed.port is not None and not 0 < parsed.port < 65536:
        raise InvalidParameter(f"Invalid webhook URL {url!r}: port {parsed.port} is out of range.")
    host = parsed.raw_host.decode("ascii")
    if not host:
        raise InvalidParameter(f"Webhook URL {url!r} has no host name: use http(s)://HOST/PATH.")
    if ":" not in host and not _DNS_HOST.match(host):
        raise InvalidParameter(
            f"Webhook URL {url!r} has an invalid host name {host!r}: use a DNS name or an IP"
            " address."
        )
    if ":" not in host and _NUMERIC_HOST.match(host):
        try:
            ipaddress.IPv4Address(host.rstrip("."))
        except ValueError:
            raise InvalidParameter(
                f"Webhook URL host {host!r} is not a canonical IP address: write it in full"
                " dotted-decimal form, e.g. 203.0.113.7."
            ) from None
    return parsed


def _addresses(url: str, host: str, port: int) -> tuple[Address, ...]:
    try:
        return (ipaddress.ip_address(host),)  # a literal: nothing to resolve
    except ValueError:
        pass
    found: list[Address] = []
    for info in _getaddrinfo(url, host, port):
        ip = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if ip not in found:
            found.append(ip)
    if not found:
        raise HostResolutionError(f"Webhook URL host {host!r} resolved to no address.")
    return tuple(found)


_AddrInfo = tuple[
    socket.AddressFamily, socket.SocketKind, int, str, tuple[str, int] | tuple[str, int, int, int]
]


def _getaddrinfo(url: str, host: str, port: int) -> list[_AddrInfo]:
    # getaddrinfo has no timeout of its own and a dead resolver would hang a request: it runs in a
    # daemon thread that is abandoned (and ends by itself) when it takes too long.
    outcome: dict[str, object] = {}

    def work() -> None:
        try:
            outcome["infos"] = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as error:
            outcome["error"] = error

    thread = threading.Thread(target=work, name="wayline-webhook-resolve", daemon=True)
    thread.start()
    thread.join(_RESOLVE_TIMEOUT_S)
    if thread.is_alive():
        raise HostResolutionError(
            f"Resolving webhook URL host {host!r} took over {_RESOLVE_TIMEOUT_S:g} s."
        )
    if "error" in outcome:
        raise HostResolutionError(
            f"Webhook URL {url!r}: host {host!r} does not resolve ({outcome['error']}). Check"
            " the host name, and that the server can resolve it."
        )
    infos: list[_AddrInfo] = outcome["infos"]  # type: ignore[assignment]
    return infos


__all__ = [
    "ALLOW_PRIVATE_IPS_ENV",
    "HostResolutionError",
    "Target",
    "embedded_ipv4",
    "non_public_reason",
    "private_ips_allowed",
    "resolve_target",
    "validate_webhook_url",
]
