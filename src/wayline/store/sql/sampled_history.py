"""Metric histories downsampled for charts (get-history-bulk-interval), chosen in the database.

For each run, the distinct steps of the metric within [start_step, end_step] are ranked 0..n-1.
With m samples the chosen ranks are floor(i*(n-1)/(m-1)) for i in 0..m-1: evenly spaced, always
the first and the last (the last alone when m is 1); a run with n <= m keeps every step. Every
point logged at a chosen step is then read through the history's primary key (run_id, key,
step, ...): only the points at the chosen steps are ever read as rows, never a whole history.

Ranking every distinct step needs a window function, which SQLite runs at about 2 µs a row
(half a second for a 200,000-step history). Most histories need none: when the steps form an
arithmetic progression (a step counter, or one logged every k steps) the step of rank r is
first + k*r, and one pass over the index (count, min and max of the distinct steps; plus one
count for k > 1) proves that. Other histories are ranked by the window function on PostgreSQL
and MySQL; on SQLite, whose cursor is in-process, by skipping along the ordered distinct steps.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, cast

from sqlalchemy import BigInteger, Connection, Select, bindparam, func, or_, select

from wayline.entities import Metric
from wayline.errors import InvalidParameter
from wayline.store.sql.base import fetch_rows
from wayline.store.sql.tables import metric_history
from wayline.store.tracking import BULK_INTERVAL_MAX_RESULTS, BULK_INTERVAL_MAX_RUNS

_NAN = float("nan")
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
# Steps' differences are computed in SQL only below this span, so BIGINT arithmetic cannot
# overflow (steps are any int64; a wider span takes the general path).
_SAFE_SPAN = 2**62


def sample_ranks(n: int, m: int) -> list[int]:
    """The ranks (0-based, among n distinct steps) that m samples pick; see the module doc."""
    if n <= m:
        return list(range(n))
    if m == 1:
        return [n - 1]
    return [i * (n - 1) // (m - 1) for i in range(m)]


def _int(name: str) -> Any:
    # Typed, so PostgreSQL never has to guess the type of a parameter used in arithmetic.
    return bindparam(name, type_=BigInteger)


_mh = metric_history.c
_IN_RANGE = (
    _mh.run_id == bindparam("run_id"),
    _mh.key == bindparam("key"),
    _mh.step >= _int("start_step"),
    _mh.step <= _int("end_step"),
)
_POINT_COLUMNS = (_mh.step, _mh.timestamp, _mh.value, _mh.is_nan)
_POINT_ORDER = (_mh.step, _mh.timestamp, _mh.value, _mh.is_nan)

_DISTINCT_STEPS = select(_mh.step).where(*_IN_RANGE).distinct().subquery()
# n, first and last step in range: a DISTINCT over the index is far cheaper than COUNT(DISTINCT).
_STEP_STATS = select(
    func.count(), func.min(_DISTINCT_STEPS.c.step), func.max(_DISTINCT_STEPS.c.step)
)
_STEPS_ON_GRID = (
    select(func.count())
    .select_from(_DISTINCT_STEPS)
    .where((_DISTINCT_STEPS.c.step - _int("first")) % _int("stride") == 0)
)
# Not a SELECT from _DISTINCT_STEPS: SQLite would sort that again instead of using index order.
_STEPS_IN_ORDER = select(_mh.step).where(*_IN_RANGE).distinct().order_by(_mh.step)

_POINTS_IN_RANGE = select(*_POINT_COLUMNS).where(*_IN_RANGE).order_by(*_POINT_ORDER)
_POINTS_AT_STEPS = (
    select(*_POINT_COLUMNS)
    .where(
        _mh.run_id == bindparam("run_id"),
        _mh.key == bindparam("key"),
        _mh.step.in_(bindparam("steps", expanding=True)),
    )
    .order_by(*_POINT_ORDER)
)


def _steps_at_sampled_ranks() -> Select[Any]:
    """The steps at the sampled ranks of any set of steps (n > m >= 2, both bound by the caller).

    Rank r is floor(i*(n-1)/(m-1)) for some i exactly when a multiple of n-1 lies in
    [r*(m-1), r*(m-1) + m-2], that is when (r*(m-1)) mod (n-1) is 0 or above n-m: integer
    arithmetic that every backend does alike, on non-negative values only. Only the steps come
    back; their points are a second, index-only lookup. (Joining the two in one statement let
    PostgreSQL, misled by a freshly filled table's statistics, rerun the window per row.)
    """
    rank = func.row_number().over(order_by=_DISTINCT_STEPS.c.step) - 1
    ranked = select(_DISTINCT_STEPS.c.step, rank.label("r")).subquery()
    phase = (ranked.c.r * _int("m_minus_1")) % _int("n_minus_1")
    return select(ranked.c.step).where(or_(phase == 0, phase > _int("n_minus_m")))


_STEPS_AT_SAMPLED_RANKS = _steps_at_sampled_ranks()


def validate_bulk_interval(
    run_ids: Sequence[str], max_results: int, start_step: int | None, end_step: int | None
) -> list[str]:
    """The distinct run ids in their given order, once the request is within MLflow's limits."""
    unique = list(dict.fromkeys(run_ids))
    if not unique:
        raise InvalidParameter(
            "GetMetricHistoryBulkInterval request must specify at least one run_id."
        )
    if len(unique) > BULK_INTERVAL_MAX_RUNS:
        raise InvalidParameter(
            f"GetMetricHistoryBulkInterval request must specify at most {BULK_INTERVAL_MAX_RUNS}"
            f" run_ids. Received {len(unique)} run_ids."
        )
    if isinstance(max_results, bool) or not 1 <= max_results <= BULK_INTERVAL_MAX_RESULTS:
        raise InvalidParameter(
            f"max_results must be between 1 and {BULK_INTERVAL_MAX_RESULTS}, got {max_results!r}."
        )
    if start_step is not None and end_step is not None and start_step > end_step:
        raise InvalidParameter(
            "end_step must be greater than or equal to start_step. "
            f"Found start_step={start_step} and end_step={end_step}."
        )
    return unique


def _arithmetic_stride(
    conn: Connection, params: dict[str, Any], n: int, first: int, last: int
) -> int | None:
    """k when the run's n distinct steps in range are exactly first, first+k, ..., last."""
    span = last - first
    if n < 2 or span % (n - 1) or span >= _SAFE_SPAN:
        return None
    stride = span // (n - 1)
    if stride == 1:
        return 1  # n distinct integers filling [first, last]: every one of them is there
    # n distinct steps in [first, last], all congruent to first mod k: the whole progression.
    on_grid = fetch_rows(conn, _STEPS_ON_GRID, {**params, "first": first, "stride": stride})
    return stride if on_grid[0][0] == n else None


def _run_points(conn: Connection, params: dict[str, Any], m: int) -> list[tuple[Any, ...]]:
    """(step, timestamp, value, is_nan) of one run's points at its sampled steps, in order."""
    n, first, last = fetch_rows(conn, _STEP_STATS, params)[0]
    if not n:
        return []
    if n <= m:
        return fetch_rows(conn, _POINTS_IN_RANGE, params)
    if m == 1:
        return fetch_rows(conn, _POINTS_AT_STEPS, {**params, "steps": [last]})
    stride = _arithmetic_stride(conn, params, n, first, last)
    if stride is not None:
        steps = [first + stride * rank for rank in sample_ranks(n, m)]
        return fetch_rows(conn, _POINTS_AT_STEPS, {**params, "steps": steps})
    if conn.dialect.name == "sqlite":
        steps = _steps_at_ranks(conn, params, sample_ranks(n, m))
    else:
        ranks = {"m_minus_1": m - 1, "n_minus_1": n - 1, "n_minus_m": n - m}
        steps = [row[0] for row in fetch_rows(conn, _STEPS_AT_SAMPLED_RANKS, {**params, **ranks})]
    return fetch_rows(conn, _POINTS_AT_STEPS, {**params, "steps": steps})


def _steps_at_ranks(conn: Connection, params: dict[str, Any], ranks: list[int]) -> list[int]:
    """The steps of these ranks, skipping through the ordered distinct steps on the cursor.

    For SQLite only, whose cursor steps through the index lazily in this process: nothing
    crosses a network and nothing accumulates, and skipping rows costs about a fifth of the
    window function's sort.
    """
    result = conn.execute(_STEPS_IN_ORDER, params)
    try:
        rows: Iterator[Any] = iter(cast(Iterable[Any], result.cursor))
        position, steps = 0, []
        for rank in ranks:
            row = next(itertools.islice(rows, rank - position, None))
            steps.append(row[0])
            position = rank + 1
        return steps
    finally:
        result.close()


def sampled_history(
    conn: Connection,
    run_ids: Sequence[str],
    metric_key: str,
    max_results: int,
    start_step: int | None,
    end_step: int | None,
) -> list[Metric]:
    """Each run's points at its sampled steps, runs in the given order, each Metric with run_id.

    One run at a time: each query then reads one contiguous range of the primary key, and the
    result needs no regrouping (at most 100 runs, as validated beforehand).
    """
    bounds = {
        "key": metric_key,
        "start_step": _INT64_MIN if start_step is None else start_step,
        "end_step": _INT64_MAX if end_step is None else end_step,
    }
    metrics: list[Metric] = []
    for run_id in run_ids:
        rows = _run_points(conn, {**bounds, "run_id": run_id}, max_results)
        for step, timestamp, value, is_nan in rows:
            number = _NAN if is_nan else value
            metrics.append(Metric(metric_key, number, timestamp, step, run_id=run_id))
    return metrics


__all__ = ["sample_ranks", "sampled_history", "validate_bulk_interval"]
