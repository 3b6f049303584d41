"""Registry searches (spec search-syntax.md §4-5): which keys a registered-model or model-version
filter and order_by may name, and the prompt rule.

Filters and orders accept different attributes (versions filter on ``version_number`` and order
on ``creation_timestamp`` too), so each entity has one rules table for each.

The prompt rule: prompts (registered models tagged ``mlflow.prompt.is_prompt = 'true'``) and
their versions are left out unless the filter asks for them with ``tags.`mlflow.prompt.is_prompt`
= 'true'`` (or ``!= 'false'``). When it does not, every clause on that tag only says "not a
prompt" (MLflow's client appends ``!= 'true'`` to every model search), so such clauses are
dropped from the filter and the exclusion applies instead: a model without the tag matches.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

from wayline.entities.registry import PROMPT_TAG
from wayline.errors import InvalidParameter
from wayline.search.ast import And, Comparator, Comparison, Expr, IdentifierKind, Or, OrderBy
from wayline.search.parser import parse_filter, parse_order_by
from wayline.search.rules import NUMERIC, STRING, EntityRules, FieldRule

_EQUALITY_OR_LIKE: frozenset[Comparator] = frozenset({"=", "!=", "LIKE", "ILIKE"})
_TAG = FieldRule("string", _EQUALITY_OR_LIKE)
_STRING_OR_LIST = FieldRule("string", STRING)
_NUMBER = FieldRule("number", NUMERIC)
_PREFIXES: Mapping[str, IdentifierKind] = {
    "tags": "tag",
    "tag": "tag",
    "attributes": "attribute",
    "attribute": "attribute",
    "attr": "attribute",
}

REGISTERED_MODEL_FILTER_RULES = EntityRules(
    entity="registered model",
    prefixes=_PREFIXES,
    kinds={"tag": _TAG},
    attributes={"name": _STRING_OR_LIST},
)
REGISTERED_MODEL_ORDER_RULES = EntityRules(
    entity="registered model",
    prefixes=_PREFIXES,
    kinds={},
    attributes={"name": _STRING_OR_LIST, "last_updated_timestamp": _NUMBER},
    aliases={"timestamp": "last_updated_timestamp"},
    order_attributes=frozenset({"name", "last_updated_timestamp"}),
)
MODEL_VERSION_FILTER_RULES = EntityRules(
    entity="model version",
    prefixes=_PREFIXES,
    kinds={"tag": _TAG},
    attributes={
        "name": _STRING_OR_LIST,
        "run_id": _STRING_OR_LIST,
        "source_path": FieldRule("string", _EQUALITY_OR_LIKE),
        "version_number": _NUMBER,
    },
)
_VERSION_ORDER_KEYS = ("name", "version_number", "creation_timestamp", "last_updated_timestamp")
MODEL_VERSION_ORDER_RULES = EntityRules(
    entity="model version",
    prefixes=_PREFIXES,
    kinds={},
    attributes={key: _STRING_OR_LIST if key == "name" else _NUMBER for key in _VERSION_ORDER_KEYS},
    order_attributes=frozenset(_VERSION_ORDER_KEYS),
)


@dataclass(frozen=True, slots=True)
class RegistryFilter:
    """A parsed registry filter: the clauses to compile (None: all match) and whether prompts
    are wanted (then no exclusion applies and prompt-tag clauses are ordinary clauses)."""

    expr: Expr | None
    include_prompts: bool


@lru_cache(maxsize=256)
def parse_registered_model_filter(filter_string: str | None) -> RegistryFilter:
    """Parse a filter such as ``name LIKE 'fraud%' AND tags.team = 'risk'``."""
    return _with_prompt_rule(parse_filter(filter_string, REGISTERED_MODEL_FILTER_RULES))


@lru_cache(maxsize=256)
def parse_model_version_filter(filter_string: str | None) -> RegistryFilter:
    """Parse a filter such as ``name = 'fraud' AND version_number > 3``."""
    expr = parse_filter(filter_string, MODEL_VERSION_FILTER_RULES)
    _check_integral_versions(expr)
    return _with_prompt_rule(expr)


def parse_registered_model_order_by(order_by: Sequence[str] | None) -> list[OrderBy]:
    """``["last_updated_timestamp DESC"]`` and the like; a key named twice is refused."""
    return _unique([_model_order_clause(clause) for clause in order_by or ()], order_by)


def parse_model_version_order_by(order_by: Sequence[str] | None) -> list[OrderBy]:
    """``["version_number DESC"]`` and the like; a key named twice is refused."""
    return _unique([_version_order_clause(clause) for clause in order_by or ()], order_by)


@lru_cache(maxsize=256)
def _model_order_clause(clause: str) -> OrderBy:
    return parse_order_by(_order_text(clause), REGISTERED_MODEL_ORDER_RULES)


@lru_cache(maxsize=256)
def _version_order_clause(clause: str) -> OrderBy:
    return parse_order_by(_order_text(clause), MODEL_VERSION_ORDER_RULES)


def _order_text(clause: object) -> str:
    if not isinstance(clause, str):
        raise InvalidParameter(f"Invalid order_by clause {clause!r}: expected a string.")
    return clause


def _unique(items: list[OrderBy], order_by: Sequence[str] | None) -> list[OrderBy]:
    keys = [item.identifier.key for item in items]
    if len(set(keys)) != len(keys):
        raise InvalidParameter(f"`order_by` contains duplicate fields: {list(order_by or ())}")
    return items


def is_prompt_clause(comparison: Comparison) -> bool:
    return comparison.identifier.kind == "tag" and comparison.identifier.key == PROMPT_TAG


def _asks_for_prompts(comparison: Comparison) -> bool:
    value = comparison.value
    if not is_prompt_clause(comparison) or not isinstance(value, str):
        return False
    return (comparison.comparator == "=" and value.lower() == "true") or (
        comparison.comparator == "!=" and value.lower() == "false"
    )


def _with_prompt_rule(expr: Expr | None) -> RegistryFilter:
    if expr is None:
        return RegistryFilter(None, include_prompts=False)
    if any(_asks_for_prompts(c) for c in _comparisons(expr)):
        return RegistryFilter(expr, include_prompts=True)
    return RegistryFilter(_without_prompt_clauses(expr), include_prompts=False)


def _comparisons(expr: Expr) -> list[Comparison]:
    if isinstance(expr, Comparison):
        return [expr]
    return [c for operand in expr.operands for c in _comparisons(operand)]


def _without_prompt_clauses(expr: Expr) -> Expr | None:
    """``expr`` with each prompt-tag clause taken as true (None: the whole filter is true)."""
    if isinstance(expr, Comparison):
        return None if is_prompt_clause(expr) else expr
    operands = [_without_prompt_clauses(operand) for operand in expr.operands]
    if isinstance(expr, Or):
        if any(operand is None for operand in operands):
            return None
        return Or(tuple(o for o in operands if o is not None))
    kept = tuple(o for o in operands if o is not None)
    if not kept:
        return None
    return kept[0] if len(kept) == 1 else And(kept)


def _check_integral_versions(expr: Expr | None) -> None:
    for comparison in _comparisons(expr) if expr is not None else []:
        if comparison.identifier.key == "version_number" and not isinstance(comparison.value, int):
            raise InvalidParameter(
                f"Invalid value for numeric attribute 'version_number': {comparison.value!r}."
                " Version numbers are integers."
            )


__all__ = [
    "MODEL_VERSION_FILTER_RULES",
    "MODEL_VERSION_ORDER_RULES",
    "REGISTERED_MODEL_FILTER_RULES",
    "REGISTERED_MODEL_ORDER_RULES",
    "RegistryFilter",
    "is_prompt_clause",
    "parse_model_version_filter",
    "parse_model_version_order_by",
    "parse_registered_model_filter",
    "parse_registered_model_order_by",
]
