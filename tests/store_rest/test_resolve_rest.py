"""``http(s)://`` tracking URIs resolve to a REST store configured from the environment."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from wayline.store import resolve
from wayline.store.rest import RestSettings, RestStore


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    resolve.clear_cache()
    yield
    resolve.clear_cache()


@pytest.mark.parametrize("uri", ["http://localhost:5000", "https://tracking.example.com/prefix"])
def test_http_uri_gives_a_cached_rest_store(uri: str) -> None:
    store = resolve.tracking_store(uri)
    assert isinstance(store, RestStore)
    assert store.base_url == uri
    assert resolve.tracking_store(uri) is store


def test_settings_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("USERNAME", "PASSWORD", "TOKEN"):
        for prefix in ("WAYLINE", "MLFLOW"):
            monkeypatch.delenv(f"{prefix}_TRACKING_{name}", raising=False)
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "9")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "1")
    monkeypatch.setenv("WAYLINE_TRACKING_TOKEN", "secret")
    store = resolve.tracking_store("http://localhost:5001")
    assert isinstance(store, RestStore)
    assert store.settings == RestSettings(timeout=9.0, max_retries=1, token="secret")
