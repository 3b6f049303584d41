"""The names ``wayline.store.rest`` offers, so its surface changes only on purpose."""

from __future__ import annotations

import dataclasses

import pytest

from wayline.store import rest
from wayline.store.tracking import TrackingStore


def test_public_names() -> None:
    assert sorted(rest.__all__) == ["RestSettings", "RestStore", "rest_settings_from_env"]
    for name in rest.__all__:
        assert hasattr(rest, name)


def test_rest_store_implements_the_whole_interface() -> None:
    assert issubclass(rest.RestStore, TrackingStore)
    assert not getattr(rest.RestStore, "__abstractmethods__", frozenset())


def test_settings_are_frozen() -> None:
    settings = rest.RestSettings()
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.timeout = 1.0  # type: ignore[misc]
