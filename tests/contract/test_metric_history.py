"""Metric history: order, paging with tokens, bounds."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from wayline.entities import Metric, Run
from wayline.errors import InvalidParameter, NotFound
from wayline.store.tracking import TrackingStore

from ._support import points, raises


@pytest.fixture
def run_id(make_run: Callable[..., Run]) -> str:
    return make_run().info.run_id


def test_history_ordered_by_step_then_timestamp(store: TrackingStore, run_id: str) -> None:
    logged = [(2, 30, 0.2), (0, 50, 0.0), (1, 20, 0.12), (1, 10, 0.11), (2, 5, 0.21)]
    for step, timestamp, value in logged:
        store.log_metric(run_id, Metric("m", value, timestamp, step))

    history = store.get_metric_history(run_id, "m")

    assert points(history) == [
        (0, 50, 0.0),
        (1, 10, 0.11),
        (1, 20, 0.12),
        (2, 5, 0.21),
        (2, 30, 0.2),
    ]
    assert {m.key for m in history} == {"m"}
    assert history.token is None


def test_history_of_one_key_only(
    store: TrackingStore, run_id: str, make_run: Callable[..., Run]
) -> None:
    other_run = make_run().info.run_id
    store.log_batch(run_id, metrics=[Metric("m", 1.0, 1, 0), Metric("n", 2.0, 1, 0)])
    store.log_metric(other_run, Metric("m", 3.0, 1, 0))

    assert points(store.get_metric_history(run_id, "m")) == [(0, 1, 1.0)]


def test_history_of_unlogged_key_is_empty(store: TrackingStore, run_id: str) -> None:
    history = store.get_metric_history(run_id, "never")

    assert list(history) == []
    assert history.token is None


def test_history_of_unknown_run(store: TrackingStore) -> None:
    with raises(NotFound, "RESOURCE_DOES_NOT_EXIST"):
        store.get_metric_history("0" * 32, "m")


def test_history_paging(store: TrackingStore, run_id: str) -> None:
    store.log_batch(run_id, metrics=[Metric("m", i / 10, 1000 + i, i) for i in range(23)])
    full = store.get_metric_history(run_id, "m")

    pages = []
    token: str | None = None
    while True:
        page = store.get_metric_history(run_id, "m", max_results=5, page_token=token)
        pages.append(page)
        token = page.token
        if not token:
            break

    assert [len(page) for page in pages] == [5, 5, 5, 5, 3]
    assert [m for page in pages for m in page] == list(full)
    assert points(full) == [(i, 1000 + i, i / 10) for i in range(23)]
    assert pages[-1].token is None


def test_history_exact_multiple_has_no_trailing_token(store: TrackingStore, run_id: str) -> None:
    store.log_batch(run_id, metrics=[Metric("m", float(i), 10, i) for i in range(6)])

    first = store.get_metric_history(run_id, "m", max_results=3)
    second = store.get_metric_history(run_id, "m", max_results=3, page_token=first.token)

    assert first.token
    assert [m.step for m in first] == [0, 1, 2]
    assert [m.step for m in second] == [3, 4, 5]
    assert second.token is None


def test_history_page_larger_than_history(store: TrackingStore, run_id: str) -> None:
    store.log_metric(run_id, Metric("m", 1.0, 10, 0))

    page = store.get_metric_history(run_id, "m", max_results=25000)

    assert len(page) == 1
    assert page.token is None


@pytest.mark.parametrize("max_results", [0, -1])
def test_history_max_results_must_be_positive(
    store: TrackingStore, run_id: str, max_results: int
) -> None:
    with raises(InvalidParameter, "INVALID_PARAMETER_VALUE"):
        store.get_metric_history(run_id, "m", max_results=max_results)


def test_history_bad_token(store: TrackingStore, run_id: str) -> None:
    with raises(InvalidParameter, "INVALID_PARAMETER_VALUE"):
        store.get_metric_history(run_id, "m", max_results=2, page_token="not a token!")
