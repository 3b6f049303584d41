"""The background logger, against a recording store: order, limits, failures surfacing."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import cast

import pytest

from wayline.entities import Metric, Param, RunTag
from wayline.errors import InvalidParameter
from wayline.store.tracking import TrackingStore
from wayline.tracking.async_logging import AsyncLogger


class RecordingStore:
    """Stands in for a TrackingStore: records writes; rejects keys starting with ``bad``."""

    def __init__(self) -> None:
        self.batches: list[tuple[str, list[Metric], list[Param], list[RunTag]]] = []
        self.metrics: list[Metric] = []
        self.params: dict[str, str] = {}
        self.tags: dict[str, str] = {}
        self.threads: set[str] = set()

    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
    ) -> None:
        self.threads.add(threading.current_thread().name)
        keys = [m.key for m in metrics] + [p.key for p in params] + [t.key for t in tags]
        if any(k.startswith("bad") for k in keys):
            raise InvalidParameter("bad key in batch")
        self.batches.append((run_id, list(metrics), list(params), list(tags)))
        self.metrics.extend(metrics)
        self.params.update((p.key, p.value) for p in params)
        self.tags.update((t.key, t.value) for t in tags)

    def log_metric(self, run_id: str, metric: Metric) -> None:
        if metric.key.startswith("bad"):
            raise InvalidParameter(f"Invalid metric name {metric.key!r}")
        self.metrics.append(metric)

    def log_param(self, run_id: str, param: Param) -> None:
        self.params[param.key] = param.value

    def set_tag(self, run_id: str, tag: RunTag) -> None:
        self.tags[tag.key] = tag.value


def make_logger() -> tuple[AsyncLogger, RecordingStore]:
    store = RecordingStore()
    return AsyncLogger(cast(TrackingStore, store)), store


def test_many_points_are_all_written_in_limited_batches() -> None:
    logger, store = make_logger()
    for step in range(5000):
        logger.log_metric("r1", "loss", 1.0 / (step + 1), 1000 + step, step)
    logger.flush()
    assert [m.step for m in store.metrics] == list(range(5000))
    assert all(len(m) + len(p) + len(t) <= 1000 for _, m, p, t in store.batches)
    assert store.threads == {"wayline-async-log"}


def test_params_tags_and_metrics_are_grouped_by_run() -> None:
    logger, store = make_logger()
    for i in range(150):
        logger.log_param("r1", f"p{i}", i)
        logger.set_tag("r2", f"t{i}", i)
    logger.log_metric("r2", "acc", 0.5, 1, 0)
    logger.flush()
    assert len(store.params) == 150 and store.params["p7"] == "7"
    assert len(store.tags) == 150
    assert all(len(p) <= 100 and len(t) <= 100 for _, _, p, t in store.batches)
    assert {run for run, *_ in store.batches} == {"r1", "r2"}


def test_invalid_value_is_raised_at_flush_and_others_survive() -> None:
    logger, store = make_logger()
    logger.log_metric("r1", "loss", 0.5, 1, 0)
    logger.log_metric("r1", "loss", "not a number", 1, 1)
    logger.log_metric("r1", "loss", 0.25, 1, 2)
    with pytest.raises(InvalidParameter, match="not a number"):
        logger.flush()
    assert [m.value for m in store.metrics] == [0.5, 0.25]
    logger.flush()  # the failure was reported once


def test_failing_batch_is_replayed_so_only_the_bad_value_is_lost() -> None:
    logger, store = make_logger()
    logger.log_metric("r1", "good", 1.0, 1, 0)
    logger.log_metric("r1", "bad key", 2.0, 1, 0)
    logger.log_metric("r1", "good", 3.0, 1, 1)
    with pytest.raises(InvalidParameter, match="bad key") as caught:
        logger.flush()
    assert [m.value for m in store.metrics] == [1.0, 3.0]
    assert any("synchronous=False" in note for note in caught.value.__notes__)


def test_errors_are_reported_per_run() -> None:
    logger, _store = make_logger()
    logger.log_metric("r1", "bad", 1.0, 1, 0)
    logger.log_metric("r2", "fine", 1.0, 1, 0)
    logger.flush("r2")  # r1's failure is not r2's
    with pytest.raises(InvalidParameter):
        logger.flush("r1")


def test_several_failures_are_counted_in_a_note() -> None:
    logger, _store = make_logger()
    for i in range(3):
        logger.log_metric("r1", f"bad{i}", 1.0, 1, 0)
    with pytest.raises(InvalidParameter) as caught:
        logger.flush()
    assert any("2 more" in note for note in caught.value.__notes__)


def test_flush_without_any_logging_is_a_no_op() -> None:
    logger, store = make_logger()
    logger.flush()
    assert store.batches == []


def test_run_operations_wait_flushes() -> None:
    logger, store = make_logger()
    logger.log_metric("r1", "m", 1.0, 1, 0)
    logger.operations.wait()
    assert len(store.metrics) == 1
