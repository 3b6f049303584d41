"""Small helpers shared by the contract tests (import them relatively: ``from ._support``)."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from wayline.entities import Metric, Run
from wayline.errors import WaylineError
from wayline.store.backend import Store
from wayline.store.tracking import TrackingStore

DOUBLE_MAX = 1.7976931348623157e308

StoreFactory = Callable[[], Store]


@contextmanager
def raises(error_class: type[WaylineError], error_code: str) -> Iterator[None]:
    """Expect ``error_class`` carrying exactly ``error_code`` (the code is what clients see)."""
    with pytest.raises(error_class) as info:
        yield
    assert info.value.error_code == error_code, info.value


def close_store(store: TrackingStore) -> None:
    """Release a store's connections (no ResourceWarning may leak: warnings are errors)."""
    store.close()


def points(metrics: list[Metric]) -> list[tuple[int, int, float | str]]:
    """(step, timestamp, value) of each point, NaN replaced by the string 'nan' to compare."""
    return [(m.step, m.timestamp, _comparable(m.value)) for m in metrics]


def _comparable(value: float) -> float | str:
    return "nan" if math.isnan(value) else value


def sorted_points(metrics: list[Metric]) -> list[tuple[int, int, float | str]]:
    """``points`` in a canonical order, for comparing histories whose tie order is unspecified."""
    return sorted(points(metrics), key=lambda p: (p[0], p[1], str(p[2])))


def normalized(run: Run) -> tuple[object, ...]:
    """A run as comparable data: the order of its values' lists is not part of the contract."""
    inputs = sorted(
        (repr(i.dataset), sorted((t.key, t.value) for t in i.tags))
        for i in run.inputs.dataset_inputs
    )
    return (
        run.info,
        sorted((m.key, m.step, m.timestamp, _comparable(m.value)) for m in run.data.latest_metrics),
        run.data.params,
        run.data.tags,
        inputs,
    )


def snapshot(store: TrackingStore, run_id: str) -> tuple[object, ...]:
    """Everything observable about a run's values, to check a failed write changed nothing."""
    run: Run = store.get_run(run_id)
    histories = {
        key: sorted_points(store.get_metric_history(run_id, key))
        for key in sorted(run.data.metrics)
    }
    return (normalized(run), histories)
