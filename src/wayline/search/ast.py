"""The filter AST: what a parsed filter string or order_by clause means, independent of storage.

Entity rules (``runs.py``, ``experiments.py``) build these nodes only after validating them, so
a node always holds a canonical key (``created`` is already ``start_time``) and a value of the
right type for its comparator.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

IdentifierKind = Literal[
    "metric",
    "param",
    "tag",
    "attribute",
    "dataset",
    # trace searches (search/traces.py)
    "metadata",
    "span",
    "feedback",
    "expectation",
    "issue",
]

# Canonical spellings; the parser upper-cases keywords, so `like` arrives here as "LIKE".
Comparator = Literal[
    "=",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "LIKE",
    "ILIKE",
    "RLIKE",
    "IN",
    "NOT IN",
    "IS NULL",
    "IS NOT NULL",
]

# The value comparisons, shared by the parser, the SQL compiler and the in-memory evaluator
# (Python's operators build SQL expressions on SQLAlchemy columns too).
COMPARISON_OPERATORS: dict[str, Callable[[Any, Any], Any]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}

# The comparators a NaN value satisfies, as IEEE 754 (and MLflow) has it: NaN is unequal to
# every number, and neither equal to, less than nor greater than any.
NAN_SATISFIES: frozenset[str] = frozenset({"!="})

# str for string comparisons, int/float for numeric ones, a tuple for IN / NOT IN,
# None for IS NULL / IS NOT NULL.
Value = str | int | float | tuple[str, ...] | None


@dataclass(frozen=True, slots=True)
class Identifier:
    kind: IdentifierKind
    key: str


@dataclass(frozen=True, slots=True)
class Comparison:
    identifier: Identifier
    comparator: Comparator
    value: Value


@dataclass(frozen=True, slots=True)
class And:
    operands: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Or:
    operands: tuple[Expr, ...]


Expr = Comparison | And | Or


@dataclass(frozen=True, slots=True)
class OrderBy:
    identifier: Identifier
    ascending: bool = True


__all__ = [
    "NAN_SATISFIES",
    "And",
    "Comparator",
    "Comparison",
    "Expr",
    "Identifier",
    "IdentifierKind",
    "Or",
    "OrderBy",
    "Value",
]
