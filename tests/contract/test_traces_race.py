"""``start_trace`` and ``log_spans`` of the same trace at the same time, on every backend.

MLflow's client exports asynchronously: the info (StartTraceV3) and the spans reach the server
together, in either order or interleaved. Whichever writer commits first, nothing either of
them wrote may be lost: the client's explicit values win over those derived from spans, and
the spans fill what the client left empty.
"""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from wayline.entities.trace import Span, TraceInfo, TraceState
from wayline.store.backend import Store

from ._trace_support import T0_MS, make_info, make_span, new_trace_id, traces

TRACES = 40
WORKERS = 8
BARRIER_TIMEOUT_S = 60
USAGE = {"input_tokens": 3, "output_tokens": 4, "total_tokens": 7}


def _spans(trace_id: str) -> list[Span]:
    return [
        make_span(
            trace_id,
            1,
            name="root-span",
            duration_ms=40,
            mlflow__spanInputs={"question": "cats?"},
            mlflow__spanOutputs="meow",
        ),
        make_span(trace_id, 2, 1, start_ms=5, attributes={"mlflow.chat.tokenUsage": USAGE}),
    ]


def _client_info(trace_id: str, experiment_id: str, index: int) -> TraceInfo:
    """Even traces: a complete info. Odd ones: an unfinished info without previews."""
    info = make_info(
        trace_id,
        experiment_id,
        request_time_ms=T0_MS + 7,
        duration_ms=99,
        client_request_id=f"req-{index}",
        tags={"client.tag": str(index)},
        metadata={"client.meta": str(index)},
    )
    if index % 2 == 0:
        return info
    return dataclasses.replace(
        info,
        state=TraceState.IN_PROGRESS,
        execution_duration_ms=None,
        request_preview=None,
        response_preview=None,
    )


def _run_pairs(calls: list[tuple[Callable[[], object], Callable[[], object]]]) -> None:
    """Both calls of each pair released together (one barrier per pair), pairs overlapping."""

    def together(barrier: threading.Barrier, call: Callable[[], object]) -> None:
        barrier.wait(BARRIER_TIMEOUT_S)
        call()

    with ThreadPoolExecutor(WORKERS) as pool:
        futures = []
        for index, (first, second) in enumerate(calls):
            barrier = threading.Barrier(2)
            # Alternate which call is submitted first, so both orders get their chance.
            pair = (first, second) if index % 2 == 0 else (second, first)
            futures += [pool.submit(together, barrier, call) for call in pair]
        for future in futures:
            future.result()


def test_start_trace_and_log_spans_racing_lose_nothing(store: Store) -> None:
    ts = traces(store)
    experiment_id = store.create_experiment(f"race-{new_trace_id()[3:13]}")
    location = store.get_experiment(experiment_id).artifact_location
    ids = [new_trace_id() for _ in range(TRACES)]
    infos = [_client_info(trace_id, experiment_id, i) for i, trace_id in enumerate(ids)]

    def start(info: TraceInfo) -> Callable[[], object]:
        return lambda: ts.start_trace(info)

    def log(trace_id: str) -> Callable[[], object]:
        return lambda: ts.log_spans(experiment_id, _spans(trace_id))

    _run_pairs([(start(info), log(info.trace_id)) for info in infos])

    stored = {info.trace_id: info for info in ts.batch_get_trace_infos(ids)}
    assert sorted(stored) == sorted(ids)
    lost = []
    for index, trace_id in enumerate(ids):
        info = stored[trace_id]
        complete = index % 2 == 0
        want = {
            "client_request_id": f"req-{index}",
            "state": TraceState.OK,
            # A complete client info wins; an unfinished one leaves the root span's values.
            "request_time_ms": T0_MS + 7 if complete else T0_MS,
            "execution_duration_ms": 99 if complete else 40,
            "request_preview": '{"x": 3}' if complete else '{"question": "cats?"}',
            "response_preview": "6" if complete else '"meow"',
            "tags": {
                "mlflow.traceName": "outer",  # the client's name, not the root span's
                "client.tag": str(index),
                "mlflow.artifactLocation": f"{location}/traces/{trace_id}/artifacts",
                "mlflow.trace.spansLocation": "TRACKING_STORE",
            },
            "client.meta": str(index),
            "mlflow.trace.infoFinalized": "true",
            "mlflow.traceInputs": '{"question": "cats?"}',
            "token_usage": USAGE,
            "spans": ["root-span", "span-2"],
        }
        have = {
            "client_request_id": info.client_request_id,
            "state": info.state,
            "request_time_ms": info.request_time_ms,
            "execution_duration_ms": info.execution_duration_ms,
            "request_preview": info.request_preview,
            "response_preview": info.response_preview,
            "tags": info.tags,
            "client.meta": info.trace_metadata.get("client.meta"),
            "mlflow.trace.infoFinalized": info.trace_metadata.get("mlflow.trace.infoFinalized"),
            "mlflow.traceInputs": info.trace_metadata.get("mlflow.traceInputs"),
            "token_usage": json.loads(info.trace_metadata.get("mlflow.trace.tokenUsage", "null")),
            "spans": [span.name for span in ts.iter_spans(trace_id)],
        }
        if have != want:
            lost.append((index, {k: (have[k], want[k]) for k in want if have[k] != want[k]}))
    assert not lost, f"{len(lost)} of {TRACES} traces lost values (have, want): {lost[:3]}"
