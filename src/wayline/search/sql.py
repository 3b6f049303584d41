"""Compile search ASTs to SQLAlchemy Core selects, with every value a bound parameter.

Semantics the store relies on:
- a clause on a key an entity lacks never matches, even with ``!=`` / ``NOT IN``; keyed clauses
  are ``run_id IN (SELECT ...)`` subqueries, so a run appears once however many clauses match;
- NaN metrics (stored as value 0 with ``is_nan`` set) compare as IEEE 754 says: they satisfy
  ``!=`` and no other comparator (``metric_compare``);
- ``LIKE`` is case-sensitive (the engines make it so), ``ILIKE`` is not, and ``\\`` escapes
  ``%``/``_`` on every backend (PostgreSQL's and MySQL's default, made explicit for SQLite);
- rows lacking a sort key sort last in both directions, through an explicit rank column
  rather than ``NULLS LAST``, which MySQL lacks; NaN metrics sort after numbers, before those.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    case,
    false,
    literal_column,
    or_,
    select,
    true,
)
from sqlalchemy.sql.expression import FromClause, UnaryExpression

from wayline.entities import LifecycleStage, ViewType
from wayline.search.ast import (
    COMPARISON_OPERATORS,
    NAN_SATISFIES,
    And,
    Comparator,
    Comparison,
    Expr,
    OrderBy,
    Value,
)
from wayline.search.experiments import parse_experiment_filter, parse_experiment_order_by
from wayline.search.runs import parse_run_filter, parse_run_order_by
from wayline.store.sql.tables import (
    datasets,
    experiment_tags,
    experiments,
    input_tags,
    latest_metrics,
    params,
    run_inputs,
    runs,
    tags,
)

LIKE_ESCAPE = "\\"
DATASET_CONTEXT_TAG = "mlflow.data.context"

_INT64 = (-(2**63), 2**63 - 1)
_INT32_MAX = 2**31 - 1

ClauseCompiler = Callable[[Comparison], ColumnElement[bool]]
Column = ColumnElement[Any]


def compile_expr(expr: Expr, clause: ClauseCompiler) -> ColumnElement[bool]:
    """Turn ``expr`` into a WHERE condition, compiling each leaf with ``clause``."""
    if isinstance(expr, Comparison):
        return clause(expr)
    parts = [compile_expr(operand, clause) for operand in expr.operands]
    return and_(*parts) if isinstance(expr, And) else or_(*parts)


def compare(column: Column, comparator: Comparator, value: Value) -> ColumnElement[bool]:
    """``column <comparator> value`` for a validated comparison (IS [NOT] NULL excluded)."""
    if isinstance(value, tuple):
        return column.in_(value) if comparator == "IN" else column.not_in(value)
    if isinstance(value, str):
        if comparator == "LIKE":
            return column.like(value, escape=LIKE_ESCAPE)
        if comparator == "ILIKE":
            return column.ilike(value, escape=LIKE_ESCAPE)
    elif isinstance(value, int):
        value = min(max(value, _INT64[0]), _INT64[1])  # SQLite cannot bind wider integers
    elif isinstance(value, float):
        # MySQL cannot bind infinities; stored metrics are clamped to the same bounds.
        value = min(max(value, -sys.float_info.max), sys.float_info.max)
    if comparator not in COMPARISON_OPERATORS:  # RLIKE: no entity compiled here accepts it yet
        raise ValueError(f"comparator {comparator!r} cannot compare {value!r}")
    result: ColumnElement[bool] = COMPARISON_OPERATORS[comparator](column, value)
    return result


def metric_compare(
    value: Column, is_nan: Column, comparator: Comparator, expected: Value
) -> ColumnElement[bool]:
    """``compare`` for a metric stored as (value, is_nan): NaN is stored as 0, so its rows
    must be told apart; they satisfy exactly the comparators in NAN_SATISFIES."""
    if comparator in NAN_SATISFIES:
        return or_(is_nan == true(), compare(value, comparator, expected))
    return and_(is_nan == false(), compare(value, comparator, expected))


def directed(column: Column, ascending: bool) -> UnaryExpression[Any]:
    return column.asc() if ascending else column.desc()


def null_last(column: Column, ascending: bool) -> list[Column | UnaryExpression[Any]]:
    """Sort keys putting NULLs of ``column`` last in either direction, on every backend."""
    if column.table is runs and not column.nullable:
        # An extra sort key would keep the database from ordering by the column's index.
        # (Columns of outer-joined tables can be NULL whatever their declaration.)
        return [directed(column, ascending)]
    return [case((column.is_(None), 1), else_=0), directed(column, ascending)]


def _stages(view_type: ViewType) -> list[str]:
    return [stage.value for stage in LifecycleStage.view_type_stages(view_type)]


# runs

_RUN_COLUMNS: dict[str, Column] = {
    "run_id": runs.c.run_id,
    "run_name": runs.c.name,
    "status": runs.c.status,
    "user_id": runs.c.user_id,
    "artifact_uri": runs.c.artifact_uri,
    "start_time": runs.c.start_time,
    "end_time": runs.c.end_time,
}


def run_search_query(
    experiment_ids: Sequence[int],
    filter_string: str | None,
    view_type: ViewType,
    order_by: Sequence[str] | None,
) -> Select[Any]:
    """Select ``runs.run_id`` of matching runs, ordered; the store adds limit and offset.

    Order: the requested keys, then ``start_time DESC`` (unless start_time was requested),
    then ``run_id ASC``. Raises ``InvalidParameter`` for a malformed filter or order_by.
    """
    expr = parse_run_filter(filter_string)
    source, ordering = _run_ordering(parse_run_order_by(order_by))
    query = (
        select(runs.c.run_id)
        .select_from(source)
        .where(
            runs.c.experiment_id.in_(list(experiment_ids)),
            runs.c.lifecycle_stage.in_(_stages(view_type)),
        )
    )
    if expr is not None:
        query = query.where(compile_expr(expr, _run_clause))
    return query.order_by(*ordering)


def _runs_having(id_column: Any, *conditions: ColumnElement[bool]) -> ColumnElement[bool]:
    """Runs with a row in ``id_column``'s table meeting ``conditions``.

    An uncorrelated ``run_id IN (SELECT ...)`` rather than a correlated EXISTS: the database can
    then answer it from the (key, value) index once, instead of probing it for every run.
    """
    return runs.c.run_id.in_(select(id_column).where(*conditions))


def _run_clause(comparison: Comparison) -> ColumnElement[bool]:
    kind, key = comparison.identifier.kind, comparison.identifier.key
    comparator, value = comparison.comparator, comparison.value
    if kind == "attribute":
        return compare(_RUN_COLUMNS[key], comparator, value)
    if kind == "metric":
        metric = latest_metrics.c
        return _runs_having(
            metric.run_id,
            metric.key == key,
            metric_compare(metric.value, metric.is_nan, comparator, value),
        )
    if kind in ("param", "tag"):
        table = params if kind == "param" else tags
        if comparator == "IS NULL":
            return ~_runs_having(table.c.run_id, table.c.key == key)
        if comparator == "IS NOT NULL":
            return _runs_having(table.c.run_id, table.c.key == key)
        return _runs_having(
            table.c.run_id, table.c.key == key, compare(table.c.value, comparator, value)
        )
    return _dataset_clause(key, comparator, value)


def _dataset_clause(key: str, comparator: Comparator, value: Value) -> ColumnElement[bool]:
    # Each clause looks for some input of the run on its own, as MLflow does: `dataset.name =
    # 'a' AND dataset.context = 'b'` need not be satisfied by the same input.
    if key == "context":
        return _runs_having(
            input_tags.c.run_id,
            input_tags.c.key == DATASET_CONTEXT_TAG,
            compare(input_tags.c.value, comparator, value),
        )
    joined = run_inputs.join(datasets, datasets.c.dataset_id == run_inputs.c.dataset_id)
    return runs.c.run_id.in_(
        select(run_inputs.c.run_id)
        .select_from(joined)
        .where(compare(datasets.c[key], comparator, value))
    )


def _run_ordering(order_by: list[OrderBy]) -> tuple[FromClause, list[Any]]:
    """The FROM clause (runs, outer-joined to each keyed sort table) and the ORDER BY keys."""
    source: FromClause = runs
    keys: list[Any] = []
    for index, item in enumerate(order_by):
        kind, key = item.identifier.kind, item.identifier.key
        if kind == "attribute":
            keys += null_last(_RUN_COLUMNS[key], item.ascending)
            continue
        table = {"metric": latest_metrics, "param": params, "tag": tags}[kind]
        alias = table.alias(f"order_{index}")
        source = source.outerjoin(alias, and_(alias.c.run_id == runs.c.run_id, alias.c.key == key))
        value = alias.c.value
        if kind == "metric":
            # As MLflow's SQL store: numbers first, then NaN (stored as 0), then runs without
            # the metric, in both directions.
            keys.append(case((alias.c.run_id.is_(None), 2), (alias.c.is_nan == true(), 1), else_=0))
            keys.append(directed(value, item.ascending))
        else:
            keys += null_last(value, item.ascending)
    requested = {(o.identifier.kind, o.identifier.key) for o in order_by}
    if ("attribute", "start_time") not in requested:
        keys += null_last(runs.c.start_time, ascending=False)
    if ("attribute", "run_id") not in requested:
        keys.append(runs.c.run_id.asc())
    return source, keys


# experiments

_EXPERIMENT_COLUMNS: dict[str, Column] = {
    "name": experiments.c.name,
    "experiment_id": experiments.c.experiment_id,
    "creation_time": experiments.c.creation_time,
    "last_update_time": experiments.c.last_update_time,
}


def experiment_search_query(
    filter_string: str | None,
    view_type: ViewType,
    order_by: Sequence[str] | None,
) -> Select[Any]:
    """Select ``experiments.experiment_id`` of matching experiments, ordered.

    Default order ``creation_time DESC``; ``experiment_id ASC`` always breaks ties.
    """
    expr = parse_experiment_filter(filter_string)
    query = select(experiments.c.experiment_id).where(
        experiments.c.lifecycle_stage.in_(_stages(view_type))
    )
    if expr is not None:
        query = query.where(compile_expr(expr, _experiment_clause))
    items = parse_experiment_order_by(order_by)
    keys: list[Any] = []
    for item in items:
        keys.append(directed(_EXPERIMENT_COLUMNS[item.identifier.key], item.ascending))
    if not items:
        keys.append(experiments.c.creation_time.desc())
    if not any(item.identifier.key == "experiment_id" for item in items):
        keys.append(experiments.c.experiment_id.asc())
    return query.order_by(*keys)


def _experiment_clause(comparison: Comparison) -> ColumnElement[bool]:
    key, comparator, value = comparison.identifier.key, comparison.comparator, comparison.value
    if comparison.identifier.kind == "tag":
        has_key = [
            experiment_tags.c.experiment_id == experiments.c.experiment_id,
            experiment_tags.c.key == key,
        ]
        if comparator == "IS NULL":
            return ~select(literal_column("1")).where(*has_key).correlate(experiments).exists()
        if comparator != "IS NOT NULL":
            has_key.append(compare(experiment_tags.c.value, comparator, value))
        return select(literal_column("1")).where(*has_key).correlate(experiments).exists()
    if key == "experiment_id":
        return _experiment_id_clause(comparator, value)
    return compare(_EXPERIMENT_COLUMNS[key], comparator, value)


def _experiment_id_clause(comparator: Comparator, value: Value) -> ColumnElement[bool]:
    """Ids arrive as strings; one that is not a valid id equals no experiment."""
    column: Column = experiments.c.experiment_id
    if isinstance(value, tuple):
        ids = [i for i in map(_experiment_id, value) if i is not None]
        if comparator == "IN":
            return column.in_(ids) if ids else false()
        return column.not_in(ids) if ids else true()
    experiment_id = _experiment_id(value)
    if experiment_id is None:
        return false() if comparator == "=" else true()
    return column == experiment_id if comparator == "=" else column != experiment_id


def _experiment_id(text: Value) -> int | None:
    # Only the canonical spelling of an id names it: '01' is not experiment 1.
    if not isinstance(text, str) or not text.isascii() or not text.isdigit():
        return None
    number = int(text)
    return number if str(number) == text and number <= _INT32_MAX else None


__all__ = [
    "compare",
    "compile_expr",
    "experiment_search_query",
    "metric_compare",
    "run_search_query",
]
