"""Metric history (append-only) and each run's latest value per key.

Writes are set-based: one executemany for the history rows and one upsert of the batch's
per-key maxima into ``latest_metrics``, whatever the batch size. "Latest" is MLflow's order:
highest step, then highest timestamp, then highest value, with NaN below every number. The
upsert compares the row tuple (step, timestamp, not is_nan, value) in SQL, so concurrent writers
cannot lose a newer value to an older one.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    Connection,
    Dialect,
    Insert,
    Select,
    bindparam,
    case,
    literal_column,
    select,
    tuple_,
)
from sqlalchemy.dialects.mysql import insert as mysql_insert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from wayline.entities import Metric, PagedList
from wayline.entities.builders import new_metric
from wayline.store.sql.base import (
    SqlBase,
    decode_page_token,
    driver_execute,
    encode_page_token,
    fetch_in,
    fetch_rows,
    gc_paused,
)
from wayline.store.sql.logged_models import write_model_metrics
from wayline.store.sql.metric_extremes import Point, history_extremes
from wayline.store.sql.sampled_history import sampled_history, validate_bulk_interval
from wayline.store.sql.tables import latest_metrics, metric_history
from wayline.store.tracking import BULK_INTERVAL_MAX_RESULTS
from wayline.validation import metric_value_for_storage, validate_max_results, validate_metric

_NAN = float("nan")
# get_metric_history pages have no upper bound in MLflow; this only rejects absurd values.
HISTORY_MAX_RESULTS_LIMIT = 2**31 - 1

_LATEST_COLUMNS = ("value", "is_nan", "timestamp", "step")
_HISTORY_COLUMNS = ("run_id", "key", "step", "timestamp", "value", "is_nan")
_history_sql: dict[tuple[str, str], str] = {}  # per (dialect, driver)


def history_insert_sql(dialect: Dialect) -> str:
    """INSERT of history points in the driver's own syntax; replayed points are skipped.

    History rows are the one place where a call writes up to 1000 rows, and SQLAlchemy's
    per-row parameter processing would cost more than the database's work: the rows go to the
    driver's executemany as plain tuples.
    """
    cached = _history_sql.get((dialect.name, dialect.driver))
    if cached is not None:
        return cached
    quote = dialect.identifier_preparer.quote
    columns = ", ".join(quote(column) for column in _HISTORY_COLUMNS)
    mark = "?" if dialect.paramstyle == "qmark" else "%s"
    marks = ", ".join([mark] * len(_HISTORY_COLUMNS))
    verb = {"sqlite": "INSERT OR IGNORE", "mysql": "INSERT IGNORE"}.get(dialect.name, "INSERT")
    tail = " ON CONFLICT DO NOTHING" if dialect.name == "postgresql" else ""
    sql = f"{verb} INTO {quote(metric_history.name)} ({columns}) VALUES ({marks}){tail}"
    return _history_sql.setdefault((dialect.name, dialect.driver), sql)


@functools.cache
def latest_upsert(dialect: str) -> Insert:
    """Insert a run's latest point for a key, or replace the stored one if this one is later."""
    if dialect == "mysql":
        return _latest_upsert_mysql()
    stmt = sqlite_insert(latest_metrics) if dialect == "sqlite" else pg_insert(latest_metrics)
    new, old = stmt.excluded, latest_metrics.c

    def rank(cols: Any) -> Any:
        return tuple_(cols.step, cols.timestamp, case((cols.is_nan, 0), else_=1), cols.value)

    return stmt.on_conflict_do_update(
        index_elements=[old.run_id, old.key],
        set_={col: new[col] for col in _LATEST_COLUMNS},
        where=rank(new) > rank(old),
    )


def _latest_upsert_mysql() -> Insert:
    # MySQL applies ON DUPLICATE KEY UPDATE assignments left to right, each seeing the columns
    # already overwritten. So the first assignment computes "is the new point later?" into a
    # session variable from the untouched row, and every assignment uses that variable.
    newer = (
        "(VALUES(`step`), VALUES(`timestamp`), NOT VALUES(`is_nan`), VALUES(`value`))"
        " > (`step`, `timestamp`, NOT `is_nan`, `value`)"
    )
    stmt = mysql_insert(latest_metrics)
    assignments: list[tuple[str, Any]] = [
        (col, literal_column(f"IF({cond}, VALUES(`{col}`), `{col}`)"))
        for col, cond in zip(
            _LATEST_COLUMNS,
            [f"@wayline_newer := {newer}"] + ["@wayline_newer"] * 3,
            strict=True,
        )
    ]
    return stmt.on_duplicate_key_update(assignments)


