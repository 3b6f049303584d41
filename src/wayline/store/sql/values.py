"""Params, tags and log_batch: writing a run's values, each call one transaction.

``log_param``, ``set_tag`` and ``log_metric`` are one-item batches through the same writers, so the
rules (validation, active-run check, param immutability, run renames) live in one place.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

from sqlalchemy import Connection, Insert, bindparam, delete, select, update

from wayline.entities import Metric, Param, RunTag
from wayline.errors import InvalidParameter, NotFound
from wayline.store.sql.base import SqlBase, driver_execute, insert_ignore, upsert
from wayline.store.sql.metrics import MetricsMixin, write_metrics
from wayline.store.sql.tables import params as params_table
from wayline.store.sql.tables import runs
from wayline.store.sql.tables import tags as tags_table
from wayline.validation import validate_batch, validate_param, validate_run_name, validate_tag

RUN_NAME_TAG = "mlflow.runName"


@functools.cache
def _param_insert(dialect: str) -> Insert:
    return insert_ignore(dialect, params_table)


@functools.cache
def tag_upsert(dialect: str) -> Insert:
    return upsert(dialect, tags_table, keys=("run_id", "key"), update=("value",))


_RENAME = update(runs).where(runs.c.run_id == bindparam("rid")).values(name=bindparam("name"))
_DELETE_TAG = delete(tags_table).where(
    tags_table.c.run_id == bindparam("rid"), tags_table.c.key == bindparam("key")
)


def write_params(conn: Connection, dialect: str, run_id: str, items: Sequence[Param]) -> None:
    """Insert new params; an existing key must already hold the same value."""
    rows = [{"run_id": run_id, "key": p.key, "value": p.value} for p in items]
    cursor = driver_execute(conn, _param_insert(dialect), rows if len(rows) > 1 else rows[0])
    trusted = len(rows) == 1 or conn.dialect.supports_sane_multi_rowcount
    if trusted and cursor.rowcount == len(rows):
        return  # every key was new
    # Some keys existed (or the driver cannot say): compare with what is stored.
    pc = params_table.c
    query = select(pc.key, pc.value).where(pc.run_id == run_id, pc.key.in_([p.key for p in items]))
    stored: dict[str, str] = dict(conn.execute(query).all())
    for param in items:
        old = stored.get(param.key)
        if old is not None and old != param.value:
            raise InvalidParameter(
                "Changing param values is not allowed. Param with key="
                f"'{param.key}' was already logged with value='{old}' for run ID='{run_id}'."
                f" Attempted logging new value '{param.value}'."
            )


def write_tags(conn: Connection, dialect: str, run_id: str, items: Sequence[RunTag]) -> None:
    """Insert or replace tags (the last value of a repeated key wins)."""
    latest = {tag.key: tag.value for tag in items}
    new_name = latest.get(RUN_NAME_TAG)
    if new_name is not None:
        validate_run_name(new_name)
    rows = [{"run_id": run_id, "key": key, "value": latest[key]} for key in sorted(latest)]
    driver_execute(conn, tag_upsert(dialect), rows if len(rows) > 1 else rows[0])
    if new_name is not None:
        conn.execute(_RENAME, {"rid": run_id, "name": new_name})


class ValuesMixin(MetricsMixin, SqlBase):
    def log_param(self, run_id: str, param: Param) -> None:
        # Truncated before the immutability check, so re-logging a long value is idempotent.
        param = validate_param(param, truncate=self.truncate_long_values)
        with self._write() as conn:
            self._active_run(conn, run_id)
            write_params(conn, self.dialect, run_id, (param,))

    def set_tag(self, run_id: str, tag: RunTag) -> None:
        tag = validate_tag(tag, truncate=self.truncate_long_values)
        with self._write() as conn:
            self._active_run(conn, run_id)
            write_tags(conn, self.dialect, run_id, (tag,))

    def delete_tag(self, run_id: str, key: str) -> None:
        with self._write() as conn:
            self._active_run(conn, run_id)
            if conn.execute(_DELETE_TAG, {"rid": run_id, "key": key}).rowcount == 0:
                raise NotFound(f"No tag with name: {key} in run with id {run_id}")

    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
    ) -> None:
        params, tags = validate_batch(metrics, params, tags, truncate=self.truncate_long_values)
        with self._write() as conn:
            self._active_run(conn, run_id)
            if params:
                write_params(conn, self.dialect, run_id, params)
            if metrics:
                write_metrics(conn, self.dialect, run_id, metrics)
            if tags:
                write_tags(conn, self.dialect, run_id, tags)
