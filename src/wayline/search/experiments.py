"""Experiment search: which keys an experiment filter or order_by may name."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from wayline.search.ast import Expr, OrderBy
from wayline.search.parser import parse_filter, parse_order_by
from wayline.search.rules import (
    EQUALITY_OR_LIST,
    NUMERIC,
    STRING,
    STRING_OR_NULL,
    EntityRules,
    FieldRule,
)

EXPERIMENT_RULES = EntityRules(
    entity="experiment",
    prefixes={
        "tags": "tag",
        "tag": "tag",
        "attributes": "attribute",
        "attribute": "attribute",
        "attr": "attribute",
    },
    kinds={"tag": FieldRule("string", STRING_OR_NULL)},
    attributes={
        "name": FieldRule("string", STRING),
        # Ids travel as strings on the wire; the SQL compiler converts them.
        "experiment_id": FieldRule("string", EQUALITY_OR_LIST),
        "creation_time": FieldRule("number", NUMERIC),
        "last_update_time": FieldRule("number", NUMERIC),
    },
    refused={
        "lifecycle_stage": (
            "Filtering experiments on 'lifecycle_stage' is not supported: "
            "pass view_type (ACTIVE_ONLY, DELETED_ONLY or ALL) instead."
        ),
    },
    order_kinds=frozenset({"attribute"}),
    order_attributes=frozenset({"name", "experiment_id", "creation_time", "last_update_time"}),
)


@lru_cache(maxsize=256)
def parse_experiment_filter(filter_string: str | None) -> Expr | None:
    """Parse an experiment filter such as ``name LIKE 'exp%' AND tags.team = 'ml'``.

    Returns None for an empty filter (every experiment matches).
    """
    return parse_filter(filter_string, EXPERIMENT_RULES)


def parse_experiment_order_by(order_by: Sequence[str] | None) -> list[OrderBy]:
    """Parse experiment order_by entries such as ``["name ASC", "creation_time DESC"]``."""
    return [_parse_experiment_order_clause(clause) for clause in order_by or ()]


@lru_cache(maxsize=256)
def _parse_experiment_order_clause(clause: str) -> OrderBy:
    return parse_order_by(clause, EXPERIMENT_RULES)


__all__ = ["EXPERIMENT_RULES", "parse_experiment_filter", "parse_experiment_order_by"]
