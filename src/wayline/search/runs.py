"""Run search: which keys a run filter or order_by may name, and their parse functions."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from wayline.search.ast import Expr, OrderBy
from wayline.search.parser import parse_filter, parse_order_by
from wayline.search.rules import NUMERIC, STRING, STRING_OR_NULL, EntityRules, FieldRule

_STRING = FieldRule("string", STRING)
_NUMBER = FieldRule("number", NUMERIC)

RUN_RULES = EntityRules(
    entity="run",
    prefixes={
        "metrics": "metric",
        "metric": "metric",
        "params": "param",
        "param": "param",
        "parameters": "param",
        "parameter": "param",
        "tags": "tag",
        "tag": "tag",
        "attributes": "attribute",
        "attribute": "attribute",
        "attr": "attribute",
        "run": "attribute",
        "datasets": "dataset",
        "dataset": "dataset",
    },
    kinds={
        "metric": _NUMBER,
        "param": FieldRule("string", STRING_OR_NULL),
        "tag": FieldRule("string", STRING_OR_NULL),
        "dataset": _STRING,
    },
    attributes={
        "run_id": _STRING,
        "run_name": _STRING,
        "status": _STRING,
        "user_id": _STRING,
        "artifact_uri": _STRING,
        "start_time": _NUMBER,
        "end_time": _NUMBER,
    },
    aliases={
        "created": "start_time",
        "Created": "start_time",
        "run name": "run_name",
        "Run name": "run_name",
        "Run Name": "run_name",
    },
    refused={
        "lifecycle_stage": (
            "Filtering runs on 'lifecycle_stage' is not supported: "
            "pass run_view_type (ACTIVE_ONLY, DELETED_ONLY or ALL) instead."
        ),
        "experiment_id": (
            "Filtering runs on 'experiment_id' is not supported: "
            "pass the experiment_ids of the search instead."
        ),
    },
    dataset_keys=frozenset({"name", "digest", "context"}),
    order_kinds=frozenset({"metric", "param", "tag", "attribute"}),
    order_attributes=frozenset(
        {"run_id", "run_name", "status", "user_id", "artifact_uri", "start_time", "end_time"}
    ),
)


@lru_cache(maxsize=256)
def parse_run_filter(filter_string: str | None) -> Expr | None:
    """Parse a run filter such as ``metrics.rmse < 1 AND params.model = 'cnn'``.

    Returns None for an empty filter (every run matches). Raises ``InvalidParameter`` with a
    message naming what to fix. Results are cached: the AST is immutable.
    """
    return parse_filter(filter_string, RUN_RULES)


def parse_run_order_by(order_by: Sequence[str] | None) -> list[OrderBy]:
    """Parse run order_by entries such as ``["metrics.rmse DESC", "params.alpha"]``."""
    return [_parse_run_order_clause(clause) for clause in order_by or ()]


@lru_cache(maxsize=256)
def _parse_run_order_clause(clause: str) -> OrderBy:
    return parse_order_by(clause, RUN_RULES)


__all__ = ["RUN_RULES", "parse_run_filter", "parse_run_order_by"]
