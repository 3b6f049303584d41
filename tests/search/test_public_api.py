"""The public surface of wayline.search changes only on purpose."""

from __future__ import annotations

import wayline.search


def test_public_names() -> None:
    assert sorted(wayline.search.__all__) == [
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
    for name in wayline.search.__all__:
        assert hasattr(wayline.search, name)
