"""order_by clauses for runs and experiments."""

from __future__ import annotations

import pytest

from wayline.errors import InvalidParameter
from wayline.search import (
    Identifier,
    OrderBy,
    parse_experiment_order_by,
    parse_run_order_by,
)

RUN_ORDERS: list[tuple[str, OrderBy]] = [
    ("metrics.loss DESC", OrderBy(Identifier("metric", "loss"), ascending=False)),
    ("params.alpha", OrderBy(Identifier("param", "alpha"))),
    ("tags.`x y` DESC", OrderBy(Identifier("tag", "x y"), ascending=False)),
    ("created DESC", OrderBy(Identifier("attribute", "start_time"), ascending=False)),
    ("metric.rmse asc", OrderBy(Identifier("metric", "rmse"))),
    ("params.a.b Desc", OrderBy(Identifier("param", "a.b"), ascending=False)),
    ('tags."mlflow.user"', OrderBy(Identifier("tag", "mlflow.user"))),
    ("  attributes.end_time   DESC ", OrderBy(Identifier("attribute", "end_time"), False)),
    ("`Run name`", OrderBy(Identifier("attribute", "run_name"))),
    ("run_id", OrderBy(Identifier("attribute", "run_id"))),
    ("status", OrderBy(Identifier("attribute", "status"))),
    ("user_id", OrderBy(Identifier("attribute", "user_id"))),
    ("artifact_uri", OrderBy(Identifier("attribute", "artifact_uri"))),
    ("start_time", OrderBy(Identifier("attribute", "start_time"))),
]


@pytest.mark.parametrize(("clause", "expected"), RUN_ORDERS, ids=[c for c, _ in RUN_ORDERS])
def test_run_order_by(clause: str, expected: OrderBy) -> None:
    assert parse_run_order_by([clause]) == [expected]


def test_run_order_by_several_and_none() -> None:
    assert parse_run_order_by(None) == []
    assert parse_run_order_by([]) == []
    assert parse_run_order_by(["metrics.a", "params.b DESC"]) == [
        OrderBy(Identifier("metric", "a")),
        OrderBy(Identifier("param", "b"), ascending=False),
    ]


RUN_ORDER_REJECTED: list[tuple[str, str]] = [
    ("metrics.rmse DESC NULLS LAST", "NULLS FIRST/LAST is not supported"),
    ("params.alpha SIDEWAYS", "expected '<key> [ASC|DESC]'"),
    ("metrics.a, metrics.b", "expected '<key> [ASC|DESC]'"),
    ("", "Invalid order_by clause ''"),
    ("nope", "Invalid attribute key 'nope'"),
    ("lifecycle_stage", "run_view_type"),
    ("experiment_id", "experiment_ids"),
    ("datasets.name", "runs cannot be ordered by datasets"),
    ("foo.bar", "Invalid entity type 'foo'"),
    ("DESC", "expected a key"),
    ("metrics.loss/val", "Quote keys"),
]


@pytest.mark.parametrize(
    ("clause", "message"), RUN_ORDER_REJECTED, ids=[c for c, _ in RUN_ORDER_REJECTED]
)
def test_run_order_by_rejected(clause: str, message: str) -> None:
    with pytest.raises(InvalidParameter) as info:
        parse_run_order_by([clause])
    assert message in info.value.message


@pytest.mark.parametrize(
    ("clause", "expected"),
    [
        ("name", OrderBy(Identifier("attribute", "name"))),
        ("attribute.name DESC", OrderBy(Identifier("attribute", "name"), ascending=False)),
        ("experiment_id desc", OrderBy(Identifier("attribute", "experiment_id"), False)),
        ("creation_time", OrderBy(Identifier("attribute", "creation_time"))),
        ("last_update_time ASC", OrderBy(Identifier("attribute", "last_update_time"))),
    ],
)
def test_experiment_order_by(clause: str, expected: OrderBy) -> None:
    assert parse_experiment_order_by([clause]) == [expected]


@pytest.mark.parametrize(
    ("clause", "message"),
    [
        ("tags.team", "experiments cannot be ordered by tags"),
        ("metrics.m", "Invalid entity type 'metrics'"),
        ("artifact_location", "Invalid attribute key 'artifact_location'"),
        ("name NULLS FIRST", "NULLS FIRST/LAST"),
    ],
)
def test_experiment_order_by_rejected(clause: str, message: str) -> None:
    with pytest.raises(InvalidParameter) as info:
        parse_experiment_order_by([clause])
    assert message in info.value.message
