"""Compile logged-model searches to SQL (the run and experiment compilers live in ``sql.py``).

Semantics beyond those of ``sql.py`` (which this module shares: bound values, keys a model lacks
never match, missing sort keys last in both directions):
- a metric clause compares a model's *latest* point of that key (latest = highest timestamp,
  then step, the order MLflow uses for model metrics) on each dataset it was logged with, and
  matches if one of those satisfies it; the search's ``datasets`` restrict which points count;
- ordering by a metric uses the latest point over the entry's dataset (or over all points);
- ``status = 'READY'`` also accepts MLflow's short status names; LIKE sees the stored wire name.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select, true
from sqlalchemy.sql.expression import FromClause, Subquery

from wayline.entities import LifecycleStage, LoggedModelDataset, LoggedModelOrderBy
from wayline.entities.enums import LoggedModelStatus
from wayline.errors import InvalidParameter
from wayline.search.ast import Comparator, Comparison, Value
from wayline.search.logged_models import (
    ModelOrder,
    parse_logged_model_filter,
    parse_logged_model_order_by,
)
from wayline.search.sql import compare, compile_expr, directed, metric_compare, null_last
from wayline.store.sql.tables import (
    logged_model_metrics,
    logged_model_params,
    logged_model_tags,
    logged_models,
)

Column = ColumnElement[Any]

_COLUMNS: dict[str, Column] = {
    "name": logged_models.c.name,
    "model_id": logged_models.c.model_id,
    "model_type": logged_models.c.model_type,
    "status": logged_models.c.status,
    "source_run_id": logged_models.c.source_run_id,
    "creation_timestamp": logged_models.c.creation_timestamp_ms,
    "last_updated_timestamp": logged_models.c.last_updated_timestamp_ms,
}


def logged_model_search_query(
    experiment_ids: Sequence[int],
    filter_string: str | None,
    datasets: Sequence[LoggedModelDataset] = (),
    order_by: Sequence[LoggedModelOrderBy] = (),
) -> Select[Any]:
    """Select ``logged_models.model_id`` of matching active models, ordered.

    Order: the requested keys, then ``creation_timestamp DESC`` (unless requested), then
    ``model_id ASC``. Raises ``InvalidParameter`` for a malformed filter, dataset or order_by.
    """
    expr = parse_logged_model_filter(filter_string)
    for dataset in datasets:
        if not isinstance(dataset, LoggedModelDataset) or not dataset.dataset_name:
            raise InvalidParameter(
                f"Invalid dataset {dataset!r} in a logged model search: dataset_name is required."
            )
    source, keys = _ordering(parse_logged_model_order_by(order_by))
    query = (
        select(logged_models.c.model_id)
        .select_from(source)
        .where(
            logged_models.c.experiment_id.in_(list(experiment_ids)),
            logged_models.c.lifecycle_stage == LifecycleStage.ACTIVE.value,
        )
    )
    if expr is not None:
        query = query.where(compile_expr(expr, lambda c: _clause(c, datasets)))
    return query.order_by(*keys)


def _models_having(id_column: Any, *conditions: ColumnElement[bool]) -> ColumnElement[bool]:
    # Uncorrelated IN (SELECT ...), as for runs: answered once from the (key, ...) index.
    return logged_models.c.model_id.in_(select(id_column).where(*conditions))


def _clause(comparison: Comparison, datasets: Sequence[LoggedModelDataset]) -> ColumnElement[bool]:
    kind, key = comparison.identifier.kind, comparison.identifier.key
    comparator, value = comparison.comparator, comparison.value
    if kind == "attribute":
        if key == "status":
            value = _status_value(comparator, value)
        return compare(_COLUMNS[key], comparator, value)
    if kind == "metric":
        ranked = _ranked_points(key, _dataset_condition(datasets), per_dataset=True)
        return _models_having(
            ranked.c.model_id,
            ranked.c.point_rank == 1,
            metric_compare(ranked.c.value, ranked.c.is_nan, comparator, value),
        )
    table = logged_model_params if kind == "param" else logged_model_tags
    return _models_having(
        table.c.model_id, table.c.key == key, compare(table.c.value, comparator, value)
    )


def _status_value(comparator: Comparator, value: Value) -> Value:
    if comparator in ("=", "!=") and isinstance(value, str):
        try:
            return LoggedModelStatus.from_string(value).wire_name
        except InvalidParameter:
            return value  # an unknown status equals no model
    return value


def _dataset_condition(datasets: Sequence[LoggedModelDataset]) -> ColumnElement[bool] | None:
    if not datasets:
        return None
    points = logged_model_metrics.c
    return or_(
        *(
            and_(
                points.dataset_name == d.dataset_name,
                points.dataset_digest == d.dataset_digest if d.dataset_digest else true(),
            )
            for d in datasets
        )
    )


def _ranked_points(
    key: str, condition: ColumnElement[bool] | None, *, per_dataset: bool, name: str | None = None
) -> Subquery:
    """The model's points of ``key`` numbered from the latest (``point_rank`` 1) backwards."""
    points = logged_model_metrics.c
    partition = [points.model_id]
    if per_dataset:
        partition += [points.dataset_name, points.dataset_digest]
    rank = func.row_number().over(
        partition_by=partition,
        order_by=[points.timestamp.desc(), points.step.desc(), points.point_id.asc()],
    )
    query = select(points.model_id, points.value, points.is_nan, rank.label("point_rank")).where(
        points.key == key
    )
    if condition is not None:
        query = query.where(condition)
    return query.subquery(name)


def _ordering(orders: list[ModelOrder]) -> tuple[FromClause, list[Any]]:
    """The FROM clause (models outer-joined to each keyed sort source) and the ORDER BY keys."""
    source: FromClause = logged_models
    keys: list[Any] = []
    for index, order in enumerate(orders):
        kind, key = order.identifier.kind, order.identifier.key
        if kind == "attribute":
            keys += null_last(_COLUMNS[key], order.ascending)
            continue
        if kind == "metric":
            dataset = None
            if order.dataset_name:
                dataset = _dataset_condition(
                    [LoggedModelDataset(order.dataset_name, order.dataset_digest)]
                )
            ranked = _ranked_points(key, dataset, per_dataset=False)
            latest = (
                select(ranked.c.model_id, ranked.c.value, ranked.c.is_nan)
                .where(ranked.c.point_rank == 1)
                .subquery(f"order_{index}")
            )
            source = source.outerjoin(latest, latest.c.model_id == logged_models.c.model_id)
            # Numbers first, then NaN, then models without the metric, in both directions.
            keys.append(
                case((latest.c.model_id.is_(None), 2), (latest.c.is_nan == true(), 1), else_=0)
            )
            keys.append(directed(latest.c.value, order.ascending))
            continue
        table = logged_model_params if kind == "param" else logged_model_tags
        alias = table.alias(f"order_{index}")
        source = source.outerjoin(
            alias, and_(alias.c.model_id == logged_models.c.model_id, alias.c.key == key)
        )
        keys += null_last(alias.c.value, order.ascending)
    requested = {(o.identifier.kind, o.identifier.key) for o in orders}
    if ("attribute", "creation_timestamp") not in requested:
        keys.append(logged_models.c.creation_timestamp_ms.desc())
    if ("attribute", "model_id") not in requested:
        keys.append(logged_models.c.model_id.asc())
    return source, keys


__all__ = ["logged_model_search_query"]