def write_metrics(conn: Connection, dialect: str, run_id: str, metrics: Sequence[Metric]) -> None:
    """Append validated points to the history and move ``latest_metrics`` forward."""
    rows = []
    latest: dict[str, tuple[int, int, bool, float]] = {}
    for metric in metrics:
        value, is_nan = metric_value_for_storage(metric.value)
        key, step, timestamp = metric.key, int(metric.step), int(metric.timestamp)
        rows.append((run_id, key, step, timestamp, value, is_nan))
        rank = (step, timestamp, not is_nan, value)
        best = latest.get(key)
        if best is None or rank > best:
            latest[key] = rank
    if not rows:
        return
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    cursor.executemany(history_insert_sql(conn.dialect), rows)
    # Key order: concurrent writers to one run lock latest_metrics rows in the same order.
    upserts = [
        {
            "run_id": run_id,
            "key": key,
            "step": step,
            "timestamp": timestamp,
            "value": value,
            "is_nan": not has_value,
        }
        for key, (step, timestamp, has_value, value) in sorted(latest.items())
    ]
    driver_execute(conn, latest_upsert(dialect), upserts)
    if any(metric.model_id for metric in metrics):
        # Points logged with a model_id also belong to that logged model's metrics.
        write_model_metrics(conn, dialect, run_id, metrics)


_LATEST_SELECT = select(
    latest_metrics.c.run_id,
    latest_metrics.c.key,
    latest_metrics.c.value,
    latest_metrics.c.is_nan,
    latest_metrics.c.timestamp,
    latest_metrics.c.step,
)


def load_latest(conn: Connection, run_ids: Sequence[str]) -> dict[str, list[Metric]]:
    """Each run's latest metrics (in no particular order)."""
    found: defaultdict[str, list[Metric]] = defaultdict(list)
    rows = fetch_in(conn, _LATEST_SELECT, "latest_metrics.run_id", run_ids)
    for run_id, key, value, is_nan, timestamp, step in rows:
        metric = new_metric(key, _NAN if is_nan else value, timestamp, step)
        found[run_id].append(metric)
    return found


def _history_select() -> Select[Any]:
    mh = metric_history.c
    # The full primary key order: a total order (stable pages) that the index already provides.
    return (
        select(mh.timestamp, mh.step, mh.value, mh.is_nan)
        .where(mh.run_id == bindparam("run_id"), mh.key == bindparam("key"))
        .order_by(mh.step, mh.timestamp, mh.value, mh.is_nan)
    )


_HISTORY_ALL = _history_select()
_HISTORY_PAGE = _HISTORY_ALL.limit(bindparam("limit")).offset(bindparam("offset"))
_HISTORY_REST = _HISTORY_ALL.offset(bindparam("offset"))


class MetricsMixin(SqlBase):
    def log_metric(self, run_id: str, metric: Metric) -> None:
        validate_metric(metric)
        with self._write() as conn:
            self._active_run(conn, run_id)
            write_metrics(conn, self.dialect, run_id, (metric,))

    def get_metric_history(
        self,
        run_id: str,
        metric_key: str,
        max_results: int | None = None,
        page_token: str | None = None,
    ) -> PagedList[Metric]:
        if max_results is not None:
            max_results = validate_max_results(max_results, HISTORY_MAX_RESULTS_LIMIT)
        offset = decode_page_token(page_token)
        params: dict[str, Any] = {"run_id": run_id, "key": metric_key, "offset": offset}
        if max_results is not None:
            params["limit"] = max_results + 1
        with gc_paused():
            with self._read() as conn:
                self._run_state(conn, run_id)
                if max_results is not None:
                    rows = fetch_rows(conn, _HISTORY_PAGE, params)
                else:
                    rows = fetch_rows(conn, _HISTORY_REST if offset else _HISTORY_ALL, params)
            token = None
            if max_results is not None and len(rows) > max_results:
                rows = rows[:max_results]
                token = encode_page_token(offset + max_results)
            new, key = new_metric, metric_key
            return PagedList([new(key, _NAN if n else v, ts, s) for ts, s, v, n in rows], token)

    def get_metric_history_bulk_interval(
        self,
        run_ids: Sequence[str],
        metric_key: str,
        max_results: int = BULK_INTERVAL_MAX_RESULTS,
        start_step: int | None = None,
        end_step: int | None = None,
    ) -> list[Metric]:
        unique = validate_bulk_interval(run_ids, max_results, start_step, end_step)
        with self._read() as conn:
            return sampled_history(conn, unique, metric_key, max_results, start_step, end_step)

    def get_metric_history_extremes(
        self, run_id: str, metric_key: str, max_points: int
    ) -> tuple[list[Point], bool]:
        """One metric's history for a chart: whole up to ``max_points`` points, else each
        step bucket's lowest and highest point so spikes survive (see ``metric_extremes``);
        with whether it was downsampled. Not part of the REST API; the UI uses it when its
        store is SQL."""
        with self._read() as conn:
            self._run_state(conn, run_id)
            return history_extremes(conn, run_id, metric_key, max(2, max_points))
