"""Compile trace searches (spec search-syntax.md §7) to SQL, every value a bound parameter.

Semantics beyond those of ``sql.py`` (shared: a clause on a tag or metadata key a trace lacks
never matches, even with ``!=``; ``LIKE`` is case-sensitive, ``ILIKE`` is not):
- each clause on tags, metadata, spans or assessments is a correlated EXISTS probing that
  table's primary key (or trace index) for the trace at hand;
- ``span.*`` clauses match when *some* span of the trace matches; each clause on its own, so
  ``span.name = 'a' AND span.type = 'LLM'`` need not be about the same span;
- span attributes and assessment values are stored as JSON text (``"gpt-4"``, ``0.9``,
  ``true``): ``=`` / ``IN`` accept either that text or the plain string (``'gpt-4'``,
  ``'true'``), and ``LIKE`` / ``RLIKE`` match the text or, for a JSON string, the string inside
  the quotes; numeric comparisons on assessments use the number, when the value is one;
- only valid assessments count (an overridden one is kept with ``valid`` false);
- ``trace.run_id`` matches the run a trace was created in and the runs it was linked to, and so
  does ``metadata.`mlflow.sourceRun` = X`` (as in MLflow; other comparators on that key see the
  metadata entry only, as there too);
- ``trace.prompt = 'name/version'`` matches the trace's ``mlflow.linkedPrompts`` entry, which the
  store keeps in a canonical JSON spelling;
- order: requested keys (traces lacking one last in both directions), then ``timestamp_ms
  DESC`` and trace id, which make it total.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    case,
    cast,
    false,
    func,
    literal_column,
    not_,
    or_,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.sql.expression import FromClause, UnaryExpression

from wayline.entities.trace import TraceMetadataKey, TraceTagKey
from wayline.search.ast import Comparator, Comparison, OrderBy, Value
from wayline.search.sql import LIKE_ESCAPE, compare, compile_expr, directed
from wayline.search.traces import SPAN_ATTRIBUTE_PREFIX, parse_trace_filter, parse_trace_order_by
from wayline.store.sql.tables import (
    assessments,
    trace_info,
    trace_request_metadata,
    trace_runs,
    trace_spans,
    trace_tags,
)

Column = ColumnElement[Any]
ti = trace_info.c
spans = trace_spans.c
marks = assessments.c


def _end_time() -> Column:
    # As MLflow: an in-progress trace ends when it started.
    return ti.request_time + func.coalesce(ti.execution_time, 0)


_ATTRIBUTE_COLUMNS: dict[str, Any] = {
    "request_id": lambda: ti.trace_id,
    "client_request_id": lambda: ti.client_request_id,
    "status": lambda: ti.state,
    "timestamp_ms": lambda: ti.request_time,
    "execution_time_ms": lambda: ti.execution_time,
    "end_time_ms": _end_time,
    "experiment_id": lambda: ti.experiment_id,
}


def trace_search_query(
    experiment_ids: Sequence[int],
    filter_string: str | None,
    order_by: Sequence[str] | None,
    dialect: str,
) -> Select[Any]:
    """Select ``trace_info.trace_id`` of the matching traces, ordered; the store pages it.

    Raises ``InvalidParameter`` for a malformed filter or order_by.
    """
    expr = parse_trace_filter(filter_string)
    source, keys = _ordering(parse_trace_order_by(order_by))
    query = (
        select(ti.trace_id).select_from(source).where(ti.experiment_id.in_(list(experiment_ids)))
    )
    if expr is not None:
        query = query.where(compile_expr(expr, lambda c: _clause(c, dialect)))
    return query.order_by(*keys)


def text_compare(column: Column, comparator: Comparator, value: Value) -> ColumnElement[bool]:
    """``compare`` plus RLIKE (a regex search, case-sensitive, in each database's dialect)."""
    if comparator == "RLIKE" and isinstance(value, str):
        return column.regexp_match(value)
    return compare(column, comparator, value)


def _clause(comparison: Comparison, dialect: str) -> ColumnElement[bool]:
    kind, key = comparison.identifier.kind, comparison.identifier.key
    comparator, value = comparison.comparator, comparison.value
    if kind == "attribute":
        return _attribute_clause(key, comparator, value)
    if kind == "tag":
        return _keyed_clause(trace_tags, key, comparator, value)
    if kind == "metadata":
        found = _keyed_clause(trace_request_metadata, key, comparator, value)
        if key == TraceMetadataKey.SOURCE_RUN and comparator == "=":
            return or_(found, _run_clause(comparator, value))
        return found
    if kind == "span":
        return _span_exists(_span_condition(key, comparator, value, dialect))
    if kind in ("feedback", "expectation"):
        return _assessment_clause(kind, key, comparator, value, dialect)
    return false()  # issue.id: no issues are stored, so none is linked to a trace


def _attribute_clause(key: str, comparator: Comparator, value: Value) -> ColumnElement[bool]:
    if key == "name":
        return _keyed_clause(trace_tags, TraceTagKey.TRACE_NAME, comparator, value)
    if key == "run_id":
        return _run_clause(comparator, value)
    if key == "prompt":
        return _prompt_clause(value)
    if key == "text":
        return _span_exists(text_compare(spans.content, comparator, value))
    return text_compare(_ATTRIBUTE_COLUMNS[key](), comparator, value)


def _keyed_clause(
    table: Any, key: str, comparator: Comparator, value: Value
) -> ColumnElement[bool]:
    conditions = [table.c.trace_id == ti.trace_id, table.c.key == key]
    if comparator not in ("IS NULL", "IS NOT NULL"):
        conditions.append(text_compare(table.c.value, comparator, value))
    found = select(literal_column("1")).where(*conditions).correlate(trace_info).exists()
    return ~found if comparator == "IS NULL" else found


def _run_clause(comparator: Comparator, value: Value) -> ColumnElement[bool]:
    runs = trace_runs.c
    if comparator in ("!=", "NOT IN"):
        # A trace in no run has no run id to differ from X; one in X and Y is still X's.
        positive: Comparator = "=" if comparator == "!=" else "IN"
        return and_(
            ti.trace_id.in_(select(runs.trace_id)),
            not_(
                ti.trace_id.in_(select(runs.trace_id).where(compare(runs.run_id, positive, value)))
            ),
        )
    return ti.trace_id.in_(
        select(runs.trace_id).where(text_compare(runs.run_id, comparator, value))
    )


def prompt_fragment(name: str, version: str) -> str:
    """How one prompt version appears in the canonical ``mlflow.linkedPrompts`` JSON list."""
    return json.dumps({"name": name, "version": version}, ensure_ascii=False)


def _prompt_clause(value: Value) -> ColumnElement[bool]:
    name, _, version = str(value).rpartition("/")
    fragment = prompt_fragment(name, version)
    escaped = "".join(LIKE_ESCAPE + c if c in "%_\\" else c for c in fragment)
    return _keyed_clause(trace_tags, TraceTagKey.LINKED_PROMPTS, "LIKE", f"%{escaped}%")


# ---------------------------------------------------------------- spans
def _span_exists(condition: ColumnElement[bool]) -> ColumnElement[bool]:
    query: Select[Any] = select(literal_column("1"))
    query = query.where(spans.trace_id == ti.trace_id, condition)
    return query.correlate(trace_info).exists()


def _span_condition(
    key: str, comparator: Comparator, value: Value, dialect: str
) -> ColumnElement[bool]:
    if key.startswith(SPAN_ATTRIBUTE_PREFIX):
        attribute = span_attribute(spans.content, key[len(SPAN_ATTRIBUTE_PREFIX) :], dialect)
        return json_text_compare(attribute, comparator, value, dialect)
    column = {"name": spans.name, "type": spans.type, "status": spans.status}.get(key)
    return text_compare(spans.content if column is None else column, comparator, value)


def span_attribute(content: Column, attribute: str, dialect: str) -> Column:
    """The stored (JSON text) value of one span attribute, read from the span's JSON."""
    extracted: Column
    if dialect == "postgresql":
        extracted = func.jsonb_extract_path_text(cast(content, JSONB), "attributes", attribute)
        return extracted
    path = "$.attributes." + json.dumps(attribute, ensure_ascii=False)
    if dialect == "mysql":
        # JSON functions answer in a case-insensitive collation: compare as the columns do.
        extracted = func.json_unquote(func.json_extract(content, path)).collate("utf8mb4_bin")
        return extracted
    extracted = func.json_extract(content, path)
    return extracted


def json_text_compare(
    text: Column, comparator: Comparator, value: Value, dialect: str
) -> ColumnElement[bool]:
    """Compare JSON text (``"gpt"``, ``0.9``, ``true``) with a user's string (module docstring)."""
    if isinstance(value, tuple):
        spellings = [*value, *(json.dumps(v, ensure_ascii=False) for v in value)]
        return text.in_(spellings) if comparator == "IN" else text.not_in(spellings)
    if comparator in ("=", "!="):
        spellings = [str(value), json.dumps(value, ensure_ascii=False)]
        return text.in_(spellings) if comparator == "=" else text.not_in(spellings)
    return or_(
        text_compare(text, comparator, value),
        text_compare(_inside_quotes(text, dialect), comparator, value),
    )


def _inside_quotes(text: Column, dialect: str) -> Column:
    """A JSON string's text without its quotes; other JSON text as it is."""
    length = func.char_length(text) if dialect != "sqlite" else func.length(text)
    quoted = and_(text.like('"%"'), length >= 2)
    return case((quoted, func.substr(text, 2, length - 2)), else_=text)


# ---------------------------------------------------------------- assessments
def _assessment_clause(
    kind: str, name: str, comparator: Comparator, value: Value, dialect: str
) -> ColumnElement[bool]:
    conditions = [
        marks.trace_id == ti.trace_id,
        marks.kind == kind,
        marks.name == name,
        marks.valid == true(),
    ]
    if comparator in ("<", "<=", ">", ">="):
        conditions.append(compare(marks.numeric_value, comparator, value))
    elif comparator not in ("IS NULL", "IS NOT NULL"):
        conditions.append(json_text_compare(marks.value, comparator, value, dialect))
    found = select(literal_column("1")).where(*conditions).correlate(trace_info).exists()
    return ~found if comparator == "IS NULL" else found


# ---------------------------------------------------------------- order
def _ordering(orders: list[OrderBy]) -> tuple[FromClause, list[Any]]:
    """The FROM clause (trace_info outer-joined to keyed sort tables) and ORDER BY keys."""
    source: FromClause = trace_info
    keys: list[Any] = []
    for index, order in enumerate(orders):
        kind, key = order.identifier.kind, order.identifier.key
        if kind == "attribute" and key in _ATTRIBUTE_COLUMNS:
            column = _ATTRIBUTE_COLUMNS[key]()
            keys += _null_last(column, order.ascending, nullable=key == "execution_time_ms")
            continue
        if kind == "tag" or key == "name":
            table, tag = trace_tags, key if kind == "tag" else TraceTagKey.TRACE_NAME
        else:  # run_id: the run the trace was created in
            table, tag = trace_request_metadata, TraceMetadataKey.SOURCE_RUN
        alias = table.alias(f"order_{index}")
        source = source.outerjoin(alias, and_(alias.c.trace_id == ti.trace_id, alias.c.key == tag))
        keys += _null_last(alias.c.value, order.ascending, nullable=True)
    requested = {(o.identifier.kind, o.identifier.key) for o in orders}
    if ("attribute", "timestamp_ms") not in requested:
        keys.append(ti.request_time.desc())
    if ("attribute", "request_id") not in requested:
        keys.append(ti.trace_id.asc())
    return source, keys


def _null_last(
    column: Column, ascending: bool, *, nullable: bool
) -> list[Column | UnaryExpression[Any]]:
    if not nullable:
        return [directed(column, ascending)]
    return [case((column.is_(None), 1), else_=0), directed(column, ascending)]


__all__ = [
    "json_text_compare",
    "prompt_fragment",
    "span_attribute",
    "text_compare",
    "trace_search_query",
]
