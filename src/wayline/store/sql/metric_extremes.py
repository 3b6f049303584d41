"""Metric histories downsampled for the UI's charts so that every spike survives: bucket extremes.

The REST API's bulk-interval sampling (``sampled_history``) keeps evenly spaced steps, which is
MLflow's contract but loses a spike logged between two kept steps. A chart wants the opposite:
the run's points are cut into buckets of equal step span and each bucket gives its lowest and
its highest point (NaNs left out), in step order, so the drawn line reaches every extreme the
full history reaches. When every point shares one step (``log_metric``'s default step is 0),
the buckets are cut by timestamp within that step instead.

Each bucket is one contiguous range of the history's primary key (run_id, key, step,
timestamp, ...), read twice (its minimum, its maximum) without a sort of the whole history: a
GROUP BY over a computed bucket number would sort every row (about 0.7 s for a million on
SQLite), these range reads take about a quarter of that. On SQLite a bare column next to
``min()``/``max()`` comes from the row holding the extreme (a documented SQLite feature);
other databases take the first row of the range ordered by value.

Steps spread very unevenly (a thousand points at steps 0-999 and one at step 10**9) leave most
buckets empty and the dense part in a few: extremes still survive, only the resolution drops.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Connection, Select, bindparam, false, func, select

from wayline.store.sql.base import driver_execute, fetch_rows
from wayline.store.sql.tables import metric_history

Point = tuple[int, int, float | None]  # step, timestamp, value (None for NaN)

_mh = metric_history.c


def _int(name: str) -> Any:
    # Typed, so PostgreSQL never has to guess the type of a parameter compared with BIGINT.
    return bindparam(name, type_=BigInteger)


_OF_METRIC = (_mh.run_id == bindparam("run_id"), _mh.key == bindparam("key"))
# A lone min() or max() over an index prefix is one index probe on every backend.
_FIRST_STEP = select(func.min(_mh.step)).where(*_OF_METRIC)
_LAST_STEP = select(func.max(_mh.step)).where(*_OF_METRIC)
_AT_STEP = (*_OF_METRIC, _mh.step == _int("step"))
_FIRST_TIME = select(func.min(_mh.timestamp)).where(*_AT_STEP)
_LAST_TIME = select(func.max(_mh.timestamp)).where(*_AT_STEP)
# How many points, counting no further than the limit: never a scan of a long history.
_COUNT_UP_TO = select(func.count()).select_from(
    select(_mh.step).where(*_OF_METRIC).limit(_int("limit")).subquery()
)
_ALL_POINTS = (
    select(_mh.step, _mh.timestamp, _mh.value, _mh.is_nan)
    .where(*_OF_METRIC)
    .order_by(_mh.step, _mh.timestamp, _mh.value)
)

_STEP_BUCKET = (*_OF_METRIC, _mh.step >= _int("lo"), _mh.step <= _int("hi"), _mh.is_nan == false())
_TIME_BUCKET = (
    *_AT_STEP,
    _mh.timestamp >= _int("lo"),
    _mh.timestamp <= _int("hi"),
    _mh.is_nan == false(),
)


def _ordered_extreme(where: tuple[Any, ...], order: Any) -> Select[Any]:
    return select(_mh.step, _mh.timestamp, _mh.value).where(*where).order_by(order).limit(1)


def _both_extremes(where: tuple[Any, ...]) -> Select[Any]:
    # SQLite: with min() and max() together, the bare columns come from a row holding one of
    # the two extremes (which one is not said); its value tells.
    value = _mh.value
    return select(_mh.step, _mh.timestamp, value, func.min(value), func.max(value)).where(*where)


def _located(where: tuple[Any, ...]) -> Select[Any]:
    # The first point of the bucket with a given value: stops at the first hit.
    return (
        select(_mh.step, _mh.timestamp, _mh.value)
        .where(*where, _mh.value == bindparam("v"))
        .limit(1)
    )


_BUCKETS = {"step": _STEP_BUCKET, "time": _TIME_BUCKET}
_SQLITE = {kind: (_both_extremes(where), _located(where)) for kind, where in _BUCKETS.items()}
# Elsewhere: the bucket's first row by value, then by value descending.
_ORDERED = {
    kind: (_ordered_extreme(where, _mh.value.asc()), _ordered_extreme(where, _mh.value.desc()))
    for kind, where in _BUCKETS.items()
}


def bucket_bounds(first: int, last: int, buckets: int) -> list[tuple[int, int]]:
    """``[first, last]`` cut into at most ``buckets`` consecutive closed ranges of equal width."""
    span = last - first + 1
    width = -(-span // buckets)  # ceiling division: the last range may be shorter
    return [(lo, min(lo + width - 1, last)) for lo in range(first, last + 1, width)]


def _scalar(conn: Connection, statement: Select[Any], params: dict[str, Any]) -> Any:
    return fetch_rows(conn, statement, params)[0][0]


def _point(row: Any) -> Point | None:
    return None if row is None or row[0] is None else (int(row[0]), int(row[1]), float(row[2]))


def _sqlite_extremes(conn: Connection, kind: str, bucket: dict[str, Any]) -> list[Point]:
    both, located = _SQLITE[kind]
    row = driver_execute(conn, both, bucket).fetchone()
    if row is None or row[0] is None:  # an empty bucket (or NaNs only): one row of NULLs
        return []
    seen: Point = (int(row[0]), int(row[1]), float(row[2]))
    lowest, highest = row[3], row[4]
    if lowest == highest:
        return [seen]
    other = lowest if seen[2] == highest else highest
    found = _point(driver_execute(conn, located, {**bucket, "v": other}).fetchone())
    return sorted([seen, found] if found is not None else [seen])


def _ordered_extremes(conn: Connection, kind: str, bucket: dict[str, Any]) -> list[Point]:
    lowest, highest = _ORDERED[kind]
    low = _point(driver_execute(conn, lowest, bucket).fetchone())
    if low is None:
        return []
    high = _point(driver_execute(conn, highest, bucket).fetchone())
    return sorted({low, high} if high is not None else {low})


def history_extremes(
    conn: Connection, run_id: str, key: str, max_points: int
) -> tuple[list[Point], bool]:
    """One metric's points for a chart, at most ``max_points`` (>= 2), and whether downsampled.

    A history of at most ``max_points`` points comes back whole, NaNs as None; a longer one as
    the lowest and the highest point of each of ``max_points // 2`` buckets, ordered by step
    then timestamp.
    """
    params: dict[str, Any] = {"run_id": run_id, "key": key}
    if _scalar(conn, _COUNT_UP_TO, {**params, "limit": max_points + 1}) <= max_points:
        rows = fetch_rows(conn, _ALL_POINTS, params)
        return [(s, t, None if nan else v) for s, t, v, nan in rows], False
    first, last = _scalar(conn, _FIRST_STEP, params), _scalar(conn, _LAST_STEP, params)
    kind = "step"
    if first == last:  # every point at one step: cut that step's timestamps instead
        kind, params = "time", {**params, "step": first}
        first, last = _scalar(conn, _FIRST_TIME, params), _scalar(conn, _LAST_TIME, params)
    extremes = _sqlite_extremes if conn.dialect.name == "sqlite" else _ordered_extremes
    points: list[Point] = []
    for lo, hi in bucket_bounds(first, last, max_points // 2):
        points += extremes(conn, kind, {**params, "lo": lo, "hi": hi})
    return points, True


__all__ = ["Point", "bucket_bounds", "history_extremes"]
