"""The search filter grammar: parse once to an AST, then compile to SQL or evaluate in memory.

>>> from wayline.search import parse_run_filter
>>> parse_run_filter("metrics.rmse < 1")
Comparison(identifier=Identifier(kind='metric', key='rmse'), comparator='<', value=1.0)

Stores call ``run_search_query`` / ``experiment_search_query`` for a ready SELECT of ids;
in-memory filtering uses ``matches``. Every malformed filter raises ``InvalidParameter``.
"""

from wayline.search.ast import (
    And,
    Comparator,
    Comparison,
    Expr,
    Identifier,
    IdentifierKind,
    Or,
    OrderBy,
    Value,
)
from wayline.search.evaluate import Record, matches
from wayline.search.experiments import parse_experiment_filter, parse_experiment_order_by
from wayline.search.runs import parse_run_filter, parse_run_order_by
from wayline.search.sql import experiment_search_query, run_search_query

__all__ = [
    "And",
    "Comparator",
    "Comparison",
    "Expr",
    "Identifier",
    "IdentifierKind",
    "Or",
    "OrderBy",
    "Record",
    "Value",
    "experiment_search_query",
    "matches",
    "parse_experiment_filter",
    "parse_experiment_order_by",
    "parse_run_filter",
    "parse_run_order_by",
    "run_search_query",
]
