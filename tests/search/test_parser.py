"""Run and experiment filters: every example of spec/search-syntax.md §9 plus the extensions."""

from __future__ import annotations

import pytest

from wayline.errors import InvalidParameter
from wayline.search import (
    And,
    Comparison,
    Expr,
    Identifier,
    IdentifierKind,
    Or,
    Value,
    parse_experiment_filter,
    parse_run_filter,
)
from wayline.search.parser import MAX_DEPTH


def c(kind: IdentifierKind, key: str, comparator: str, value: Value = None) -> Comparison:
    return Comparison(Identifier(kind, key), comparator, value)  # type: ignore[arg-type]


def metric(key: str, comparator: str, value: float) -> Comparison:
    return c("metric", key, comparator, value)


def param(key: str, comparator: str, value: Value = None) -> Comparison:
    return c("param", key, comparator, value)


def tag(key: str, comparator: str, value: Value = None) -> Comparison:
    return c("tag", key, comparator, value)


def attr(key: str, comparator: str, value: Value = None) -> Comparison:
    return c("attribute", key, comparator, value)


RUN_ACCEPTED: list[tuple[str, Expr]] = [
    ("metrics.rmse < 1", metric("rmse", "<", 1.0)),  # 1
    ("metric.rmse >= 0.5", metric("rmse", ">=", 0.5)),  # 2
    ("metrics.loss < 1e-3", metric("loss", "<", 0.001)),  # 3
    ("metrics.x > -1.5e3", metric("x", ">", -1500.0)),  # 3
    ("params.alpha = '0.5'", param("alpha", "=", "0.5")),  # 4
    ('params.alpha = "0.5"', param("alpha", "=", "0.5")),  # 5
    ("tags.`mlflow.source.type` = 'LOCAL'", tag("mlflow.source.type", "=", "LOCAL")),  # 8
    ("tags.\"mlflow.user\" = 'root'", tag("mlflow.user", "=", "root")),  # 9
    ("params.a.b = 'x'", param("a.b", "=", "x")),  # 10
    ("metrics.`loss/val` > 0", metric("loss/val", ">", 0.0)),  # 11
    ("attributes.status = 'FINISHED'", attr("status", "=", "FINISHED")),  # 12
    ("status != 'FAILED'", attr("status", "!=", "FAILED")),  # 13
    ("run_name ILIKE '%R1%'", attr("run_name", "ILIKE", "%R1%")),  # 14
    ("`Run name` = 'x'", attr("run_name", "=", "x")),  # 15
    ("attributes.start_time > 1700000000000", attr("start_time", ">", 1700000000000)),  # 16
    ("created > 0", attr("start_time", ">", 0)),  # 18
    ("attributes.run_id IN ('a','b')", attr("run_id", "IN", ("a", "b"))),  # 19
    ("params.x IS NULL", param("x", "IS NULL")),  # 21
    ("tags.t IS NOT NULL", tag("t", "IS NOT NULL")),  # 21
    ("params.p1 LIKE 'X%'", param("p1", "LIKE", "X%")),  # 23
    ("params.p1 ILIKE 'X%'", param("p1", "ILIKE", "X%")),  # 23
    ("params.p1 != 'x'", param("p1", "!=", "x")),  # 24
    (
        "metrics.rmse < 1 and params.a = 'x' AND tags.b = 'y'",  # 25
        And((metric("rmse", "<", 1.0), param("a", "=", "x"), tag("b", "=", "y"))),
    ),
    (
        "dataset.name = 'train' AND dataset.context = 'training'",  # 28
        And((c("dataset", "name", "=", "train"), c("dataset", "context", "=", "training"))),
    ),
]

