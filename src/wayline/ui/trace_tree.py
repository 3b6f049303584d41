"""The spans of a trace as the trace view's script reads them: one JSON object per span.

The page draws the span tree and the waterfall itself, from pages of these objects fetched in
the background (a trace may hold 50,000 spans). Times are nanoseconds counted from the trace's
request time: absolute nanosecond timestamps (~1.7e18) are past the 2**53 that a JavaScript
number holds exactly, offsets are not. Attribute values go out decoded (objects, not the JSON
text they are stored as), so the page can indent them.
"""

from __future__ import annotations

from typing import Any

import orjson

from wayline.entities import PagedList
from wayline.entities.trace import Span, SpanAttributeKey

# Shown in their own sections of the details panel, not in the attributes table.
_OWN_SECTIONS = frozenset(
    {
        SpanAttributeKey.INPUTS,
        SpanAttributeKey.OUTPUTS,
        SpanAttributeKey.SPAN_TYPE,
        SpanAttributeKey.TOKEN_USAGE,
    }
)


def span_row(span: Span, base_ns: int) -> dict[str, Any]:
    """One span for the page: ``s`` start and ``d`` duration in ns (``d`` None while open)."""
    attributes = span.attributes
    row: dict[str, Any] = {
        "id": span.span_id,
        "parent": span.parent_id,
        "name": span.name,
        "type": span.span_type,
        "s": span.start_time_ns - base_ns,
        "d": None if span.end_time_ns is None else span.end_time_ns - span.start_time_ns,
        "status": span.status_code.value,
        "message": span.status_message,
        "kind": span.kind,
        "attributes": {k: v for k, v in attributes.items() if k not in _OWN_SECTIONS},
        "events": [
            {"name": e.name, "t": e.time_unix_nano - base_ns, "attributes": e.attributes}
            for e in span.events
        ],
    }
    # Absent and null differ: a function that returned None logged outputs = null.
    for key, name in ((SpanAttributeKey.INPUTS, "inputs"), (SpanAttributeKey.OUTPUTS, "outputs")):
        if key in attributes:
            row[name] = attributes[key]
    if (usage := attributes.get(SpanAttributeKey.TOKEN_USAGE)) is not None:
        row["tokens"] = usage
    return row


def spans_page_json(page: PagedList[Span], base_ns: int) -> bytes:
    """``{"spans": [...], "next_page_token": ...}`` as UTF-8 JSON."""
    body = {"spans": [span_row(span, base_ns) for span in page], "next_page_token": page.token}
    try:
        return orjson.dumps(body)
    except TypeError:
        # An attribute orjson refuses (an integer past 64 bits): the standard library writes it.
        import json

        return json.dumps(body, default=str).encode()


__all__ = ["span_row", "spans_page_json"]
