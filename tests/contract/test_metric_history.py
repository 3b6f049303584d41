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


# ---------------------------------------------------------------- get_metric_history_bulk_interval
def _log_steps(store: TrackingStore, run_id: str, steps: list[int], key: str = "m") -> None:
    """One point per step (value = step / 10, timestamp = 1000 + step), in batches of 1000."""
    for start in range(0, len(steps), 1000):
        chunk = steps[start : start + 1000]
        store.log_batch(run_id, metrics=[Metric(key, s / 10, 1000 + s, s) for s in chunk])


def _steps(metrics: list[Metric]) -> list[int]:
    return [m.step for m in metrics]


def _expected(steps: list[int], max_results: int) -> list[int]:
    """The reference sampling: ranks floor(i*(n-1)/(m-1)) of the distinct sorted steps."""
    distinct = sorted(set(steps))
    n = len(distinct)
    if n <= max_results:
        return distinct
    if max_results == 1:
        return [distinct[-1]]
    return [distinct[i * (n - 1) // (max_results - 1)] for i in range(max_results)]


def test_bulk_interval_samples_evenly_with_first_and_last(
    store: TrackingStore, run_id: str
) -> None:
    _log_steps(store, run_id, list(range(100)))

    sampled = store.get_metric_history_bulk_interval([run_id], "m", max_results=10)

    steps = _steps(sampled)
    assert steps == [0, 11, 22, 33, 44, 55, 66, 77, 88, 99]
    assert {m.run_id for m in sampled} == {run_id}
    assert {m.key for m in sampled} == {"m"}
    assert points(sampled)[:2] == [(0, 1000, 0.0), (11, 1011, 1.1)]


@pytest.mark.parametrize(
    "steps",
    [
        pytest.param(list(range(0, 5000, 10)), id="every-10"),
        pytest.param([i * i for i in range(400)], id="squares"),
        # Spaced like a progression (span divisible by n - 1) without being one.
        pytest.param([0, 2, 4, 5, 8, 10, 12, *range(14, 1200, 2)], id="almost-every-2"),
        pytest.param(list(range(-300, 300)), id="negative"),
    ],
)
def test_bulk_interval_samples_distinct_steps_not_step_values(
    store: TrackingStore, run_id: str, steps: list[int]
) -> None:
    _log_steps(store, run_id, steps)

    sampled = store.get_metric_history_bulk_interval([run_id], "m", max_results=37)

    assert _steps(sampled) == _expected(steps, 37)
    assert len(sampled) == 37


def test_bulk_interval_keeps_every_point_of_a_short_history(
    store: TrackingStore, run_id: str
) -> None:
    logged = [(3, 30, 0.3), (1, 20, 0.12), (1, 10, 0.11), (7, 5, 0.7), (3, 31, 0.31)]
    store.log_batch(run_id, metrics=[Metric("m", v, ts, s) for s, ts, v in logged])

    sampled = store.get_metric_history_bulk_interval([run_id], "m", max_results=3)

    # Three distinct steps fit in three samples; every point at them comes back, in order.
    assert points(sampled) == [
        (1, 10, 0.11),
        (1, 20, 0.12),
        (3, 30, 0.3),
        (3, 31, 0.31),
        (7, 5, 0.7),
    ]


def test_bulk_interval_returns_every_point_at_a_sampled_step(
    store: TrackingStore, run_id: str
) -> None:
    _log_steps(store, run_id, list(range(50)))
    store.log_metric(run_id, Metric("m", -1.0, 5, 49))  # a second point at the last step

    sampled = store.get_metric_history_bulk_interval([run_id], "m", max_results=5)

    assert _steps(sampled) == [0, 12, 24, 36, 49, 49]
    assert points(sampled)[-2:] == [(49, 5, -1.0), (49, 1049, 4.9)]


def test_bulk_interval_one_sample_is_the_last_step(store: TrackingStore, run_id: str) -> None:
    _log_steps(store, run_id, [2, 4, 9, 11])

    sampled = store.get_metric_history_bulk_interval([run_id], "m", max_results=1)

    assert _steps(sampled) == [11]


def test_bulk_interval_respects_the_step_range(store: TrackingStore, run_id: str) -> None:
    _log_steps(store, run_id, list(range(0, 1000, 2)))

    inside = store.get_metric_history_bulk_interval(
        [run_id], "m", max_results=5, start_step=101, end_step=301
    )
    from_start = store.get_metric_history_bulk_interval([run_id], "m", 3, start_step=990)
    to_end = store.get_metric_history_bulk_interval([run_id], "m", 3, end_step=4)
    single = store.get_metric_history_bulk_interval([run_id], "m", 3, start_step=8, end_step=8)
    empty = store.get_metric_history_bulk_interval([run_id], "m", 3, start_step=9, end_step=9)

    # In range are 102, 104, ..., 300: 100 steps, sampled at ranks 0, 24, 49, 74, 99.
    assert _steps(inside) == [102, 150, 200, 250, 300]
    assert _steps(from_start) == [990, 994, 998]
    assert _steps(to_end) == [0, 2, 4]
    assert _steps(single) == [8]
    assert empty == []


def test_bulk_interval_of_several_runs(
    store: TrackingStore, run_id: str, make_run: Callable[..., Run]
) -> None:
    other = make_run().info.run_id
    quiet = make_run().info.run_id  # logged nothing under this key
    _log_steps(store, run_id, list(range(30)))
    _log_steps(store, other, [5, 6, 100, 1000])
    _log_steps(store, quiet, [1, 2, 3], key="other-key")

    sampled = store.get_metric_history_bulk_interval(
        [other, quiet, run_id, other, "0" * 32], "m", max_results=4
    )

    # Runs in the order asked (duplicates once, unknown or silent runs contribute nothing).
    assert [(m.run_id, m.step) for m in sampled] == [
        (other, 5),
        (other, 6),
        (other, 100),
        (other, 1000),
        (run_id, 0),
        (run_id, 9),
        (run_id, 19),
        (run_id, 29),
    ]


def test_bulk_interval_keeps_nan_and_infinities(store: TrackingStore, run_id: str) -> None:
    values = [float("nan"), 1.5, float("inf"), float("-inf"), float("nan")]
    store.log_batch(run_id, metrics=[Metric("m", v, 10 + i, i) for i, v in enumerate(values)])

    sampled = store.get_metric_history_bulk_interval([run_id], "m", max_results=5)

    # As in get_metric_history: NaN stays NaN, infinities come back as the largest doubles.
    assert points(sampled) == points(store.get_metric_history(run_id, "m"))
    assert points(sampled)[0] == (0, 10, "nan")
    assert points(sampled)[-1] == (4, 14, "nan")


def test_bulk_interval_of_a_large_history(
    store: TrackingStore, run_id: str, make_run: Callable[..., Run]
) -> None:
    gappy = make_run().info.run_id
    _log_steps(store, run_id, list(range(20_000)))
    _log_steps(store, gappy, [s for s in range(30_000) if s % 3 and s % 7])

    sampled = store.get_metric_history_bulk_interval([run_id, gappy], "m", max_results=320)
    default = store.get_metric_history_bulk_interval([run_id], "m")

    first = [m for m in sampled if m.run_id == run_id]
    second = [m for m in sampled if m.run_id == gappy]
    assert len(first) == 320
    assert len(second) == 320
    assert _steps(first) == _expected(list(range(20_000)), 320)
    assert _steps(second)[0] == 1
    assert _steps(second)[-1] == 29_999
    assert len(default) == 2500  # MLflow's default and maximum per run


@pytest.mark.parametrize(
    ("run_count", "max_results", "start_step", "end_step"),
    [
        pytest.param(0, 10, None, None, id="no-runs"),
        pytest.param(101, 10, None, None, id="too-many-runs"),
        pytest.param(1, 0, None, None, id="max-results-zero"),
        pytest.param(1, 2501, None, None, id="max-results-too-large"),
        pytest.param(1, 10, 5, 4, id="start-after-end"),
    ],
)
def test_bulk_interval_rejects_bad_requests(
    store: TrackingStore,
    run_id: str,
    run_count: int,
    max_results: int,
    start_step: int | None,
    end_step: int | None,
) -> None:
    run_ids = [run_id] + [f"{i:032x}" for i in range(1, run_count)] if run_count else []

    with raises(InvalidParameter, "INVALID_PARAMETER_VALUE"):
        store.get_metric_history_bulk_interval(
            run_ids, "m", max_results=max_results, start_step=start_step, end_step=end_step
        )