# MLflow rejects these (§9 #20, #26, #27); Wayline accepts OR, parentheses and IN on strings.
RUN_EXTENSIONS: list[tuple[str, Expr]] = [
    ("attributes.status IN ('FINISHED','FAILED')", attr("status", "IN", ("FINISHED", "FAILED"))),
    (
        "metrics.rmse < 1 OR params.a = 'x'",
        Or((metric("rmse", "<", 1.0), param("a", "=", "x"))),
    ),
    ("(params.a = 'x')", param("a", "=", "x")),
    ("params.a IN ('x', \"y\")", param("a", "IN", ("x", "y"))),
    ("tags.t NOT IN ('1')", tag("t", "NOT IN", ("1",))),
    ("params.a not in ('x',)", param("a", "NOT IN", ("x",))),
    ("run_name IN ('r1')", attr("run_name", "IN", ("r1",))),
    ("dataset.digest NOT IN ('d1', 'd2')", c("dataset", "digest", "NOT IN", ("d1", "d2"))),
    (
        "params.a = 'x' OR params.b = 'y' AND tags.c = 'z'",  # AND binds tighter
        Or((param("a", "=", "x"), And((param("b", "=", "y"), tag("c", "=", "z"))))),
    ),
    (
        "(params.a = 'x' OR params.b = 'y') AND tags.c = 'z'",
        And((Or((param("a", "=", "x"), param("b", "=", "y"))), tag("c", "=", "z"))),
    ),
    (
        "((params.a = 'x' OR params.b = 'y') OR (params.c = 'z'))",  # flattened
        Or((param("a", "=", "x"), param("b", "=", "y"), param("c", "=", "z"))),
    ),
]

# MLflow's quirks, kept.
RUN_QUIRKS: list[tuple[str, Expr]] = [
    ("params.a = 'it''s'", param("a", "=", "it''s")),  # no escape processing
    ("params.a = 'it\\'s'", param("a", "=", "it\\'s")),
    ("params.a = 'say \"hi\"'", param("a", "=", 'say "hi"')),
    ("params.a = ''", param("a", "=", "")),
    ("params.alpha='0.5'", param("alpha", "=", "0.5")),  # whitespace is free
    ("  params.alpha   =\t'0.5'  ", param("alpha", "=", "0.5")),
    ("params.alpha = '0.5' and", param("alpha", "=", "0.5")),  # trailing AND tolerated
    ("params.alpha = '0.5' AND", param("alpha", "=", "0.5")),
    ("params.a Like 'x%'", param("a", "LIKE", "x%")),  # keywords are case-insensitive
    ("params.a iLiKe 'x%'", param("a", "ILIKE", "x%")),
    ("params.a is not null", param("a", "IS NOT NULL")),
    ("param.a = 'x'", param("a", "=", "x")),  # every prefix spelling
    ("parameters.a = 'x'", param("a", "=", "x")),
    ("parameter.a = 'x'", param("a", "=", "x")),
    ("tag.a = 'x'", tag("a", "=", "x")),
    ("attribute.status = 'x'", attr("status", "=", "x")),
    ("attr.status = 'x'", attr("status", "=", "x")),
    ("run.status = 'x'", attr("status", "=", "x")),
    ("datasets.name = 'x'", c("dataset", "name", "=", "x")),
    ("Created < 5", attr("start_time", "<", 5)),
    ("`run name` = 'x'", attr("run_name", "=", "x")),
    ("`Run Name` = 'x'", attr("run_name", "=", "x")),
    ("\"status\" = 'x'", attr("status", "=", "x")),  # a quoted key without prefix: attribute
    ("attributes.end_time <= 1.7e12", attr("end_time", "<=", 1700000000000)),
    ("attributes.end_time = 12.5", attr("end_time", "=", 12.5)),
    ("metrics.m = .5", metric("m", "=", 0.5)),
    ("metrics.m = 1.", metric("m", "=", 1.0)),
    ("metrics.m = +2E2", metric("m", "=", 200.0)),
    ("metrics.m > 1e999", metric("m", ">", float("inf"))),
    ("tags.`a``b` = 'x'", tag("a``b", "=", "x")),
    ("tags.`x y` = 'x'", tag("x y", "=", "x")),
    ("metrics.`métrique` > 0", metric("métrique", ">", 0.0)),
    ("params.größe = 'x'", param("größe", "=", "x")),
]


@pytest.mark.parametrize(
    ("filter_string", "expected"),
    RUN_ACCEPTED + RUN_EXTENSIONS + RUN_QUIRKS,
    ids=[f for f, _ in RUN_ACCEPTED + RUN_EXTENSIONS + RUN_QUIRKS],
)
def test_run_filter_parses(filter_string: str, expected: Expr) -> None:
    assert parse_run_filter(filter_string) == expected


