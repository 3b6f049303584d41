"""Trace search (spec search-syntax.md §7): which keys a trace filter or order_by may name.

Trace keys come in more shapes than those of runs: attributes of the info (``trace.status``),
some of which stand for a tag or metadata entry (``trace.name`` is the tag ``mlflow.traceName``,
``trace.run_id`` the runs a trace belongs to), the trace's tags and metadata, properties of any
of its spans (``span.type``, ``span.attributes.<key>``) and the values of its assessments
(``feedback.<name>``, ``expectation.<name>``), which compare as strings or as numbers depending
on the comparator. ``TraceRules`` adds those shapes to the shared ``EntityRules``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from wayline.errors import InvalidParameter
from wayline.search.ast import Comparator, Comparison, Expr, Identifier, IdentifierKind, OrderBy
from wayline.search.parser import parse_filter, parse_order_by
from wayline.search.rules import NUMERIC, EntityRules, FieldRule, RawIdentifier, RawValue

_STRING_SET: frozenset[Comparator] = frozenset(
    {"=", "!=", "IN", "NOT IN", "LIKE", "ILIKE", "RLIKE"}
)
_KEYED: frozenset[Comparator] = frozenset(
    {"=", "!=", "LIKE", "ILIKE", "RLIKE", "IS NULL", "IS NOT NULL"}
)
_ASSESSMENT_STRING: frozenset[Comparator] = _KEYED
_ASSESSMENT_NUMBER: frozenset[Comparator] = frozenset({"<", "<=", ">", ">="})
_TEXT: frozenset[Comparator] = frozenset({"LIKE", "ILIKE"})

_STRING = FieldRule("string", _STRING_SET)
_NUMBER = FieldRule("number", NUMERIC)

# Span properties other than ``attributes.<key>``.
SPAN_FIELDS: dict[str, FieldRule] = {
    "name": _STRING,
    "type": _STRING,
    "status": _STRING,
    "content": FieldRule("string", _TEXT),
}
SPAN_ATTRIBUTE_PREFIX = "attributes."

# Canonical attribute keys. ``request_id`` is the trace id (MLflow's v2 name).
TRACE_ATTRIBUTES: dict[str, FieldRule] = {
    "request_id": _STRING,
    "client_request_id": _STRING,
    "status": _STRING,
    "timestamp_ms": _NUMBER,
    "execution_time_ms": _NUMBER,
    "end_time_ms": _NUMBER,
    "name": _STRING,
    "run_id": _STRING,
    "prompt": FieldRule("string", frozenset({"="})),
    "text": FieldRule("string", _TEXT),
    # Only for order_by: the search names its experiments itself.
    "experiment_id": _STRING,
}
ORDER_ATTRIBUTES = frozenset(
    {
        "timestamp_ms",
        "execution_time_ms",
        "end_time_ms",
        "status",
        "request_id",
        "experiment_id",
        "name",
        "run_id",
    }
)


@dataclass(frozen=True)
class TraceRules(EntityRules):
    """``EntityRules`` plus span fields and assessment values (string or number by comparator)."""

    def comparison(self, ident: RawIdentifier, comparator: Comparator, raw: RawValue) -> Comparison:
        identifier = self.identifier(ident)
        if identifier.kind == "attribute" and identifier.key == "experiment_id":
            raise InvalidParameter(
                "Filtering traces on 'experiment_id' is not supported: pass the experiment ids"
                " (locations) of the search instead."
            )
        if identifier.kind == "span":
            self._check_span_key(identifier.key, ident)
        if identifier.kind in ("feedback", "expectation"):
            return _assessment_comparison(identifier, comparator, raw)
        if identifier.kind == "issue" and identifier.key != "id":
            raise InvalidParameter(
                f"Invalid issue attribute '{identifier.key}' in '{ident.text}'. Supported"
                " attributes: id."
            )
        comparison = super().comparison(ident, comparator, raw)
        _check_value(comparison)
        return comparison

    def _rule(self, identifier: Identifier) -> FieldRule:
        if identifier.kind == "span":
            return SPAN_FIELDS.get(identifier.key, _STRING)
        return super()._rule(identifier)

    @staticmethod
    def _check_span_key(key: str, ident: RawIdentifier) -> None:
        if key in SPAN_FIELDS:
            return
        if key.startswith(SPAN_ATTRIBUTE_PREFIX) and key != SPAN_ATTRIBUTE_PREFIX:
            return
        if key.startswith("attributes"):
            raise InvalidParameter(
                f"Span attribute name cannot be empty in '{ident.text}': write "
                "span.attributes.<attribute>, e.g. span.attributes.`mlflow.spanType`."
            )
        supported = ", ".join(sorted(SPAN_FIELDS))
        raise InvalidParameter(
            f"Invalid span attribute '{key}' in '{ident.text}'. Supported attributes: "
            f"{supported}, attributes.<attribute_name>."
        )


def _assessment_comparison(
    identifier: Identifier, comparator: Comparator, raw: RawValue
) -> Comparison:
    what = f"{identifier.kind}.{identifier.key}"
    if comparator in ("IS NULL", "IS NOT NULL"):
        return Comparison(identifier, comparator, None)
    if comparator in _ASSESSMENT_NUMBER:
        if raw.kind != "number" or not isinstance(raw.value, str):
            raise InvalidParameter(
                f"Expected an unquoted number for {what} {comparator}, e.g. {what} {comparator}"
                f" 0.5. Got {raw.text}."
            )
        return Comparison(identifier, comparator, float(raw.value))
    if comparator not in _ASSESSMENT_STRING:
        allowed = "=, !=, <, <=, >, >=, LIKE, ILIKE, RLIKE, IS NULL, IS NOT NULL"
        raise InvalidParameter(
            f"Invalid comparator '{comparator}' not one of '{allowed}' for {what}."
        )
    if raw.kind != "string" or not isinstance(raw.value, str):
        raise InvalidParameter(
            f"Expected a quoted string value for {what} {comparator} (e.g. {what} = 'yes';"
            f" a boolean or number too: {what} = 'true'). Got {raw.text}."
        )
    comparison = Comparison(identifier, comparator, raw.value)
    _check_value(comparison)
    return comparison


def _check_value(comparison: Comparison) -> None:
    """Values some databases would reject at run time: bad regexes, malformed prompt refs."""
    value = comparison.value
    if comparison.comparator == "RLIKE" and isinstance(value, str):
        try:
            re.compile(value)
        except re.error as exc:
            raise InvalidParameter(
                f"Invalid regular expression {value!r} for RLIKE: {exc}."
            ) from None
    identifier = comparison.identifier
    if identifier == Identifier("attribute", "prompt") and isinstance(value, str):
        name, slash, version = value.rpartition("/")
        if not slash or not name or not version:
            raise InvalidParameter(
                f"Invalid prompts filter value '{value}'. Expected format: prompt = 'name/version'"
            )


_PREFIXES: dict[str, IdentifierKind] = {
    "attributes": "attribute",
    "attribute": "attribute",
    "trace": "attribute",
    "tags": "tag",
    "tag": "tag",
    "metadata": "metadata",
    "request_metadata": "metadata",
    "span": "span",
    "feedback": "feedback",
    "expectation": "expectation",
    "issue": "issue",
}

TRACE_RULES = TraceRules(
    entity="trace",
    prefixes=_PREFIXES,
    kinds={
        "tag": FieldRule("string", _KEYED),
        "metadata": FieldRule("string", _KEYED),
        "issue": FieldRule("string", frozenset({"="})),
    },
    attributes=TRACE_ATTRIBUTES,
    aliases={
        "timestamp": "timestamp_ms",
        "execution_time": "execution_time_ms",
        "end_time": "end_time_ms",
        "trace_id": "request_id",
        "state": "status",
    },
    refused={
        "session_id": (
            "Filtering traces on 'session_id' is not supported: use "
            "metadata.`mlflow.trace.session` instead."
        ),
    },
    order_kinds=frozenset({"attribute", "tag"}),
    order_attributes=ORDER_ATTRIBUTES,
)


@lru_cache(maxsize=256)
def parse_trace_filter(filter_string: str | None) -> Expr | None:
    """Parse a trace filter such as ``trace.status = 'OK' AND span.type = 'LLM'``.

    Returns None for an empty filter (every trace matches); raises ``InvalidParameter`` naming
    what to fix.
    """
    return parse_filter(filter_string, TRACE_RULES)


def parse_trace_order_by(order_by: Sequence[str] | None) -> list[OrderBy]:
    """``["timestamp_ms DESC", "tags.env"]`` and the like; a key named twice is refused."""
    items = [_order_clause(_order_text(clause)) for clause in order_by or ()]
    keys = [(item.identifier.kind, item.identifier.key) for item in items]
    if len(set(keys)) != len(keys):
        raise InvalidParameter(f"`order_by` contains duplicate fields: {list(order_by or ())}")
    return items


def _order_text(clause: object) -> str:
    if not isinstance(clause, str):
        raise InvalidParameter(f"Invalid order_by clause {clause!r}: expected a string.")
    return clause


@lru_cache(maxsize=256)
def _order_clause(clause: str) -> OrderBy:
    return parse_order_by(clause, TRACE_RULES)


__all__ = [
    "ORDER_ATTRIBUTES",
    "SPAN_ATTRIBUTE_PREFIX",
    "SPAN_FIELDS",
    "TRACE_ATTRIBUTES",
    "TRACE_RULES",
    "TraceRules",
    "parse_trace_filter",
    "parse_trace_order_by",
]
