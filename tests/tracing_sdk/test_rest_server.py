"""The SDK against a live ``wayline server``: traces travel through the REST store (spans as OTLP
to ``/v1/traces``, the info by StartTraceV3) and read back over HTTP."""

from __future__ import annotations

import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

import wayline
from servers import live_server
from wayline.entities import AssessmentSource, AssessmentSourceType, Feedback
from wayline.entities.trace import SpanStatusCode, TraceState
from wayline.server import ServerSettings, create_app
from wayline.tracking.client import Client

from ._support import ScriptRunner, by_name


@pytest.fixture(scope="module")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder: Path = tmp_path_factory.mktemp("sdk-rest")
    settings = ServerSettings(
        backend_store_uri=f"sqlite:///{folder / 'server.db'}",
        default_artifact_root=str(folder / "artifacts"),
    )
    with live_server(create_app(settings)) as url:
        yield url


@pytest.fixture
def remote(server_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Client]:
    """The fluent API pointed at the live server, with an experiment of this test's own."""
    monkeypatch.setenv("WAYLINE_HTTP_REQUEST_MAX_RETRIES", "0")
    wayline.set_tracking_uri(server_url)
    wayline.set_experiment(f"sdk-{uuid.uuid4().hex[:8]}")
    yield Client(server_url)
    wayline.flush_trace_async_logging()


@wayline.trace(span_type="AGENT")
def agent(question: str) -> str:
    wayline.update_current_trace(tags={"team": "search"}, metadata={"tenant": "acme"})
    with wayline.start_span("retrieve", span_type="RETRIEVER") as span:
        span.set_inputs({"query": question})
        span.set_outputs(["doc-1"])
    return llm(question)


@wayline.trace(span_type="LLM")
def llm(prompt: str) -> str:
    span = wayline.get_current_active_span()
    assert span is not None
    span.set_attributes(
        {
            "mlflow.chat.tokenUsage": {"input_tokens": 12, "output_tokens": 3, "total_tokens": 15},
            "mlflow.llm.model": "gpt-4o",
        }
    )
    return "42"


@wayline.trace
def fails() -> None:
    raise ValueError("remote boom")


def test_a_trace_round_trips_through_the_server(remote: Client) -> None:
    assert agent("meaning?") == "42"
    trace_id = wayline.get_last_active_trace_id()
    trace = wayline.get_trace(trace_id or "", flush=True)
    assert trace is not None
    spans = by_name(trace)
    assert set(spans) == {"agent", "retrieve", "llm"}
    assert spans["agent"].parent_id is None and spans["agent"].span_type == "AGENT"
    assert spans["retrieve"].parent_id == spans["agent"].span_id
    assert spans["llm"].parent_id == spans["agent"].span_id
    assert spans["retrieve"].inputs == {"query": "meaning?"}
    assert spans["retrieve"].outputs == ["doc-1"]
    assert spans["llm"].attributes["mlflow.llm.model"] == "gpt-4o"
    info = trace.info
    assert info.state is TraceState.OK
    assert info.tags["mlflow.traceName"] == "agent" and info.tags["team"] == "search"
    assert info.trace_metadata["tenant"] == "acme"
    assert info.trace_metadata["mlflow.trace_schema.version"] == "3"
    assert info.token_usage == {"input_tokens": 12, "output_tokens": 3, "total_tokens": 15}
    assert info.request_preview == '{"question": "meaning?"}'
    assert info.response_preview == '"42"'


def test_errors_search_tags_and_runs_over_http(remote: Client) -> None:
    with pytest.raises(ValueError):
        fails()
    error_id = wayline.get_last_active_trace_id() or ""
    with wayline.start_run() as run:
        agent("in a run")
    run_trace_id = wayline.get_last_active_trace_id() or ""

    error = wayline.get_trace(error_id, flush=True)
    assert error is not None and error.info.state is TraceState.ERROR
    [span] = error.spans
    assert span.status_code is SpanStatusCode.ERROR
    assert span.events[0].attributes["exception.message"] == "remote boom"

    df = wayline.search_traces()
    assert set(df["trace_id"]) == {error_id, run_trace_id}
    errors = wayline.search_traces(filter_string="trace.status = 'ERROR'", return_type="list")
    assert [t.info.trace_id for t in errors] == [error_id]
    in_run = wayline.search_traces(run_id=run.info.run_id, return_type="list")
    assert [t.info.trace_id for t in in_run] == [run_trace_id]

    wayline.set_trace_tag(error_id, "triaged", "yes")
    assert remote.get_trace_info(error_id).tags["triaged"] == "yes"
    wayline.delete_trace_tag(error_id, "triaged")
    assert "triaged" not in remote.get_trace_info(error_id).tags


def test_assessments_over_http(remote: Client) -> None:
    agent("judge me")
    trace_id = wayline.get_last_active_trace_id() or ""
    judged = wayline.log_feedback(
        trace_id=trace_id,
        name="relevance",
        value=0.5,
        source=AssessmentSource(AssessmentSourceType.LLM_JUDGE, "gpt-4o"),
        rationale="partial",
    )
    assert judged.assessment_id is not None
    expected = wayline.log_expectation(trace_id=trace_id, name="answer", value={"n": 42})
    assert expected.assessment_id is not None
    assert wayline.update_assessment(trace_id, judged.assessment_id, Feedback(0.6)).value == 0.6
    corrected = wayline.override_feedback(
        trace_id=trace_id, assessment_id=judged.assessment_id, value=1.0
    )
    assert corrected.overrides == judged.assessment_id
    assert not wayline.get_assessment(trace_id, judged.assessment_id).valid
    wayline.delete_assessment(trace_id, expected.assessment_id)
    trace = wayline.get_trace(trace_id)
    assert trace is not None
    assert sorted((a.name, a.valid) for a in trace.info.assessments) == [
        ("relevance", False),
        ("relevance", True),
    ]


@pytest.mark.slow
def test_an_opentelemetry_collector_gets_the_spans_instead(
    server_url: str, run_traced: ScriptRunner, tmp_path: Path
) -> None:
    # The Wayline server's /v1/traces stands in for any OTLP collector.
    server = Client(server_url)
    script = """
        import wayline

        wayline.set_tracking_uri("sqlite:///{db}")

        @wayline.trace(span_type="AGENT")
        def agent(question):
            return tool(question)

        @wayline.trace(span_type="TOOL")
        def tool(query):
            return query.upper()

        agent("{question}")
        """
    for dual in (False, True):
        experiment_id = server.create_experiment(f"collector-{uuid.uuid4().hex[:8]}")
        db = tmp_path / f"local-{dual}.db"
        run_traced(
            textwrap.dedent(script).format(db=db, question=f"dual={dual}"),
            env={
                "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": f"{server_url}/v1/traces",
                "OTEL_EXPORTER_OTLP_TRACES_HEADERS": f"x-mlflow-experiment-id={experiment_id}",
                "WAYLINE_TRACE_ENABLE_OTLP_DUAL_EXPORT": str(dual).lower(),
            },
        )
        [trace] = server.search_traces([experiment_id])
        spans = by_name(trace)
        assert spans["tool"].parent_id == spans["agent"].span_id
        assert spans["agent"].inputs == {"question": f"dual={dual}"}
        assert spans["tool"].outputs == f"DUAL={dual}".upper()
        assert spans["tool"].span_type == "TOOL"
        local = Client(f"sqlite:///{db}").search_traces(["0"])
        assert len(local) == (1 if dual else 0)
