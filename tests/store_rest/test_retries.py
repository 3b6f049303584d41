"""Retry policy of the REST client (spec rest-tracking.md §1.4), against a scripted transport."""

from __future__ import annotations

import time

import httpx
import pytest

from wayline.entities import Metric, RunTag
from wayline.errors import WaylineError
from wayline.protocol import route
from wayline.store.rest import RestSettings
from wayline.store.rest.client import RETRY_SAFE_ROUTES, RestClient

from ._support import FAST, ScriptedFactory

EXPERIMENT = {
    "experiment_id": "1",
    "name": "e",
    "artifact_location": "a",
    "lifecycle_stage": "active",
}


def test_get_retried_on_503_until_success(scripted: ScriptedFactory) -> None:
    s = scripted(
        httpx.Response(503, text="busy"),
        httpx.Response(503, text="busy"),
        httpx.Response(200, json={"experiment": EXPERIMENT}),
    )
    assert s.store.get_experiment("1").name == "e"
    assert len(s.requests) == 3
    # urllib3's schedule: the first retry is immediate, then factor * 2**(n-1).
    assert s.sleeps == [0.0, 0.02]


def test_retry_safe_write_retried_on_500(scripted: ScriptedFactory) -> None:
    s = scripted(httpx.Response(500, text="oops"))
    s.store.log_metric("r1", Metric("loss", 1.0, timestamp=5, step=0))
    assert len(s.requests) == 2


def test_non_idempotent_post_not_retried_on_500(scripted: ScriptedFactory) -> None:
    s = scripted(httpx.Response(500, json={"error_code": "INTERNAL_ERROR", "message": "boom"}))
    with pytest.raises(WaylineError, match="boom") as info:
        s.store.create_run("0")
    assert info.value.error_code == "INTERNAL_ERROR"
    assert len(s.requests) == 1
    assert s.sleeps == []


def test_non_idempotent_post_retried_on_429(scripted: ScriptedFactory) -> None:
    s = scripted(httpx.Response(429), httpx.Response(200, json={"experiment_id": "7"}))
    assert s.store.create_experiment("x") == "7"
    assert len(s.requests) == 2


def test_retry_after_is_honoured(scripted: ScriptedFactory) -> None:
    s = scripted(
        httpx.Response(503, headers={"Retry-After": "0.05"}),
        httpx.Response(429, headers={"Retry-After": "2"}),
        httpx.Response(200, json={"experiment": EXPERIMENT}),
    )
    s.store.get_experiment("1")
    assert s.sleeps == [0.05, 2.0]


def test_retry_after_is_capped(scripted: ScriptedFactory) -> None:
    settings = RestSettings(max_retries=1, backoff_jitter=0.0, max_backoff=3.0)
    s = scripted(
        httpx.Response(503, headers={"Retry-After": "3600"}),
        httpx.Response(200, json={"experiment": EXPERIMENT}),
        settings=settings,
    )
    assert s.store.get_experiment_by_name("e") is not None
    assert s.sleeps == [3.0]


def test_retry_after_real_wait_with_tiny_value() -> None:
    calls: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(time.monotonic())
        if len(calls) == 1:
            return httpx.Response(503, headers={"Retry-After": "0.05"})
        return httpx.Response(200, json={})

    client = RestClient("http://t", FAST, transport=httpx.MockTransport(handler))
    try:
        assert client.call(route("GetExperiment"), {"experiment_id": "1"}) == {}
    finally:
        client.close()
    assert calls[1] - calls[0] >= 0.05


def test_gives_up_after_max_retries(scripted: ScriptedFactory) -> None:
    s = scripted(*[httpx.Response(503, text="down")] * 10)
    with pytest.raises(WaylineError) as info:
        s.store.get_run("r1")
    assert info.value.error_code == "TEMPORARILY_UNAVAILABLE"
    assert len(s.requests) == 1 + FAST.max_retries


def test_connection_error_retried_even_for_non_idempotent(scripted: ScriptedFactory) -> None:
    s = scripted(httpx.ConnectError("refused"), httpx.Response(200, json={"experiment_id": "3"}))
    assert s.store.create_experiment("x") == "3"
    assert len(s.requests) == 2


def test_read_error_not_retried_for_non_idempotent(scripted: ScriptedFactory) -> None:
    # The server may have applied the write before the connection dropped.
    s = scripted(httpx.ReadError("reset"))
    with pytest.raises(WaylineError, match="ReadError"):
        s.store.create_experiment("x")
    assert len(s.requests) == 1


def test_read_error_retried_for_retry_safe_write(scripted: ScriptedFactory) -> None:
    s = scripted(httpx.ReadTimeout("slow"))
    s.store.set_tag("r1", RunTag("k", "v"))
    assert len(s.requests) == 2


def test_unreachable_server_is_a_wayline_error(scripted: ScriptedFactory) -> None:
    s = scripted(*[httpx.ConnectError("refused")] * 10)
    with pytest.raises(WaylineError, match="ConnectError") as info:
        s.store.get_experiment("1")
    assert isinstance(info.value.__cause__, httpx.ConnectError)


def test_4xx_not_retried(scripted: ScriptedFactory) -> None:
    s = scripted(
        httpx.Response(400, json={"error_code": "INVALID_PARAMETER_VALUE", "message": "m"})
    )
    with pytest.raises(WaylineError):
        s.store.log_batch("r1")
    assert len(s.requests) == 1


def test_backoff_grows_and_is_capped() -> None:
    settings = RestSettings(backoff_factor=2.0, backoff_jitter=0.0, max_backoff=20.0)
    client = RestClient("http://t", settings)
    waits = [client._backoff(n, None) for n in range(1, 6)]
    assert waits == [0.0, 4.0, 8.0, 16.0, 20.0]


def test_jitter_stays_within_bounds() -> None:
    client = RestClient("http://t", RestSettings(backoff_factor=1.0, backoff_jitter=0.5))
    for _ in range(50):
        assert 2.0 <= client._backoff(2, None) <= 2.5


def test_retry_safe_routes_are_in_the_route_table() -> None:
    for name in RETRY_SAFE_ROUTES:
        assert route(name).method == "POST"
