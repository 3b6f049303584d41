"""Webhook URL validation: schemes, host names, and the addresses a webhook may not reach."""

from __future__ import annotations

import ipaddress

import pytest

from wayline.errors import InvalidParameter
from wayline.webhooks import validate_webhook_url
from wayline.webhooks.urls import (
    HostResolutionError,
    non_public_reason,
    private_ips_allowed,
    resolve_target,
)

PUBLIC = [
    "https://93.184.215.14/hook",
    "http://93.184.215.14:8080/hook?x=1",
    "https://[2606:4700:4700::1111]/hook",
    "https://user:pw@8.8.8.8/hook",
    "http://[::ffff:8.8.8.8]/hook",  # IPv4-mapped form of a public address
]
REFUSED = {
    "http://127.0.0.1/hook": "loopback",
    "http://127.255.0.9:9000/hook": "loopback",
    "http://localhost:5000/hook": "loopback",  # a name, resolved
    "http://[::1]/hook": "loopback",
    "http://0.0.0.0/hook": "unspecified",
    "http://[::]/hook": "unspecified",
    "http://169.254.169.254/latest/meta-data": "link-local",  # cloud metadata
    "http://[fe80::1]/hook": "link-local",
    "http://10.1.2.3/hook": "private",
    "http://172.16.0.1/hook": "private",
    "http://192.168.1.10/hook": "private",
    "http://[fc00::1]/hook": "private",
    "http://[fd12:3456::1]/hook": "private",
    "http://224.0.0.1/hook": "multicast",
    "http://239.255.255.250/hook": "multicast",
    "http://[ff02::1]/hook": "multicast",
    "http://240.0.0.1/hook": "reserved",
    "http://100.64.0.1/hook": "not globally routable",  # carrier-grade NAT
    "http://[::ffff:127.0.0.1]/hook": "loopback",  # IPv4-mapped IPv6
    "http://[::ffff:10.0.0.1]/hook": "private",
    "http://[::ffff:169.254.169.254]/hook": "link-local",
    "http://[64:ff9b::a9fe:a9fe]/hook": "link-local",  # NAT64 of 169.254.169.254
    "http://[2002:7f00:1::]/hook": "loopback",  # 6to4 of 127.0.0.1
}


@pytest.fixture(autouse=True)
def _no_switch(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("WAYLINE_WEBHOOK_ALLOW_PRIVATE_IPS", "MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize("url", PUBLIC)
def test_public_http_and_https_urls_pass(url: str) -> None:
    validate_webhook_url(url)


@pytest.mark.parametrize(("url", "reason"), REFUSED.items())
def test_non_public_addresses_are_refused_with_what_to_do(url: str, reason: str) -> None:
    with pytest.raises(InvalidParameter) as caught:
        validate_webhook_url(url)
    message = caught.value.message
    assert f"({reason})" in message
    assert "WAYLINE_WEBHOOK_ALLOW_PRIVATE_IPS=true" in message
    assert caught.value.error_code == "INVALID_PARAMETER_VALUE"


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("ftp://93.184.215.14/hook", "scheme 'ftp'"),
        ("file:///etc/passwd", "scheme 'file'"),
        ("93.184.215.14/hook", "scheme"),
        ("", "must not be empty"),
        ("   ", "must not be empty"),
        ("https:///hook", "no host"),
        ("http://a b/hook", "invalid host name"),
        ("http://127.1/hook", "not a canonical IP address"),
        ("http://0x7f000001/hook", "not a canonical IP address"),
        ("http://2130706433/hook", "not a canonical IP address"),
        ("http://93.184.215.14:99999/hook", "Invalid webhook URL"),
    ],
)
def test_malformed_urls_are_refused(url: str, words: str) -> None:
    with pytest.raises(InvalidParameter, match=words):
        validate_webhook_url(url)


def test_a_host_that_does_not_resolve_is_refused() -> None:
    with pytest.raises(HostResolutionError, match="does not resolve"):
        validate_webhook_url("https://no-such-host.invalid/hook")
    # Even with private addresses allowed: there must be somewhere to deliver to.
    with pytest.raises(InvalidParameter, match="does not resolve"):
        validate_webhook_url("https://no-such-host.invalid/hook", allow_private=True)


@pytest.mark.parametrize(
    "name", ["WAYLINE_WEBHOOK_ALLOW_PRIVATE_IPS", "MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS"]
)
def test_the_switch_allows_private_addresses(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.setenv(name, "true")
    for url in REFUSED:
        validate_webhook_url(url)
    with pytest.raises(InvalidParameter, match="scheme"):
        validate_webhook_url("ftp://127.0.0.1/x")  # the scheme rule stays


@pytest.mark.parametrize(
    ("value", "allowed"),
    [("TRUE", True), ("1", True), ("false", False), ("", False), ("no", False)],
)
def test_switch_values(monkeypatch: pytest.MonkeyPatch, value: str, allowed: bool) -> None:
    monkeypatch.setenv("WAYLINE_WEBHOOK_ALLOW_PRIVATE_IPS", value)
    assert private_ips_allowed() is allowed


def test_wayline_switch_wins_over_mlflows() -> None:
    env = {"WAYLINE_WEBHOOK_ALLOW_PRIVATE_IPS": "false", "MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS": "true"}
    assert not private_ips_allowed(env)
    assert private_ips_allowed({"MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS": "true"})


def test_explicit_argument_overrides_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WAYLINE_WEBHOOK_ALLOW_PRIVATE_IPS", "true")
    with pytest.raises(InvalidParameter, match="loopback"):
        validate_webhook_url("http://127.0.0.1/x", allow_private=False)


def test_target_pins_the_checked_address_and_keeps_the_host_for_http_and_tls() -> None:
    target = resolve_target("https://u:p@localhost:8443/a/b?x=1", allow_private=True)

    assert target.addresses == (ipaddress.ip_address("127.0.0.1"),)
    pinned = target.pinned_url()
    assert (pinned.host, pinned.port, pinned.raw_path) == ("127.0.0.1", 8443, b"/a/b?x=1")
    assert (pinned.username, pinned.password) == ("u", "p")
    assert target.headers() == {"Host": "localhost:8443"}
    assert target.extensions() == {"sni_hostname": "localhost"}
    plain = resolve_target("http://localhost/x", allow_private=True)
    assert plain.headers() == {"Host": "localhost"}
    assert plain.extensions() == {}
    v6 = resolve_target("http://[::1]:81/x", allow_private=True)
    assert str(v6.pinned_url()) == "http://[::1]:81/x"


def test_non_public_reason_names_public_addresses_none() -> None:
    assert non_public_reason(ipaddress.ip_address("8.8.8.8")) is None
    assert non_public_reason(ipaddress.ip_address("2606:4700:4700::1111")) is None
    assert non_public_reason(ipaddress.ip_address("192.0.2.1")) == "private"  # documentation net
