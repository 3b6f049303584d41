"""Evaluate a search AST against one in-memory record, with the SQL compiler's semantics.

For things filtered in Python rather than SQL (trace lists, cached entities): a clause on a key
the record lacks never matches, NaN satisfies ``!=`` and no other comparison (IEEE), LIKE is
case-sensitive with ``%``/``_`` wildcards and ``\\`` as escape, ILIKE ignores case.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from wayline.errors import InvalidParameter
from wayline.search.ast import (
    COMPARISON_OPERATORS,
    NAN_SATISFIES,
    And,
    Comparator,
    Comparison,
    Expr,
    Or,
    Value,
)

AttributeValue = str | int | float | None


@dataclass(frozen=True)
class Record:
    """What a filter can see of one entity. Datasets are mappings with name, digest, context."""

    metrics: Mapping[str, float] = field(default_factory=dict)
    params: Mapping[str, str] = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)
    attributes: Mapping[str, AttributeValue] = field(default_factory=dict)
    datasets: Sequence[Mapping[str, str]] = ()


def matches(expr: Expr | None, record: Record) -> bool:
    """Whether ``record`` satisfies ``expr``; None (the empty filter) matches everything.

    >>> from wayline.search import parse_run_filter
    >>> matches(parse_run_filter("metrics.rmse < 1"), Record(metrics={"rmse": 0.5}))
    True
    """
    if expr is None:
        return True
    if isinstance(expr, And):
        return all(matches(operand, record) for operand in expr.operands)
    if isinstance(expr, Or):
        return any(matches(operand, record) for operand in expr.operands)
    return _comparison(expr, record)


def _comparison(comparison: Comparison, record: Record) -> bool:
    kind, key = comparison.identifier.kind, comparison.identifier.key
    comparator, value = comparison.comparator, comparison.value
    if kind == "dataset":
        return any(
            key in dataset and compare_value(dataset[key], comparator, value)
            for dataset in record.datasets
        )
    source: Mapping[str, Any] = {
        "metric": record.metrics,
        "param": record.params,
        "tag": record.tags,
        "attribute": record.attributes,
    }[kind]
    present = source.get(key) is not None
    if comparator == "IS NULL":
        return not present
    if comparator == "IS NOT NULL":
        return present
    return present and compare_value(source[key], comparator, value)


def compare_value(actual: Any, comparator: Comparator, expected: Value) -> bool:
    """``actual <comparator> expected`` for a present value."""
    if isinstance(expected, tuple):
        return (actual in expected) == (comparator == "IN")
    if comparator in ("LIKE", "ILIKE"):
        if not isinstance(actual, str) or not isinstance(expected, str):
            return False
        return like_pattern(expected, comparator == "ILIKE").fullmatch(actual) is not None
    if comparator == "RLIKE":
        return isinstance(actual, str) and isinstance(expected, str) and _rlike(expected, actual)
    if isinstance(actual, float) and math.isnan(actual):
        return comparator in NAN_SATISFIES and isinstance(expected, int | float)
    numeric = isinstance(expected, int | float)
    if numeric != (isinstance(actual, int | float) and not isinstance(actual, bool)):
        return False  # a string never equals a number, as in a typed column
    return bool(COMPARISON_OPERATORS[comparator](actual, expected))


@lru_cache(maxsize=256)
def like_pattern(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    """A compiled regex for SQL LIKE ``pattern``: ``%`` any run, ``_`` one char, ``\\`` escape."""
    parts: list[str] = []
    chars = iter(pattern)
    for char in chars:
        if char == "\\":
            parts.append(re.escape(next(chars, "\\")))
        elif char == "%":
            parts.append(".*")
        elif char == "_":
            parts.append(".")
        else:
            parts.append(re.escape(char))
    flags = re.DOTALL | (re.IGNORECASE if ignore_case else 0)
    return re.compile("".join(parts), flags)


def _rlike(pattern: str, text: str) -> bool:
    try:
        return re.search(pattern, text) is not None
    except re.error as exc:
        raise InvalidParameter(f"Invalid regular expression {pattern!r} for RLIKE: {exc}.") from exc


__all__ = ["Record", "compare_value", "like_pattern", "matches"]
