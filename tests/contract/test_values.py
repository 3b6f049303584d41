"""Params, tags, metrics and log_batch: values, immutability, limits and validation."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest

from wayline.entities import Metric, Param, Run, RunTag
from wayline.errors import InvalidParameter, NotFound
from wayline.store.tracking import TrackingStore

from ._support import DOUBLE_MAX, points, raises, snapshot

INVALID = (InvalidParameter, "INVALID_PARAMETER_VALUE")


@pytest.fixture
def run_id(make_run: Callable[..., Run]) -> str:
    return make_run(run_name="values").info.run_id


# ---------------------------------------------------------------- params


def test_log_params(store: TrackingStore, run_id: str) -> None:
    store.log_param(run_id, Param("alpha", "0.5"))
    store.log_param(run_id, Param("path with space/and:colon-x.y", ""))

    assert store.get_run(run_id).data.params == {
        "alpha": "0.5",
        "path with space/and:colon-x.y": "",
    }


def test_param_same_value_again_is_ok(store: TrackingStore, run_id: str) -> None:
    store.log_param(run_id, Param("alpha", "0.5"))
    store.log_param(run_id, Param("alpha", "0.5"))
    store.log_batch(run_id, params=[Param("alpha", "0.5")])

    assert store.get_run(run_id).data.params == {"alpha": "0.5"}


def test_param_different_value_refused(store: TrackingStore, run_id: str) -> None:
    store.log_param(run_id, Param("alpha", "0.5"))
    before = snapshot(store, run_id)

    with raises(*INVALID):
        store.log_param(run_id, Param("alpha", "0.6"))
    with raises(*INVALID):
        store.log_batch(run_id, params=[Param("alpha", "0.6")])

    assert snapshot(store, run_id) == before


def test_long_param_value_is_truncated(store: TrackingStore, run_id: str) -> None:
    store.log_param(run_id, Param("ok", "v" * 6000))
    store.log_param(run_id, Param("long", "a" * 6000 + "b"))
    # Logging the same long value again compares the truncated values: no "changed param".
    store.log_param(run_id, Param("long", "a" * 6000 + "b"))
    store.log_batch(run_id, params=[Param("long", "a" * 6000 + "c"), Param("batch", "w" * 7000)])

    assert store.get_run(run_id).data.params == {
        "ok": "v" * 6000,
        "long": "a" * 6000,
        "batch": "w" * 6000,
    }


def test_long_values_refused_without_truncation(refusing_store: TrackingStore, run_id: str) -> None:
    refusing_store.log_param(run_id, Param("ok", "v" * 6000))
    refusing_store.set_tag(run_id, RunTag("ok", "t" * 8000))
    before = snapshot(refusing_store, run_id)

    with raises(*INVALID):
        refusing_store.log_param(run_id, Param("too-long", "v" * 6001))
    with raises(*INVALID):
        refusing_store.set_tag(run_id, RunTag("too-long", "x" * 8001))
    with raises(*INVALID):
        refusing_store.log_batch(run_id, params=[Param("too-long", "v" * 6001)])
    with raises(*INVALID):
        refusing_store.log_batch(run_id, tags=[RunTag("too-long", "x" * 8001)])

    assert snapshot(refusing_store, run_id) == before


def test_params_are_per_run(store: TrackingStore, make_run: Callable[..., Run]) -> None:
    first = make_run().info.run_id
    second = make_run().info.run_id

    store.log_param(first, Param("alpha", "1"))
    store.log_param(second, Param("alpha", "2"))

    assert store.get_run(first).data.params == {"alpha": "1"}
    assert store.get_run(second).data.params == {"alpha": "2"}


def test_write_to_unknown_run(store: TrackingStore) -> None:
    writes: list[Callable[[], None]] = [
        lambda: store.log_param("0" * 32, Param("a", "1")),
        lambda: store.log_metric("0" * 32, Metric("m", 1.0, 1, 0)),
        lambda: store.set_tag("0" * 32, RunTag("t", "1")),
        lambda: store.log_batch("0" * 32, params=[Param("a", "1")]),
    ]
    for write in writes:
        with raises(NotFound, "RESOURCE_DOES_NOT_EXIST"):
            write()


# ---------------------------------------------------------------- tags


def test_set_tag_upserts(store: TrackingStore, run_id: str) -> None:
    store.set_tag(run_id, RunTag("t", "1"))
    store.set_tag(run_id, RunTag("t", "2"))
    store.set_tag(run_id, RunTag("u", "x" * 8000))

    tags = store.get_run(run_id).data.tags
    assert tags["t"] == "2"
    assert tags["u"] == "x" * 8000


def test_long_tag_value_is_truncated(store: TrackingStore, run_id: str) -> None:
    store.set_tag(run_id, RunTag("t", "x" * 8001))
    store.log_batch(run_id, tags=[RunTag("b", "y" * 9000)])

    tags = store.get_run(run_id).data.tags
    assert (tags["t"], tags["b"]) == ("x" * 8000, "y" * 8000)


def test_long_tag_value_at_creation_is_truncated(
    store: TrackingStore, make_run: Callable[..., Run]
) -> None:
    run = make_run(tags={"long": "z" * 8001})

    assert run.data.tags["long"] == "z" * 8000
    assert store.get_run(run.info.run_id).data.tags["long"] == "z" * 8000


def test_delete_tag(store: TrackingStore, run_id: str) -> None:
    store.set_tag(run_id, RunTag("t", "1"))
    store.set_tag(run_id, RunTag("u", "2"))

    store.delete_tag(run_id, "t")

    tags = store.get_run(run_id).data.tags
    assert "t" not in tags
    assert tags["u"] == "2"


def test_delete_absent_tag(store: TrackingStore, run_id: str) -> None:
    with raises(NotFound, "RESOURCE_DOES_NOT_EXIST"):
        store.delete_tag(run_id, "never-set")


def test_delete_tag_on_deleted_run(store: TrackingStore, run_id: str) -> None:
    store.set_tag(run_id, RunTag("t", "1"))
    store.delete_run(run_id)

    with raises(*INVALID):
        store.delete_tag(run_id, "t")

    assert store.get_run(run_id).data.tags["t"] == "1"


# ---------------------------------------------------------------- metrics


def test_log_metric(store: TrackingStore, run_id: str) -> None:
    store.log_metric(run_id, Metric("loss", 0.25, 1_700_000_000_001, 7))

    run = store.get_run(run_id)
    assert run.data.metrics == {"loss": 0.25}
    [latest] = run.data.latest_metrics
    assert (latest.key, latest.value, latest.timestamp, latest.step) == (
        "loss",
        0.25,
        1_700_000_000_001,
        7,
    )


def test_metric_values_round_trip_exactly(store: TrackingStore, run_id: str) -> None:
    values = [0.1, -0.0, 1e-300, 123456789.123456789, -2.5e200, 2**53 + 0.0, 5e-324]
    for step, value in enumerate(values):
        store.log_metric(run_id, Metric("m", value, 10, step))

    history = store.get_metric_history(run_id, "m")

    assert [m.value for m in history] == values


def test_nan_stored_as_nan(store: TrackingStore, run_id: str) -> None:
    store.log_metric(run_id, Metric("m", 1.0, 10, 0))
    store.log_metric(run_id, Metric("m", math.nan, 20, 1))

    history = store.get_metric_history(run_id, "m")
    assert points(history) == [(0, 10, 1.0), (1, 20, "nan")]
    assert math.isnan(store.get_run(run_id).data.metrics["m"])


@pytest.mark.parametrize(("value", "stored"), [(math.inf, DOUBLE_MAX), (-math.inf, -DOUBLE_MAX)])
def test_infinities_clamped(store: TrackingStore, run_id: str, value: float, stored: float) -> None:
    store.log_metric(run_id, Metric("m", value, 10, 0))

    assert [m.value for m in store.get_metric_history(run_id, "m")] == [stored]
    assert store.get_run(run_id).data.metrics == {"m": stored}


def test_replayed_point_not_duplicated(store: TrackingStore, run_id: str) -> None:
    point = Metric("m", 0.5, 10, 3)

    store.log_metric(run_id, point)
    store.log_metric(run_id, point)
    store.log_batch(run_id, metrics=[point])

    assert points(store.get_metric_history(run_id, "m")) == [(3, 10, 0.5)]


def test_replayed_nan_point_not_duplicated(store: TrackingStore, run_id: str) -> None:
    store.log_metric(run_id, Metric("m", math.nan, 10, 3))
    store.log_metric(run_id, Metric("m", math.nan, 10, 3))

    assert points(store.get_metric_history(run_id, "m")) == [(3, 10, "nan")]


def test_same_step_different_values_are_kept(store: TrackingStore, run_id: str) -> None:
    store.log_metric(run_id, Metric("m", 1.0, 10, 3))
    store.log_metric(run_id, Metric("m", 2.0, 10, 3))

    assert sorted(m.value for m in store.get_metric_history(run_id, "m")) == [1.0, 2.0]


def test_metric_default_step_is_zero(store: TrackingStore, run_id: str) -> None:
    store.log_metric(run_id, Metric("m", 1.0, 10))

    assert [m.step for m in store.get_metric_history(run_id, "m")] == [0]


def test_large_and_negative_steps(store: TrackingStore, run_id: str) -> None:
    store.log_metric(run_id, Metric("m", 1.0, 10, -5))
    store.log_metric(run_id, Metric("m", 2.0, 10, 2**62))

    assert points(store.get_metric_history(run_id, "m")) == [(-5, 10, 1.0), (2**62, 10, 2.0)]
    assert store.get_run(run_id).data.metrics == {"m": 2.0}


# ---------------------------------------------------------------- latest-metric semantics


def _latest(store: TrackingStore, run_id: str, key: str) -> tuple[int, int, float]:
    [metric] = [m for m in store.get_run(run_id).data.latest_metrics if m.key == key]
    return (metric.step, metric.timestamp, metric.value)


def test_latest_is_highest_step_even_when_logged_out_of_order(
    store: TrackingStore, run_id: str
) -> None:
    store.log_metric(run_id, Metric("m", 1.0, 100, 1))
    store.log_metric(run_id, Metric("m", 3.0, 50, 3))
    store.log_metric(run_id, Metric("m", 2.0, 200, 2))
    store.log_metric(run_id, Metric("m", 0.5, 300, 0))

    assert _latest(store, run_id, "m") == (3, 50, 3.0)


def test_latest_on_equal_steps_is_highest_timestamp(store: TrackingStore, run_id: str) -> None:
    store.log_metric(run_id, Metric("m", 1.0, 10, 5))
    store.log_metric(run_id, Metric("m", 2.0, 30, 5))
    store.log_metric(run_id, Metric("m", 3.0, 20, 5))

    assert _latest(store, run_id, "m") == (5, 30, 2.0)


def test_latest_on_equal_step_and_timestamp_is_highest_value(
    store: TrackingStore, run_id: str
) -> None:
    store.log_metric(run_id, Metric("m", 1.0, 10, 5))
    store.log_metric(run_id, Metric("m", 7.0, 10, 5))
    store.log_metric(run_id, Metric("m", 3.0, 10, 5))

    assert _latest(store, run_id, "m") == (5, 10, 7.0)


def test_latest_prefers_number_over_nan_at_same_point(store: TrackingStore, run_id: str) -> None:
    store.log_metric(run_id, Metric("m", 2.0, 10, 1))
    store.log_metric(run_id, Metric("m", math.nan, 10, 1))

    assert _latest(store, run_id, "m") == (1, 10, 2.0)


def test_latest_in_one_batch(store: TrackingStore, run_id: str) -> None:
    store.log_batch(
        run_id,
        metrics=[
            Metric("m", 4.0, 10, 9),
            Metric("m", 1.0, 99, 1),
            Metric("m", 5.0, 10, 9),
            Metric("n", -1.0, 1, 0),
        ],
    )

    assert _latest(store, run_id, "m") == (9, 10, 5.0)
    assert _latest(store, run_id, "n") == (0, 1, -1.0)


def test_latest_across_batches_and_single_writes(store: TrackingStore, run_id: str) -> None:
    store.log_batch(run_id, metrics=[Metric("m", 1.0, 10, 5)])
    store.log_metric(run_id, Metric("m", 9.0, 5, 4))
    store.log_batch(run_id, metrics=[Metric("m", 0.0, 20, 5)])

    assert _latest(store, run_id, "m") == (5, 20, 0.0)


# ---------------------------------------------------------------- log_batch


def test_log_batch_writes_everything(store: TrackingStore, run_id: str) -> None:
    store.log_batch(
        run_id,
        metrics=[Metric("a", 1.0, 10, 0), Metric("a", 2.0, 11, 1), Metric("b", 3.0, 10, 0)],
        params=[Param("p", "1"), Param("q", "2")],
        tags=[RunTag("t", "x")],
    )

    run = store.get_run(run_id)
    assert run.data.metrics == {"a": 2.0, "b": 3.0}
    assert run.data.params == {"p": "1", "q": "2"}
    assert run.data.tags["t"] == "x"
    assert points(store.get_metric_history(run_id, "a")) == [(0, 10, 1.0), (1, 11, 2.0)]


def test_log_batch_at_the_limits(store: TrackingStore, run_id: str) -> None:
    store.log_batch(run_id, metrics=[Metric("m", float(i), 10, i) for i in range(1000)])
    store.log_batch(
        run_id,
        params=[Param(f"p{i}", "v") for i in range(100)],
        tags=[RunTag(f"t{i}", "v") for i in range(100)],
    )

    run = store.get_run(run_id)
    assert len(store.get_metric_history(run_id, "m")) == 1000
    assert run.data.metrics == {"m": 999.0}
    assert len(run.data.params) == 100
    assert {f"t{i}" for i in range(100)} <= set(run.data.tags)


def test_log_batch_empty_is_ok(store: TrackingStore, run_id: str) -> None:
    before = snapshot(store, run_id)

    store.log_batch(run_id)

    assert snapshot(store, run_id) == before


def _valid_items() -> dict[str, list[object]]:
    return {
        "metrics": [Metric("good", 1.0, 10, 0)],
        "params": [Param("good", "1")],
        "tags": [RunTag("good", "1")],
    }


def _batch(kind: str, items: list[object]) -> dict[str, list[object]]:
    batch = _valid_items()
    batch[kind] = batch[kind] + items
    return batch


BAD_BATCHES = {
    "1001 metrics": {"metrics": [Metric("m", 1.0, 10, i) for i in range(1001)]},
    "101 params": _batch("params", [Param(f"p{i}", "v") for i in range(100)]),
    "101 tags": _batch("tags", [RunTag(f"t{i}", "v") for i in range(100)]),
    "1001 items in all": {
        "metrics": [Metric("m", 1.0, 10, i) for i in range(900)],
        "params": [Param(f"p{i}", "v") for i in range(51)],
        "tags": [RunTag(f"t{i}", "v") for i in range(50)],
    },
    "duplicate param keys": _batch("params", [Param("dup", "1"), Param("dup", "1")]),
    "param key ../x": _batch("params", [Param("../x", "1")]),
    "param key /a": _batch("params", [Param("/a", "1")]),
    "metric key a//b": _batch("metrics", [Metric("a//b", 1.0, 10, 0)]),
    "tag key ./a": _batch("tags", [RunTag("./a", "1")]),
    "metric key with bad char": _batch("metrics", [Metric("a$b", 1.0, 10, 0)]),
    "empty param key": _batch("params", [Param("", "1")]),
    "too long metric key": _batch("metrics", [Metric("k" * 251, 1.0, 10, 0)]),
    "too long param key": _batch("params", [Param("k" * 251, "1")]),
    "too long tag key": _batch("tags", [RunTag("k" * 251, "1")]),
    "bool metric value": _batch("metrics", [Metric("m", True, 10, 0)]),
    "string metric value": _batch("metrics", [Metric("m", "1.0", 10, 0)]),  # type: ignore[arg-type]
    "negative timestamp": _batch("metrics", [Metric("m", 1.0, -1, 0)]),
    "float step": _batch("metrics", [Metric("m", 1.0, 10, 1.5)]),  # type: ignore[arg-type]
    "changed param": _batch("params", [Param("fixed", "changed")]),
}


@pytest.mark.parametrize("batch", BAD_BATCHES.values(), ids=BAD_BATCHES.keys())
def test_invalid_batch_writes_nothing(
    store: TrackingStore, run_id: str, batch: dict[str, list[object]]
) -> None:
    store.log_param(run_id, Param("fixed", "original"))
    store.log_metric(run_id, Metric("m", 0.5, 5, 0))
    before = snapshot(store, run_id)

    with raises(*INVALID):
        store.log_batch(run_id, **batch)  # type: ignore[arg-type]

    assert snapshot(store, run_id) == before
    assert "good" not in store.get_run(run_id).data.params


@pytest.mark.parametrize("key", ["../x", "/a", "a//b", "a/../b", "a/./b", "x" * 251, ""])
def test_invalid_keys_on_single_writes(store: TrackingStore, run_id: str, key: str) -> None:
    before = snapshot(store, run_id)

    writes: list[Callable[[], None]] = [
        lambda: store.log_metric(run_id, Metric(key, 1.0, 10, 0)),
        lambda: store.log_param(run_id, Param(key, "1")),
        lambda: store.set_tag(run_id, RunTag(key, "1")),
    ]
    for write in writes:
        with raises(*INVALID):
            write()

    assert snapshot(store, run_id) == before


@pytest.mark.parametrize("key", ["a", "A_b-c.d/e f:g", "k" * 250, "a/b/c", "1"])
def test_valid_keys(store: TrackingStore, run_id: str, key: str) -> None:
    store.log_metric(run_id, Metric(key, 1.0, 10, 0))
    store.log_param(run_id, Param(key, "1"))
    store.set_tag(run_id, RunTag(key, "1"))

    run = store.get_run(run_id)
    assert run.data.metrics[key] == 1.0
    assert run.data.params[key] == "1"
    assert run.data.tags[key] == "1"


@pytest.mark.parametrize(
    "metric",
    [Metric("m", True, 10, 0), Metric("m", 1.0, -1, 0)],
    ids=["bool value", "negative timestamp"],
)
def test_invalid_single_metric(store: TrackingStore, run_id: str, metric: Metric) -> None:
    with raises(*INVALID):
        store.log_metric(run_id, metric)

    assert store.get_run(run_id).data.metrics == {}