@pytest.mark.parametrize("filter_string", [None, "", "   ", "\n\t"])
def test_empty_filter_matches_everything(filter_string: str | None) -> None:
    assert parse_run_filter(filter_string) is None
    assert parse_experiment_filter(filter_string) is None


RUN_REJECTED: list[tuple[str, str]] = [
    ("params.alpha = 0.5", "Expected a quoted string value for parameter 'alpha'"),  # 6
    ("metrics.rmse < '1'", "Expected numeric value type for metric 'rmse'"),  # 7
    ("metrics.loss/val > 0", "Quote keys that contain special characters"),  # 11
    ("attributes.start_time >= '123'", "Expected numeric value type for attribute"),  # 17
    ("metrics.m IS NULL", "Invalid comparator 'IS NULL' not one of '=, !=, <, <=, >, >='"),  # 22
    ("NOT params.a = 'x'", "NOT is not supported"),  # 27
    ("attributes.lifecycle_stage = 'active'", "run_view_type"),  # 29
    ("params.a > '1'", "Invalid comparator '>' not one of '=, !=, LIKE, ILIKE, IN"),  # 30
    ("params.a = x", "Expected a quoted string value for parameter 'a'"),
    ("params.a = `x`", "Expected a quoted string value"),
    ("tags.t = 1", "Expected a quoted string value for tag 't'"),
    ("status = 1", "Expected a quoted string value for attribute 'status'"),
    ("metrics.m = x", "Expected numeric value type for metric 'm'"),
    ("metrics.m = nan", "Expected numeric value type"),
    ("experiment_id = '0'", "experiment_ids"),
    ("foo.bar = 'x'", "Invalid entity type 'foo'"),
    ("attributes.nope = 'x'", "Invalid attribute key 'nope'"),
    ("alpha = '1'", "params.`alpha` or tags.`alpha`"),
    ("dataset.foo = 'x'", "Invalid dataset key 'foo'"),
    ("dataset.name IS NULL", "Invalid comparator 'IS NULL'"),
    ("dataset.name = 1", "Expected a quoted string value for dataset 'name'"),
    ("metrics.m IN (1, 2)", "quoted string in the list"),
    ("metrics.m IN ('1')", "Invalid comparator 'IN'"),
    ("start_time IN ('1')", "Invalid comparator 'IN'"),
    ("status LIKE 1", "Expected a quoted string value"),
    ("params.a RLIKE 'x'", "Invalid comparator 'RLIKE'"),
    ("params.a NOT LIKE 'x'", "expected IN after NOT"),
    ("params.a IS 'x'", "expected NULL"),
    ("params.a IN ()", "non-empty list"),
    ("params.a IN 'x'", "parenthesized list"),
    ("params.a = ('x')", "A list value needs IN or NOT IN"),
    ("params.a IN ('x' 'y')", "',' or ')'"),
    ("params.a IN ('x',", "a quoted string in the list"),
    ("params.a =", "expected a value after 'params.a ='"),
    ("params.a", "expected a comparator"),
    ("params.a = 'x", "Unterminated quote"),
    ("params.a ~ 'x'", "Invalid character '~'"),
    ("params.a == 'x'", "Invalid comparator '=='"),
    ("params.a <> 'x'", "Invalid comparator '<>'"),
    ("(params.a = 'x'", "expected ')'"),
    ("params.a = 'x')", "expected AND, OR or the end"),
    ("AND params.a = 'x'", "expected a key"),
    ("params.a = 'x' AND AND params.b = 'y'", "expected a key"),
    ("params.a = 'x' OR", "expected a key"),
    ("params.a = 'x' params.b = 'y'", "expected AND, OR or the end"),
    ("(params.a = 'x' AND) OR params.b = 'y'", "expected a key"),
    ("()", "expected a key"),
    ("metrics.x > 1abc", "Invalid character '1'"),
    ("metrics.x > 1.2.3", "Invalid character"),
    ("params.a. = 'x'", "Invalid character '.'"),
    ("params.learning-rate = 'x'", "Quote keys that contain special characters"),
    ("tags.`` = 'x'", "Empty key"),
    ("params.a = 'x'; DROP TABLE runs", "Invalid character ';'"),
    ("'x' = params.a", "expected a key"),
    ("params.a = 'x' and or params.b = 'y'", "expected a key"),
]


