"""What an entity accepts: prefixes, keys, comparators and value types, with helpful errors.

The parser is entity-agnostic: it hands each clause over as a ``RawIdentifier``, a comparator
and a ``RawValue``, and an ``EntityRules`` table (one per searchable entity, see ``runs.py`` and
``experiments.py``) either turns it into a validated ``Comparison`` or says what to fix.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, get_args

from wayline.errors import InvalidParameter
from wayline.search.ast import Comparator, Comparison, Identifier, IdentifierKind, OrderBy, Value

ValueType = Literal["string", "number"]
RawValueKind = Literal["string", "number", "list", "bare", "none"]

# Display order for "not one of ..." messages: the order the Comparator type lists them in.
_COMPARATOR_ORDER: tuple[Comparator, ...] = get_args(Comparator)
NUMERIC: frozenset[Comparator] = frozenset({"=", "!=", "<", "<=", ">", ">="})
STRING: frozenset[Comparator] = frozenset({"=", "!=", "LIKE", "ILIKE", "IN", "NOT IN"})
STRING_OR_NULL: frozenset[Comparator] = STRING | {"IS NULL", "IS NOT NULL"}
EQUALITY_OR_LIST: frozenset[Comparator] = frozenset({"=", "!=", "IN", "NOT IN"})

_LABELS: dict[IdentifierKind, str] = {
    "metric": "metric",
    "param": "parameter",
    "tag": "tag",
    "attribute": "attribute",
    "dataset": "dataset",
    "metadata": "metadata",
    "span": "span",
    "feedback": "feedback",
    "expectation": "expectation",
    "issue": "issue",
}
_EXAMPLE_PREFIX: dict[IdentifierKind, str] = {
    "metric": "metrics",
    "param": "params",
    "tag": "tags",
    "attribute": "attributes",
    "dataset": "datasets",
    "metadata": "metadata",
    "span": "span",
    "feedback": "feedback",
    "expectation": "expectation",
    "issue": "issue",
}


@dataclass(frozen=True, slots=True)
class RawIdentifier:
    prefix: str | None
    key: str
    text: str  # as written, for messages


@dataclass(frozen=True, slots=True)
class RawValue:
    kind: RawValueKind
    value: str | tuple[str, ...] | None
    text: str  # as written, for messages


@dataclass(frozen=True, slots=True)
class FieldRule:
    value_type: ValueType
    comparators: frozenset[Comparator]


@dataclass(frozen=True)
class EntityRules:
    """Validation table for one searchable entity."""

    entity: str  # "run", "experiment": used in messages
    prefixes: Mapping[str, IdentifierKind]
    kinds: Mapping[IdentifierKind, FieldRule]  # rules for keyed kinds (metric, param, tag, dataset)
    attributes: Mapping[str, FieldRule]  # canonical attribute key -> rule
    aliases: Mapping[str, str] = field(default_factory=dict)  # alternative spelling -> canonical
    refused: Mapping[str, str] = field(default_factory=dict)  # attribute key -> why it is refused
    dataset_keys: frozenset[str] = frozenset()
    order_kinds: frozenset[IdentifierKind] = frozenset({"attribute"})
    order_attributes: frozenset[str] = frozenset()

    def comparison(self, ident: RawIdentifier, comparator: Comparator, raw: RawValue) -> Comparison:
        identifier = self.identifier(ident)
        rule = self._rule(identifier)
        if comparator not in rule.comparators:
            allowed = ", ".join(c for c in _COMPARATOR_ORDER if c in rule.comparators)
            raise InvalidParameter(
                f"Invalid comparator '{comparator}' not one of '{allowed}' for "
                f"{_short_label(identifier)} '{identifier.key}'."
            )
        return Comparison(identifier, comparator, _typed_value(identifier, rule, comparator, raw))

    def order_key(self, ident: RawIdentifier, clause: str) -> Identifier:
        identifier = self.identifier(ident)
        if identifier.kind not in self.order_kinds:
            raise InvalidParameter(
                f"Invalid order_by clause {clause!r}: {self.entity}s cannot be ordered by "
                f"{_LABELS[identifier.kind]}s."
            )
        if identifier.kind == "attribute" and identifier.key not in self.order_attributes:
            valid = ", ".join(sorted(self.order_attributes))
            raise InvalidParameter(
                f"Invalid order_by clause {clause!r}: cannot order {self.entity}s by attribute "
                f"'{identifier.key}'. Valid attributes are: {valid}."
            )
        return identifier

    def order_by(self, ident: RawIdentifier, clause: str, ascending: bool) -> OrderBy:
        return OrderBy(self.order_key(ident, clause), ascending)

    def identifier(self, ident: RawIdentifier) -> Identifier:
        """Resolve the prefix and canonical key of ``ident``."""
        if ident.prefix is None:
            kind: IdentifierKind = "attribute"
        elif ident.prefix in self.prefixes:
            kind = self.prefixes[ident.prefix]
        else:
            valid = ", ".join(f"'{p}'" for p in self.prefixes)
            raise InvalidParameter(
                f"Invalid entity type '{ident.prefix}' in '{ident.text}'. Valid prefixes for "
                f"{self.entity} searches are {valid} (or none, for an attribute)."
            )
        if not ident.key:
            raise InvalidParameter(f"Empty key in '{ident.text}': name the {_LABELS[kind]}.")
        if kind == "attribute":
            return Identifier(kind, self._attribute_key(ident))
        if kind == "dataset" and ident.key not in self.dataset_keys:
            valid = ", ".join(sorted(self.dataset_keys))
            raise InvalidParameter(
                f"Invalid dataset key '{ident.key}' in '{ident.text}'. Valid keys are: {valid}."
            )
        return Identifier(kind, ident.key)

    def _attribute_key(self, ident: RawIdentifier) -> str:
        key = self.aliases.get(ident.key, ident.key)
        if key in self.refused:
            raise InvalidParameter(self.refused[key])
        if key not in self.attributes:
            valid = ", ".join(sorted(self.attributes))
            hint = ""
            keyed: list[IdentifierKind] = [k for k in ("param", "tag") if k in self.kinds]
            if ident.prefix is None and keyed:
                names = " or ".join(_LABELS[k] for k in keyed)
                spelled = " or ".join(f"{_EXAMPLE_PREFIX[k]}.`{ident.key}`" for k in keyed)
                hint = f" For a {names}, write {spelled}."
            raise InvalidParameter(
                f"Invalid attribute key '{ident.key}' specified for {self.entity} search. "
                f"Valid keys are: {valid}.{hint}"
            )
        return key

    def _rule(self, identifier: Identifier) -> FieldRule:
        if identifier.kind == "attribute":
            return self.attributes[identifier.key]
        return self.kinds[identifier.kind]


def _short_label(identifier: Identifier) -> str:
    return "param" if identifier.kind == "param" else _LABELS[identifier.kind]


def _typed_value(
    identifier: Identifier, rule: FieldRule, comparator: Comparator, raw: RawValue
) -> Value:
    label = f"{_LABELS[identifier.kind]} '{identifier.key}'"
    example = f"{_EXAMPLE_PREFIX[identifier.kind]}.{identifier.key}"
    if comparator in ("IS NULL", "IS NOT NULL"):
        return None
    if comparator in ("IN", "NOT IN"):
        if raw.kind != "list" or not isinstance(raw.value, tuple):
            raise InvalidParameter(
                f"Expected a parenthesized list of quoted strings after {comparator} for {label}, "
                f"e.g. {example} {comparator} ('a', 'b'); got {raw.text}."
            )
        return raw.value
    if raw.kind == "list":
        raise InvalidParameter(
            f"A list value needs IN or NOT IN, not '{comparator}' ({label}, got {raw.text})."
        )
    if rule.value_type == "number":
        if raw.kind != "number" or not isinstance(raw.value, str):
            raise InvalidParameter(
                f"Expected numeric value type for {label}: an unquoted number, "
                f"e.g. {example} {comparator} 1. Got {raw.text}."
            )
        return _number(raw.value, integral=identifier.kind == "attribute")
    if raw.kind != "string" or not isinstance(raw.value, str):
        raise InvalidParameter(
            f"Expected a quoted string value for {label} (e.g. {example} {comparator} "
            f"'my-value'). Got value {raw.text}."
        )
    return raw.value


def _number(text: str, *, integral: bool) -> int | float:
    """Metrics compare as floats; attributes (milliseconds) keep integers exact."""
    try:
        if integral and text.lstrip("+-").isdigit():
            return int(text)
        number = float(text)
    except ValueError as exc:  # only a number too long for int() gets here
        raise InvalidParameter(f"Number too long: {text[:40]}...") from exc
    if integral and math.isfinite(number) and number.is_integer():
        return int(number)  # 1.7e12 is a perfectly good timestamp
    return number


__all__ = [
    "EQUALITY_OR_LIST",
    "NUMERIC",
    "STRING",
    "STRING_OR_NULL",
    "EntityRules",
    "FieldRule",
    "RawIdentifier",
    "RawValue",
]
