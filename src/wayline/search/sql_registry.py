"""Compile registry searches to SQL (spec search-syntax.md §4-5), every value a bound parameter.

Semantics beyond those of ``sql.py`` (which this module shares: a tag clause never matches an
entity lacking the tag, ``LIKE`` is case-sensitive, ``ILIKE`` is not):
- prompts are excluded by an anti-join on the registered model's prompt tag unless the filter
  asks for them (``search/registry.py``); for versions, clauses on that tag are about the
  version's registered model, so a prompt's versions are found even if they lack the tag;
- every order ends with the keys that make it total (``name``, then ``version DESC`` for
  versions), so pages never overlap.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, exists, func, literal_column, select

from wayline.entities.registry import PROMPT_TAG
from wayline.search.ast import Comparison, Identifier, OrderBy
from wayline.search.registry import (
    is_prompt_clause,
    parse_model_version_filter,
    parse_model_version_order_by,
    parse_registered_model_filter,
    parse_registered_model_order_by,
)
from wayline.search.sql import compare, compile_expr, directed
from wayline.store.sql.tables import (
    model_version_tags,
    model_versions,
    registered_model_tags,
    registered_models,
)

Column = ColumnElement[Any]
rm = registered_models.c
mv = model_versions.c
rmt = registered_model_tags.c
mvt = model_version_tags.c

_MODEL_ORDER: dict[str, Column] = {"name": rm.name, "last_updated_timestamp": rm.last_updated_time}
_VERSION_COLUMNS: dict[str, Column] = {
    "name": mv.name,
    "run_id": mv.run_id,
    "source_path": mv.source,
    "version_number": mv.version,
    "creation_timestamp": mv.creation_time,
    "last_updated_timestamp": mv.last_updated_time,
}
_DEFAULT_VERSION_ORDER = (OrderBy(Identifier("attribute", "last_updated_timestamp"), False),)


def _prompt_names() -> Select[Any]:
    """Names of the registered models that are prompts."""
    return select(rmt.name).where(rmt.key == PROMPT_TAG, func.lower(rmt.value) == "true")


def _model_tag_clause(name: Column, comparison: Comparison) -> ColumnElement[bool]:
    """Entities whose registered model (named by ``name``) has a matching tag."""
    return name.in_(
        select(rmt.name).where(
            rmt.key == comparison.identifier.key,
            compare(rmt.value, comparison.comparator, comparison.value),
        )
    )


# ---------------------------------------------------------------- registered models
def registered_model_search_query(
    columns: Sequence[Column], filter_string: str | None, order_by: Sequence[str] | None
) -> Select[Any]:
    """Select ``columns`` of the matching registered models, ordered (default ``name ASC``).

    Raises ``InvalidParameter`` for a malformed filter or order_by.
    """
    parsed = parse_registered_model_filter(filter_string)
    orders = parse_registered_model_order_by(order_by)
    query = select(*columns)
    if parsed.expr is not None:
        query = query.where(compile_expr(parsed.expr, _model_clause))
    if not parsed.include_prompts:
        query = query.where(rm.name.not_in(_prompt_names()))
    keys = [directed(_MODEL_ORDER[o.identifier.key], o.ascending) for o in orders]
    if not any(o.identifier.key == "name" for o in orders):
        keys.append(rm.name.asc())
    return query.order_by(*keys)


def _model_clause(comparison: Comparison) -> ColumnElement[bool]:
    if comparison.identifier.kind == "tag":
        return _model_tag_clause(rm.name, comparison)
    return compare(rm.name, comparison.comparator, comparison.value)


# ---------------------------------------------------------------- model versions
def model_version_search_query(
    columns: Sequence[Column], filter_string: str | None, order_by: Sequence[str] | None
) -> Select[Any]:
    """Select ``columns`` of the matching model versions, ordered.

    Default order ``last_updated_timestamp DESC, name ASC, version_number DESC``; requested keys
    are followed by ``name ASC`` and ``version_number DESC`` unless requested.
    """
    parsed = parse_model_version_filter(filter_string)
    orders = parse_model_version_order_by(order_by) or list(_DEFAULT_VERSION_ORDER)
    query = select(*columns)
    if parsed.expr is not None:
        query = query.where(compile_expr(parsed.expr, _version_clause))
    if not parsed.include_prompts:
        query = query.where(mv.name.not_in(_prompt_names()))
    keys = [directed(_VERSION_COLUMNS[o.identifier.key], o.ascending) for o in orders]
    requested = {o.identifier.key for o in orders}
    if "name" not in requested:
        keys.append(mv.name.asc())
    if "version_number" not in requested:
        keys.append(mv.version.desc())
    return query.order_by(*keys)


def _version_clause(comparison: Comparison) -> ColumnElement[bool]:
    if is_prompt_clause(comparison):
        return _model_tag_clause(mv.name, comparison)
    if comparison.identifier.kind == "tag":
        # Correlated on the tag table's primary key (name, version, key): one probe a version.
        return exists(
            select(literal_column("1")).where(
                mvt.name == mv.name,
                mvt.version == mv.version,
                mvt.key == comparison.identifier.key,
                compare(mvt.value, comparison.comparator, comparison.value),
            )
        )
    column = _VERSION_COLUMNS[comparison.identifier.key]
    return compare(column, comparison.comparator, comparison.value)


__all__ = ["model_version_search_query", "registered_model_search_query"]
