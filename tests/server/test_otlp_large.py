"""A 50,000-span trace through ``POST /v1/traces`` of a ``wayline server`` process, with the
server's peak memory measured: ingest decodes and stores in batches, reads (the spans pages and
GetTrace's stream) go page by page."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from servers import ServerProcess, server_process
from wayline.entities.trace import Span, SpanAttributeKey, SpanType
from wayline.tracing.otlp import encode_request

SPANS = 50_000
PAGE = 10_000
# Peak resident memory the server may gain over its warmed-up size while it takes the trace in
# and serves it back (the request body alone is about 12 MB).
MAX_GROWTH_BYTES = 400 * 1024 * 1024
V3 = "/api/3.0/mlflow"
START_NS = 1_700_000_000_000_000_000


def memory(pid: int, field: str) -> int:
    """``VmRSS`` (now) or ``VmHWM`` (peak) of a process, in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"{field} not in /proc/{pid}/status")


def reset_peak(pid: int) -> None:
    # Writing 5 to clear_refs resets VmHWM to the current RSS (Linux >= 4.0).
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def big_trace(trace_hex: str) -> bytes:
    """One trace: a root and SPANS - 1 children, each with inputs, outputs and a type, as an
    instrumented app's exporter would send it in one request."""
    root_id = "f" * 16
    spans = [
        Span(
            trace_id=f"tr-{trace_hex}",
            span_id=root_id if i == 0 else f"{i:016x}",
            parent_id=None if i == 0 else root_id,
            name="agent" if i == 0 else f"step-{i}",
            start_time_ns=START_NS + i * 1000,
            end_time_ns=START_NS + SPANS * 1000 + (0 if i == 0 else -1),
            attributes={
                SpanAttributeKey.SPAN_TYPE: SpanType.AGENT if i == 0 else SpanType.TOOL,
                SpanAttributeKey.INPUTS: {"step": i, "query": "look something up"},
                SpanAttributeKey.OUTPUTS: {"result": f"found {i}"},
            },
        )
        for i in range(SPANS)
    ]
    return encode_request(spans)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    args = ["--backend-store-uri", f"sqlite:///{tmp_path / 'large.db'}"]
    with server_process(args, tmp_path) as running:
        yield running


def search(http: httpx.Client, experiment_id: str) -> list[dict[str, Any]]:
    location = {"type": "MLFLOW_EXPERIMENT", "mlflow_experiment": {"experiment_id": experiment_id}}
    found = http.post(
        f"{V3}/traces/search", json={"locations": [location], "filter": "trace.name = 'agent'"}
    )
    assert found.status_code == 200, found.text
    traces: list[dict[str, Any]] = found.json()["traces"]
    return traces


def read_pages(http: httpx.Client, trace_id: str) -> tuple[set[str], set[str | None], int]:
    """The span ids and parent ids of a trace, read PAGE spans at a time; and the page count."""
    seen: set[str] = set()
    parents: set[str | None] = set()
    token: str | None = None
    pages = 0
    while True:
        params: dict[str, str | int] = {"max_results": PAGE}
        if token:
            params["page_token"] = token
        page = http.get(f"{V3}/traces/{trace_id}/spans", params=params)
        assert page.status_code == 200, page.text
        payload = page.json()
        pages += 1
        for span in payload["spans"]:
            seen.add(span["span_id"])
            parents.add(span["parent_span_id"])
        token = payload.get("next_page_token")
        if not token:
            return seen, parents, pages


@pytest.mark.slow
def test_a_50000_span_trace_is_ingested_and_read_back_in_bounded_memory(
    server: ServerProcess,
) -> None:
    pid = server.process.pid
    trace_hex = os.urandom(16).hex()
    body = big_trace(trace_hex)

    with httpx.Client(base_url=server.url, timeout=300) as http:
        created = http.post("/api/2.0/mlflow/experiments/create", json={"name": "large"})
        headers = {
            "content-type": "application/x-protobuf",
            "x-mlflow-experiment-id": created.json()["experiment_id"],
        }
        # Warm up: the first request imports protobuf and the tracing modules.
        warm_up = encode_request(
            [Span(f"tr-{os.urandom(16).hex()}", "1" * 16, None, "warm-up", START_NS, START_NS)]
        )
        assert http.post("/v1/traces", content=warm_up, headers=headers).status_code == 200
        baseline = memory(pid, "VmRSS")
        reset_peak(pid)

        response = http.post("/v1/traces", content=body, headers=headers)
        assert response.status_code == 200, response.text
        ingest_peak = memory(pid, "VmHWM")

        (info,) = search(http, headers["x-mlflow-experiment-id"])
        assert (info["trace_id"], info["state"]) == (f"tr-{trace_hex}", "OK")
        seen, parents, pages = read_pages(http, info["trace_id"])
        read_peak = memory(pid, "VmHWM")
        # GetTrace streams the whole trace in OpenTelemetry's JSON, page by page.
        whole = http.get(f"{V3}/traces/get", params={"trace_id": info["trace_id"]})
        assert whole.status_code == 200, whole.text
        streamed = whole.json()["trace"]["spans"]
        stream_peak = memory(pid, "VmHWM")

    assert len(seen) == SPANS
    assert SPANS // PAGE <= pages <= SPANS // PAGE + 1  # a last, empty page is allowed
    assert len(parents) == 2  # None for the root, the root's id for every other span
    assert ingest_peak - baseline < MAX_GROWTH_BYTES, (baseline, ingest_peak)
    assert read_peak - baseline < MAX_GROWTH_BYTES, (baseline, read_peak)
    assert len(streamed) == SPANS
    assert {span["name"] for span in streamed[:2]} <= {"agent", "step-1"}
    last = next(span for span in streamed if span["name"] == f"step-{SPANS - 1}")
    values = {kv["key"]: kv["value"] for kv in last["attributes"]}
    assert values[SpanAttributeKey.INPUTS] == {
        "kvlist_value": {
            "values": [
                {"key": "step", "value": {"int_value": SPANS - 1}},
                {"key": "query", "value": {"string_value": "look something up"}},
            ]
        }
    }
    assert last["start_time_unix_nano"] == START_NS + (SPANS - 1) * 1000
    assert stream_peak - baseline < MAX_GROWTH_BYTES, (baseline, stream_peak)