@pytest.mark.parametrize(
    ("filter_string", "message"), RUN_REJECTED, ids=[f for f, _ in RUN_REJECTED]
)
def test_run_filter_rejected(filter_string: str, message: str) -> None:
    with pytest.raises(InvalidParameter) as info:
        parse_run_filter(filter_string)
    assert message in info.value.message
    assert info.value.error_code == "INVALID_PARAMETER_VALUE"


def test_deep_nesting_is_refused_not_a_crash() -> None:
    ok = "(" * MAX_DEPTH + "params.a = 'x'" + ")" * MAX_DEPTH
    too_deep = "(" * 5000 + "params.a = 'x'" + ")" * 5000

    assert parse_run_filter(ok) == param("a", "=", "x")
    with pytest.raises(InvalidParameter, match="deeper than"):
        parse_run_filter(too_deep)


def test_long_conjunction_is_flat() -> None:
    filter_string = " AND ".join(f"params.p{i} = '{i}'" for i in range(500))

    parsed = parse_run_filter(filter_string)

    assert isinstance(parsed, And)
    assert len(parsed.operands) == 500


def test_parse_is_cached_and_nodes_are_immutable() -> None:
    first = parse_run_filter("params.a = 'x' OR tags.b = 'y'")

    assert parse_run_filter("params.a = 'x' OR tags.b = 'y'") is first
    assert isinstance(first, Or)
    with pytest.raises(AttributeError):
        first.operands = ()  # type: ignore[misc]


EXPERIMENT_ACCEPTED: list[tuple[str, Expr]] = [
    ("name LIKE 'exp%'", attr("name", "LIKE", "exp%")),  # 31
    ("experiment_id IN ('1','3')", attr("experiment_id", "IN", ("1", "3"))),  # 32
    ("tags.team IS NULL", tag("team", "IS NULL")),  # 33
    ("attribute.name = 'a'", attr("name", "=", "a")),
    ("name ILIKE 'A%'", attr("name", "ILIKE", "A%")),
    ("experiment_id = '7'", attr("experiment_id", "=", "7")),
    ("experiment_id != 'x'", attr("experiment_id", "!=", "x")),
    ("creation_time > 10", attr("creation_time", ">", 10)),
    ("last_update_time <= 1.7e12", attr("last_update_time", "<=", 1700000000000)),
    ("tags.`team name` = 'ml'", tag("team name", "=", "ml")),
    ("tag.team != 'ml'", tag("team", "!=", "ml")),
    (
        "name IN ('a', 'b') OR tags.t LIKE 'x%'",
        Or((attr("name", "IN", ("a", "b")), tag("t", "LIKE", "x%"))),
    ),
]


@pytest.mark.parametrize(
    ("filter_string", "expected"), EXPERIMENT_ACCEPTED, ids=[f for f, _ in EXPERIMENT_ACCEPTED]
)
def test_experiment_filter_parses(filter_string: str, expected: Expr) -> None:
    assert parse_experiment_filter(filter_string) == expected


EXPERIMENT_REJECTED: list[tuple[str, str]] = [
    ("metrics.m > 1", "Invalid entity type 'metrics'"),
    ("params.a = 'x'", "Invalid entity type 'params'"),
    ("dataset.name = 'x'", "Invalid entity type 'dataset'"),
    ("experiment_id = 1", "Expected a quoted string value for attribute 'experiment_id'"),
    ("experiment_id LIKE '1%'", "Invalid comparator 'LIKE' not one of '=, !=, IN, NOT IN'"),
    ("creation_time = '1'", "Expected numeric value type for attribute 'creation_time'"),
    ("name IS NULL", "Invalid comparator 'IS NULL'"),
    ("name > 'a'", "Invalid comparator '>'"),
    ("lifecycle_stage = 'active'", "view_type"),
    ("run_name = 'x'", "Invalid attribute key 'run_name'"),
    ("team = 'x'", "tags.`team`"),
]


@pytest.mark.parametrize(
    ("filter_string", "message"), EXPERIMENT_REJECTED, ids=[f for f, _ in EXPERIMENT_REJECTED]
)
def test_experiment_filter_rejected(filter_string: str, message: str) -> None:
    with pytest.raises(InvalidParameter) as info:
        parse_experiment_filter(filter_string)
    assert message in info.value.message
