"""``wayline traces list|show|delete|tag|feedback``: LLM and agent traces from the terminal.

``list`` searches with the trace filter grammar; ``show`` prints one trace as a tree of spans with
their types, durations and token usage, reading the spans page by page so a 50,000-span trace
prints without loading it whole; ``delete`` removes traces by id or by age; ``tag`` and
``feedback`` annotate a trace. Each prints JSON with ``--json``.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import click
from rich.table import Column, Table
from rich.tree import Tree

from wayline.cli._common import client, console, format_ms, print_json, reports_errors
from wayline.cli._common import tracking_uri_option as uri_option
from wayline.cli.db import parse_duration_ms
from wayline.errors import InvalidParameter, WaylineError

if TYPE_CHECKING:
    from wayline.entities.trace import Span, TraceInfo
    from wayline.store.backend import Store

json_option = click.option(
    "--json", "as_json", is_flag=True, help="Print machine-readable JSON instead of a table."
)
experiment_option = click.option(
    "--experiment-id",
    "-x",
    "experiment_ids",
    multiple=True,
    help="Experiment to look in (repeat for several). Default: experiment 0.",
)


def _store(tracking_uri: str | None) -> Store:
    from wayline.store.backend import Store

    store = client(tracking_uri).store
    if not isinstance(store, Store):
        raise WaylineError(
            f"The tracking store {type(store).__name__} does not keep traces: use a sqlite://, "
            "postgresql://, mysql:// or http(s):// tracking URI.",
            "NOT_IMPLEMENTED",
        )
    return store


def _duration(ms: int | None) -> str:
    return "running" if ms is None else f"{ms / 1000:.3f}s"


def _tokens(usage: dict[str, Any] | None) -> str:
    if not usage:
        return ""
    return f"{usage.get('input_tokens', 0)} in / {usage.get('output_tokens', 0)} out"


def info_dict(info: TraceInfo) -> dict[str, Any]:
    return {
        "trace_id": info.trace_id,
        "experiment_id": info.experiment_id,
        "name": info.name,
        "state": info.state.value,
        "request_time": info.request_time_ms,
        "execution_duration_ms": info.execution_duration_ms,
        "request_preview": info.request_preview,
        "response_preview": info.response_preview,
        "trace_metadata": info.trace_metadata,
        "tags": info.tags,
        "assessments": [
            {"assessment_id": a.assessment_id, "name": a.name, "value": a.value, "valid": a.valid}
            for a in info.assessments
        ],
    }


@click.group()
def traces() -> None:
    """Search, read and annotate the traces of LLM applications and agents."""


@traces.command("list")
@experiment_option
@click.option("--filter", "filter_string", default=None, help="e.g. \"trace.status = 'ERROR'\".")
@click.option("--order-by", multiple=True, help="e.g. 'timestamp_ms DESC' (repeatable).")
@click.option("--max-results", default=50, show_default=True, type=click.IntRange(1, 500))
@json_option
@uri_option
@reports_errors
def list_traces(
    experiment_ids: Sequence[str],
    filter_string: str | None,
    order_by: Sequence[str],
    max_results: int,
    as_json: bool,
    tracking_uri: str | None,
) -> None:
    """List the newest traces of experiments, optionally filtered.

    Example: wayline traces list -x 1 --filter "span.type = 'LLM'"
    """
    found = _store(tracking_uri).search_traces(
        list(experiment_ids) or ["0"], filter_string, max_results, list(order_by) or None
    )
    if as_json:
        print_json([info_dict(info) for info in found])
        return
    # Ids are never cut (they are what users copy); the preview shows only where it fits.
    preview = console.width >= 120
    table = Table(Column("trace id", no_wrap=True), "name", "state", "requested", "duration")
    table.add_column("tokens")
    if preview:
        table.add_column("request", overflow="ellipsis", no_wrap=True, max_width=40)
    for info in found:
        row = [
            info.trace_id,
            info.name or "",
            info.state.value,
            format_ms(info.request_time_ms),
            _duration(info.execution_duration_ms),
            _tokens(info.token_usage),
        ]
        table.add_row(*row, *([info.request_preview or ""] if preview else []))
    console.print(table)
    if found.token:
        console.print("[dim]More traces match: raise --max-results (up to 500) or narrow --filter.")


def span_tree(spans: Iterable[Span], limit: int) -> tuple[Tree | None, int]:
    """The spans as a Rich tree (at most ``limit`` nodes) and how many spans there were."""
    nodes: dict[str, Tree] = {}
    root: Tree | None = None
    count = 0
    for span in spans:
        count += 1
        if len(nodes) >= limit:
            continue
        label = _span_label(span)
        parent = nodes.get(span.parent_id) if span.parent_id else None
        if parent is not None:
            nodes[span.span_id] = parent.add(label)
        elif root is None:
            root = nodes[span.span_id] = Tree(label)
        else:  # its parent lies beyond the limit, or started later (clock skew): show it anyway
            nodes[span.span_id] = root.add(label)
    return root, count


def _span_label(span: Span) -> str:
    duration = (
        f"{(span.end_time_ns - span.start_time_ns) / 1e6:.1f} ms"
        if span.end_time_ns is not None
        else "running"
    )
    status = "[red]ERROR[/red] " if span.status_code == "ERROR" else ""
    usage = span.attributes.get("mlflow.chat.tokenUsage")
    tokens = f" [dim]{_tokens(usage)}[/dim]" if isinstance(usage, dict) else ""
    return f"{status}[bold]{span.name}[/bold] [cyan]{span.span_type}[/cyan] {duration}{tokens}"


@traces.command("show")
@click.argument("trace_id")
@click.option(
    "--max-spans", default=200, show_default=True, help="Print at most this many spans of the tree."
)
@json_option
@uri_option
@reports_errors
def show(trace_id: str, max_spans: int, as_json: bool, tracking_uri: str | None) -> None:
    """Show a trace: its info, assessments and span tree.

    Example: wayline traces show tr-0af7651916cd43dd8448eb211c80319c
    """
    store = _store(tracking_uri)
    info = store.get_trace_info(trace_id)
    if as_json:
        first = itertools.islice(store.iter_spans(trace_id), max_spans)
        spans = [span.to_dict() for span in first]
        print_json({"info": info_dict(info), "spans": spans})
        return
    console.print(
        f"[bold]{info.name or trace_id}[/bold]  {info.state.value}  "
        f"{format_ms(info.request_time_ms)}  {_duration(info.execution_duration_ms)}  "
        f"{_tokens(info.token_usage)}"
    )
    for assessment in info.assessments:
        flag = "" if assessment.valid else " [dim](overridden)[/dim]"
        console.print(f"  {assessment.kind} {assessment.name} = {assessment.value!r}{flag}")
    tree, count = span_tree(store.iter_spans(trace_id), max_spans)
    if tree is not None:
        console.print(tree)
    if count > max_spans:
        console.print(f"[dim]{count - max_spans} more spans: raise --max-spans to see them.")


@traces.command("delete")
@click.option("--experiment-id", "-x", required=True, help="The experiment the traces belong to.")
@click.option("--trace-id", "trace_ids", multiple=True, help="A trace to delete (repeatable).")
@click.option("--older-than", default=None, help="Delete traces requested longer ago, e.g. 30d.")
@click.option("--max-traces", default=None, type=int, help="With --older-than: at most this many.")
@uri_option
@reports_errors
def delete(
    experiment_id: str,
    trace_ids: Sequence[str],
    older_than: str | None,
    max_traces: int | None,
    tracking_uri: str | None,
) -> None:
    """Delete traces by id, or those older than an age.

    Example: wayline traces delete -x 1 --older-than 30d
    """
    if bool(trace_ids) == bool(older_than):
        raise InvalidParameter("Give either --trace-id (one or more) or --older-than, not both.")
    cutoff = int(time.time() * 1000) - parse_duration_ms(older_than) if older_than else None
    deleted = _store(tracking_uri).delete_traces(
        experiment_id,
        max_timestamp_millis=cutoff,
        max_traces=max_traces,
        trace_ids=list(trace_ids) or None,
    )
    console.print(f"Deleted {deleted} trace{'s' if deleted != 1 else ''}.")


@traces.command("tag")
@click.argument("trace_id")
@click.argument("key")
@click.argument("value", required=False)
@click.option("--delete", "remove", is_flag=True, help="Remove the tag instead of setting it.")
@uri_option
@reports_errors
def tag(trace_id: str, key: str, value: str | None, remove: bool, tracking_uri: str | None) -> None:
    """Set (or with --delete remove) a tag of a trace.

    Example: wayline traces tag tr-0af7... reviewed yes
    """
    store = _store(tracking_uri)
    if remove:
        store.delete_trace_tag(trace_id, key)
    elif value is None:
        raise InvalidParameter("Give the tag's VALUE, or --delete to remove it.")
    else:
        store.set_trace_tag(trace_id, key, value)
    console.print(f"{'Removed' if remove else 'Set'} tag {key} of {trace_id}.")


@traces.command("feedback")
@click.argument("trace_id")
@click.argument("name")
@click.argument("value")
@click.option("--rationale", default=None, help="Why this verdict.")
@click.option("--source-id", default=None, help="Who judged (default: your user name).")
@click.option("--span-id", default=None, help="Attach to this span instead of the whole trace.")
@uri_option
@reports_errors
def feedback(
    trace_id: str,
    name: str,
    value: str,
    rationale: str | None,
    source_id: str | None,
    span_id: str | None,
    tracking_uri: str | None,
) -> None:
    """Record a human's feedback on a trace. VALUE is JSON (true, 0.8, "good") or plain text.

    Example: wayline traces feedback tr-0af7... correctness true --rationale "matches the docs"
    """
    from wayline.entities.assessment import (
        Assessment,
        AssessmentSource,
        AssessmentSourceType,
        Feedback,
    )
    from wayline.store.registry import current_user

    try:
        parsed: Any = json.loads(value)
    except ValueError:
        parsed = value
    created = _store(tracking_uri).create_assessment(
        Assessment(
            name=name,
            trace_id=trace_id,
            source=AssessmentSource(AssessmentSourceType.HUMAN, source_id or current_user()),
            feedback=Feedback(parsed),
            rationale=rationale,
            span_id=span_id,
        )
    )
    console.print(f"Logged feedback {created.assessment_id} ({name} = {parsed!r}).")
