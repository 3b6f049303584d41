"""What a finished trace's info holds: MLflow's metadata, previews, the run it belongs to, and
what ``update_current_trace`` and trace tags add."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

import wayline
from wayline.entities.trace import Trace, TraceState
from wayline.errors import InvalidParameter, NotFound
from wayline.tracking.client import Client
from wayline.tracking.context import current_user

Finished = Callable[[str | None], Trace]


def test_the_info_carries_mlflow_metadata(finished: Finished) -> None:
    @wayline.trace
    def answer(question: str) -> str:
        return "forty-two"

    answer("meaning?")
    info = finished(wayline.get_last_active_trace_id()).info
    meta = info.trace_metadata
    assert meta["mlflow.trace_schema.version"] == "3"
    assert meta["mlflow.traceInputs"] == '{"question": "meaning?"}'
    assert meta["mlflow.traceOutputs"] == '"forty-two"'
    assert meta["mlflow.user"] == current_user()
    assert meta["mlflow.source.type"] == "LOCAL"
    assert meta["mlflow.source.name"]
    assert "mlflow.sourceRun" not in meta
    assert info.request_preview == '{"question": "meaning?"}'
    assert info.response_preview == '"forty-two"'
    assert info.experiment_id == "0"
    assert info.state is TraceState.OK
    assert info.tags["mlflow.traceName"] == "answer"
    assert info.execution_duration_ms is not None and info.execution_duration_ms >= 0


def test_long_values_are_cut_in_metadata_and_previews(finished: Finished) -> None:
    with wayline.start_span("big") as span:
        span.set_inputs({"text": "x" * 5000})
        span.set_outputs("é" * 3000)
    info = finished(span.trace_id).info
    assert len(info.trace_metadata["mlflow.traceInputs"]) == 250
    assert info.trace_metadata["mlflow.traceInputs"].endswith("...")
    assert info.request_preview is not None and len(info.request_preview) == 1000
    assert info.request_preview.startswith('{"text": "xxx') and info.request_preview.endswith("...")
    assert info.response_preview == '"' + "é" * 996 + "..."


def test_chat_payloads_preview_the_last_message(finished: Finished) -> None:
    with wayline.start_span("chat") as span:
        span.set_inputs(
            {
                "model": "gpt",
                "messages": [
                    {"role": "system", "content": "be brief"},
                    {"role": "user", "content": "What is 6 x 7?"},
                ],
            }
        )
        span.set_outputs(
            {
                "choices": [
                    {"message": {"role": "assistant", "content": [{"type": "text", "text": "42"}]}}
                ]
            }
        )
    info = finished(span.trace_id).info
    assert info.request_preview == "What is 6 x 7?"
    assert info.response_preview == "42"


def test_a_trace_inside_a_run_goes_to_its_experiment_and_links_to_it(finished: Finished) -> None:
    @wayline.trace
    def predict(x: int) -> int:
        return x + 1

    tracing_experiment = wayline.set_experiment("tracing").experiment_id
    other = wayline.create_experiment("elsewhere")
    with wayline.start_run(experiment_id=other) as run:
        predict(1)
    inside = finished(wayline.get_last_active_trace_id()).info
    assert inside.experiment_id == other
    assert inside.trace_metadata["mlflow.sourceRun"] == run.info.run_id
    assert inside.run_id == run.info.run_id

    predict(2)
    outside = finished(wayline.get_last_active_trace_id()).info
    assert outside.experiment_id == tracing_experiment
    assert "mlflow.sourceRun" not in outside.trace_metadata

    found = wayline.search_traces(run_id=run.info.run_id, return_type="list")
    assert [t.info.trace_id for t in found] == [inside.trace_id]


def test_an_explicit_experiment_wins(finished: Finished) -> None:
    exp = wayline.create_experiment("explicit")
    span = wayline.tracing.start_span_no_context("root", experiment_id=exp)
    span.end()
    assert finished(span.trace_id).info.experiment_id == exp


def test_update_current_trace(finished: Finished) -> None:
    @wayline.trace
    def handle(message: str) -> str:
        wayline.update_current_trace(
            tags={"channel": "web", "n": 3},
            metadata={"tenant": "acme"},
            client_request_id="req-1",
            session_id="sess-9",
            user="ana",
            request_preview="custom request",
        )
        wayline.update_current_trace(tags={"channel": "mobile"}, state="ERROR")
        return "ok"

    assert handle("hi") == "ok"
    info = finished(wayline.get_last_active_trace_id()).info
    assert info.tags["channel"] == "mobile" and info.tags["n"] == "3"
    assert info.trace_metadata["tenant"] == "acme"
    assert info.trace_metadata["mlflow.trace.session"] == "sess-9"
    assert info.trace_metadata["mlflow.trace.user"] == "ana"
    assert info.client_request_id == "req-1"
    assert info.request_preview == "custom request"
    assert info.response_preview == '"ok"'
    assert info.state is TraceState.ERROR  # overridden, though the root span is OK

    with wayline.start_span("s"):
        with pytest.raises(InvalidParameter, match="'OK' or 'ERROR'"):
            wayline.update_current_trace(state="IN_PROGRESS")
        with pytest.raises(InvalidParameter, match="must be a string"):
            wayline.update_current_trace(request_preview=3)  # type: ignore[arg-type]
        wayline.update_current_trace(session_id=["trip-2", "ep-2"])
    assert finished(wayline.get_last_active_trace_id()).info.trace_metadata[
        "mlflow.trace.session"
    ] == json.dumps(["trip-2", "ep-2"])


def test_update_current_trace_outside_a_trace_only_warns(caplog: pytest.LogCaptureFixture) -> None:
    wayline.update_current_trace(tags={"a": "b"})
    assert "No active trace found" in caplog.text


def test_trace_tags_on_live_and_finished_traces(finished: Finished, client: Client) -> None:
    with wayline.start_span("root") as span:
        trace_id = span.trace_id
        assert trace_id is not None and wayline.get_active_trace_id() == trace_id
        wayline.set_trace_tag(trace_id, "live", "yes")
        wayline.set_trace_tag(trace_id, "gone", "soon")
        wayline.delete_trace_tag(trace_id, "gone")
        with pytest.raises(NotFound):
            wayline.delete_trace_tag(trace_id, "never-set")
    assert wayline.get_active_trace_id() is None
    assert finished(trace_id).info.tags["live"] == "yes"
    assert "gone" not in finished(trace_id).info.tags

    wayline.set_trace_tag(trace_id, "later", 5)
    assert client.get_trace_info(trace_id).tags["later"] == "5"
    wayline.delete_trace_tag(trace_id, "later")
    assert "later" not in client.get_trace_info(trace_id).tags


def test_reading_a_trace_right_after_it_ends_waits_for_its_export(client: Client) -> None:
    @wayline.trace
    def quick() -> int:
        return 1

    quick()
    trace = wayline.get_trace(wayline.get_last_active_trace_id() or "")
    assert trace is not None and trace.spans[0].outputs == 1
    assert client.get_trace(trace.info.trace_id).info.trace_id == trace.info.trace_id


def test_size_metadata_describes_the_spans(finished: Callable[[str | None], Trace]) -> None:
    with wayline.start_span("root") as root:
        for i in range(4):
            with wayline.start_span(f"child-{i}") as child:
                child.set_outputs("x" * (100 * (i + 1)))
    info = finished(root.trace_id).info
    stats = json.loads(info.trace_metadata["mlflow.trace.sizeStats"])
    assert set(stats) == {"total_size_bytes", "num_spans", "max", "p25", "p50", "p75"}
    assert stats["num_spans"] == 5
    assert int(info.trace_metadata["mlflow.trace.sizeBytes"]) == stats["total_size_bytes"]
    assert stats["max"] > 400 and stats["p25"] <= stats["p50"] <= stats["p75"] <= stats["max"]
    assert stats["total_size_bytes"] > 5 * stats["p25"]
