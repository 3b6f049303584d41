"""The run page's metric charts: their state in the URL, and the downsampled series they draw.

``ChartState`` reads the chart controls from the query string (``x``, ``log``, ``smooth``,
repeated ``m``), which run-charts.js rewrites as they change: a chart view is a link, and the
back button undoes a change.
``metric_series`` serves one metric as columns (steps, timestamps, values) of at most
``MAX_POINTS`` points. From a SQL store they are each step bucket's lowest and highest point, so
a spike among a million points still shows; any other store answers with its bulk-interval
sampling (evenly spaced steps), the best the REST API offers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable
from urllib.parse import urlencode

from wayline.errors import InvalidParameter
from wayline.store.tracking import BULK_INTERVAL_MAX_RESULTS, TrackingStore

X_AXES = {"step": "Step", "time": "Wall time", "relative": "Relative time"}
DEFAULT_POINTS = 1000
MAX_POINTS = 2000
SYSTEM_PREFIX = "system/"
MAX_SMOOTHING = 0.99


@runtime_checkable
class ExtremesStore(Protocol):
    """A store that can downsample a history keeping its extremes (``SqlStore``)."""

    def get_metric_history_extremes(
        self, run_id: str, metric_key: str, max_points: int
    ) -> tuple[list[tuple[int, int, float | None]], bool]: ...


@dataclass(frozen=True)
class ChartState:
    """The chart controls as the URL holds them; unknown or bad values fall back to defaults."""

    x: str = "step"
    log_y: bool = False
    smoothing: float = 0.0
    chosen: tuple[str, ...] = ()  # metric keys to chart; empty means all of them

    @classmethod
    def from_query(cls, query: Mapping[str, str], chosen: Sequence[str]) -> ChartState:
        x = query.get("x", "step")
        try:
            smoothing = float(query.get("smooth", "0"))
        except ValueError:
            smoothing = 0.0
        if not 0.0 <= smoothing <= MAX_SMOOTHING:  # also refuses NaN
            smoothing = 0.0
        return cls(
            x=x if x in X_AXES else "step",
            log_y=query.get("log") == "1",
            smoothing=round(smoothing, 2),
            chosen=tuple(key for key in chosen if key),
        )

    def shows(self, key: str) -> bool:
        return not self.chosen or key in self.chosen


def split_system_metrics(keys: Sequence[str]) -> tuple[list[str], list[str]]:
    """(model metrics, ``system/`` metrics), each sorted."""
    system = sorted(key for key in keys if key.startswith(SYSTEM_PREFIX))
    return sorted(key for key in keys if not key.startswith(SYSTEM_PREFIX)), system


def parse_points(raw: str | None) -> int:
    """The ``points`` query parameter: 2..MAX_POINTS, DEFAULT_POINTS when absent."""
    if raw is None or raw == "":
        return DEFAULT_POINTS
    try:
        points = int(raw)
    except ValueError:
        raise InvalidParameter(f"points must be an integer, got {raw!r}.") from None
    if not 2 <= points <= MAX_POINTS:
        raise InvalidParameter(f"points must be between 2 and {MAX_POINTS}, got {points}.")
    return points


def series_url(run_path: str, key: str) -> str:
    """The URL of one metric's chart series; the page preloads it and the chart fetches it,
    so both must spell it alike."""
    return f"{run_path}/metric-data?{urlencode({'key': key, 'points': DEFAULT_POINTS})}"


def metric_series(store: TrackingStore, run_id: str, key: str, points: int) -> dict[str, Any]:
    """One metric of one run as chart columns; NaN values are None (a gap in the line)."""
    if isinstance(store, ExtremesStore):
        rows, downsampled = store.get_metric_history_extremes(run_id, key, points)
    else:
        limit = min(points, BULK_INTERVAL_MAX_RESULTS)
        metrics = store.get_metric_history_bulk_interval([run_id], key, limit)
        rows = [(m.step, m.timestamp, m.value if m.value == m.value else None) for m in metrics]
        downsampled = len({m.step for m in metrics}) >= limit
    return {
        "key": key,
        "downsampled": downsampled,
        "steps": [row[0] for row in rows],
        "timestamps": [row[1] for row in rows],
        "values": [row[2] for row in rows],
    }


__all__ = [
    "DEFAULT_POINTS",
    "MAX_POINTS",
    "SYSTEM_PREFIX",
    "X_AXES",
    "ChartState",
    "ExtremesStore",
    "metric_series",
    "parse_points",
    "series_url",
    "split_system_metrics",
]
