"""Logged-model search (spec search-syntax.md §6): filter keys and structured order_by entries.

Unlike runs and experiments, a logged-model order_by is structured (``LoggedModelOrderBy``:
``field_name``, ``ascending``, an optional dataset), so only the field name goes through the
parser; the direction comes from the entry itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from wayline.entities import LoggedModelOrderBy
from wayline.errors import InvalidParameter
from wayline.search.ast import Comparator, Expr, Identifier
from wayline.search.parser import parse_filter, parse_order_by
from wayline.search.rules import NUMERIC, EntityRules, FieldRule

# The spec lists these four for strings; IN / NOT IN would go beyond MLflow here.
_STRING_COMPARATORS: frozenset[Comparator] = frozenset({"=", "!=", "LIKE", "ILIKE"})
_STRING = FieldRule("string", _STRING_COMPARATORS)
_NUMBER = FieldRule("number", NUMERIC)

LOGGED_MODEL_RULES = EntityRules(
    entity="logged model",
    prefixes={
        "metrics": "metric",
        "metric": "metric",
        "params": "param",
        "param": "param",
        "parameters": "param",
        "tags": "tag",
        "tag": "tag",
        "attributes": "attribute",
        "attribute": "attribute",
        "attr": "attribute",
    },
    kinds={"metric": _NUMBER, "param": _STRING, "tag": _STRING},
    attributes={
        "name": _STRING,
        "model_id": _STRING,
        "model_type": _STRING,
        "status": _STRING,
        "source_run_id": _STRING,
        "creation_timestamp": _NUMBER,
        "last_updated_timestamp": _NUMBER,
    },
    aliases={
        "creation_time": "creation_timestamp",
        "creation_timestamp_ms": "creation_timestamp",
        "last_updated_time": "last_updated_timestamp",
        "last_updated_timestamp_ms": "last_updated_timestamp",
    },
    refused={
        "experiment_id": (
            "Filtering logged models on 'experiment_id' is not supported: "
            "pass the experiment_ids of the search instead."
        ),
    },
    order_kinds=frozenset({"metric", "param", "tag", "attribute"}),
    order_attributes=frozenset(
        {
            "name",
            "model_id",
            "model_type",
            "status",
            "source_run_id",
            "creation_timestamp",
            "last_updated_timestamp",
        }
    ),
)


@dataclass(frozen=True, slots=True)
class ModelOrder:
    """A validated order_by entry: what to sort on, the direction, the metric's dataset."""

    identifier: Identifier
    ascending: bool = True
    dataset_name: str | None = None
    dataset_digest: str | None = None


@lru_cache(maxsize=256)
def parse_logged_model_filter(filter_string: str | None) -> Expr | None:
    """Parse a logged-model filter such as ``metrics.rmse < 1 AND status = 'LOGGED_MODEL_READY'``.

    Returns None for an empty filter (every model matches).
    """
    return parse_filter(filter_string, LOGGED_MODEL_RULES)


def parse_logged_model_order_by(
    order_by: Sequence[LoggedModelOrderBy] | None,
) -> list[ModelOrder]:
    """Validate structured order_by entries; InvalidParameter names the bad one."""
    return [_parse_entry(entry) for entry in order_by or ()]


def _parse_entry(entry: LoggedModelOrderBy) -> ModelOrder:
    if not isinstance(entry, LoggedModelOrderBy):
        raise InvalidParameter(
            f"Invalid order_by entry {entry!r}: expected {{field_name, ascending, dataset_name,"
            " dataset_digest}."
        )
    name = entry.field_name
    if not isinstance(name, str) or not name.strip():
        raise InvalidParameter("Invalid order_by entry: field_name must be a non-empty string.")
    identifier = _order_identifier(name)
    if entry.dataset_digest and not entry.dataset_name:
        raise InvalidParameter(
            f"Invalid order_by entry for {name!r}: dataset_digest needs dataset_name."
        )
    if entry.dataset_name and identifier.kind != "metric":
        raise InvalidParameter(
            f"Invalid order_by entry for {name!r}: only metrics can be ordered per dataset."
        )
    return ModelOrder(
        identifier, bool(entry.ascending), entry.dataset_name or None, entry.dataset_digest or None
    )


@lru_cache(maxsize=256)
def _order_identifier(field_name: str) -> Identifier:
    parsed = parse_order_by(field_name, LOGGED_MODEL_RULES)
    if not parsed.ascending or field_name.rsplit(maxsplit=1)[-1].upper() == "ASC":
        # The direction is the entry's `ascending`, not part of the field name.
        raise InvalidParameter(
            f"Invalid order_by field_name {field_name!r}: give the direction as 'ascending'."
        )
    return parsed.identifier


__all__ = [
    "LOGGED_MODEL_RULES",
    "ModelOrder",
    "parse_logged_model_filter",
    "parse_logged_model_order_by",
]
