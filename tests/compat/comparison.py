"""Comparing a scenario's document from Wayline with MLflow's, section by section (import as
``compat.comparison``)."""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from typing import Any

import pytest

Document = dict[str, Any]
# (section, key) -> why; the tables of differences a comparison sets aside.
Differences = Mapping[tuple[str, str], str]


def set_differences_aside(
    section: str, want: Any, have: Any, tables: Mapping[str, Differences]
) -> tuple[Any, Any]:
    """Both results without the keys the ``tables`` (name -> differences) list for
    ``section``; fails if a listed key now matches, so that a stale entry is removed."""
    strip: set[str] = set()
    for table_name, table in tables.items():
        listed = [key for (name, key) in table if name == section]
        if not listed or not isinstance(want, dict) or not isinstance(have, dict):
            continue
        fixed = [key for key in listed if key in want and want.get(key) == have.get(key)]
        if fixed:
            pytest.fail(
                f"{section}: {fixed} now match MLflow: remove them from {table_name}",
                pytrace=False,
            )
        strip.update(listed)
    if not strip:
        return want, have
    return (
        {k: v for k, v in want.items() if k not in strip},
        {k: v for k, v in have.items() if k not in strip},
    )


def fail_unless_equal(section: str, want: Any, have: Any, what: str) -> None:
    """Fail with a diff of the two sections' JSON when they differ."""
    if have == want:
        return
    diff = difflib.unified_diff(
        json.dumps(want, indent=1, sort_keys=True).splitlines(),
        json.dumps(have, indent=1, sort_keys=True).splitlines(),
        fromfile=f"{section}: mlflow client on mlflow server",
        tofile=f"{section}: {what}",
        lineterm="",
    )
    pytest.fail("\n".join(diff), pytrace=False)


__all__ = ["Differences", "Document", "fail_unless_equal", "set_differences_aside"]
