"""Scalar wire rules: int64, doubles, booleans, enums, query strings."""

from __future__ import annotations

import math

import pytest

from wayline.entities import RunStatus, ViewType
from wayline.errors import InvalidParameter
from wayline.protocol.values import (
    encode_double,
    encode_query_bool,
    missing_parameter,
    parse_bool,
    parse_double,
    parse_int,
    parse_run_status,
    parse_str,
    parse_view_type,
    query_lists,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (5, 5),
        ("1700000000000", 1700000000000),
        (" 7 ", 7),
        ("-3", -3),
        (4.0, 4),
        (2**63 - 1, 2**63 - 1),
    ],
)
def test_int64_accepts_numbers_and_numeric_strings(raw: object, expected: int) -> None:
    assert parse_int(raw, "step") == expected


@pytest.mark.parametrize("raw", [True, "1.5", 1.5, "", "12a", None, [], 2**63, "0x10"])
def test_int64_rejects_other_values(raw: object) -> None:
    with pytest.raises(InvalidParameter, match="'step'"):
        parse_int(raw, "step")


def test_int32_bounds() -> None:
    assert parse_int(2**31 - 1, "max_results", bits=32) == 2**31 - 1
    with pytest.raises(InvalidParameter, match="int32"):
        parse_int(2**31, "max_results", bits=32)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(1.5, 1.5), (3, 3.0), ("2.25", 2.25), ("Infinity", math.inf), ("-Infinity", -math.inf)],
)
def test_double_parsing(raw: object, expected: float) -> None:
    value = parse_double(raw, "value")
    assert value == expected
    assert isinstance(value, float)


def test_double_nan_is_the_math_nan_object() -> None:
    # Identity, not equality, is the point: it lets entities holding NaN compare equal.
    assert parse_double("NaN") is math.nan  # noqa: PLW0177
    assert parse_double(float("nan")) is math.nan  # noqa: PLW0177


@pytest.mark.parametrize("raw", ["nan", "inf", "infinity", "abc", True, None, [1.0]])
def test_double_rejects_other_spellings(raw: object) -> None:
    with pytest.raises(InvalidParameter, match="double"):
        parse_double(raw, "value")


def test_double_encoding() -> None:
    assert encode_double(1.5) == 1.5
    assert encode_double(math.nan) == "NaN"
    assert encode_double(math.inf) == "Infinity"
    assert encode_double(-math.inf) == "-Infinity"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(True, True), (False, False), ("True", True), ("false", False), ("TRUE", True)],
)
def test_bool_parsing(raw: object, expected: bool) -> None:
    assert parse_bool(raw, "flag") is expected


@pytest.mark.parametrize("raw", ["yes", "1", 1, 0, None, ""])
def test_bool_rejects_other_values(raw: object) -> None:
    with pytest.raises(InvalidParameter, match="true or false"):
        parse_bool(raw, "flag")


def test_query_bool_spelling() -> None:
    assert [encode_query_bool(True), encode_query_bool(False)] == ["True", "False"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("FINISHED", RunStatus.FINISHED),
        ("killed", RunStatus.KILLED),
        (3, RunStatus.FINISHED),
        ("1", RunStatus.RUNNING),
        (RunStatus.SCHEDULED, RunStatus.SCHEDULED),
    ],
)
def test_run_status_names_and_numbers(raw: object, expected: RunStatus) -> None:
    assert parse_run_status(raw) is expected


@pytest.mark.parametrize("raw", ["DONE", 0, 6, True, None])
def test_run_status_rejects_unknown(raw: object) -> None:
    with pytest.raises(InvalidParameter, match="RUNNING"):
        parse_run_status(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ALL", ViewType.ALL),
        ("deleted_only", ViewType.DELETED_ONLY),
        (1, ViewType.ACTIVE_ONLY),
        ("3", ViewType.ALL),
    ],
)
def test_view_type_names_and_numbers(raw: object, expected: ViewType) -> None:
    assert parse_view_type(raw) is expected


@pytest.mark.parametrize("raw", ["SOME", 4, 0, False])
def test_view_type_rejects_unknown(raw: object) -> None:
    with pytest.raises(InvalidParameter, match="view_type"):
        parse_view_type(raw)


def test_str_rejects_non_strings() -> None:
    assert parse_str("x") == "x"
    with pytest.raises(InvalidParameter, match="'name'"):
        parse_str(5, "name")


def test_query_lists_groups_repeated_keys() -> None:
    pairs = [("run_ids", "a"), ("metric_key", "loss"), ("run_ids", "b")]
    assert query_lists(pairs) == {"run_ids": ["a", "b"], "metric_key": ["loss"]}


def test_missing_parameter_message() -> None:
    error = missing_parameter("name")
    assert isinstance(error, InvalidParameter)
    assert error.error_code == "INVALID_PARAMETER_VALUE"
    assert error.message.startswith("Missing value for required parameter 'name'")
