"""The REST store's traces against a live Wayline server: a trace of several OTLP batches written
and read back page by page, exactly."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from servers import live_server
from wayline.entities.assessment import Assessment, AssessmentSource, Expectation
from wayline.entities.trace import Span, SpanEvent, SpanStatusCode, TraceState
from wayline.server import ServerSettings, create_app
from wayline.store.rest import RestSettings, RestStore
from wayline.store.rest.traces import SPANS_PER_REQUEST
from wayline.store.traces import AssessmentUpdate


@pytest.fixture(scope="module")
def rest(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RestStore]:
    folder: Path = tmp_path_factory.mktemp("rest-traces")
    settings = ServerSettings(backend_store_uri=f"sqlite:///{folder / 'server.db'}")
    with live_server(create_app(settings)) as url:
        store = RestStore(url, RestSettings(max_retries=0))
        yield store
        store.close()


def _trace(trace_id: str, count: int) -> list[Span]:
    root_id = "f" * 16
    root = Span(trace_id, root_id, None, "agent", 1_000, 9_000_000, SpanStatusCode.ERROR, "boom")
    # As MLflow's SDK writes them; the server sets mlflow.traceRequestId on spans without it.
    request_id = {"mlflow.traceRequestId": trace_id}
    root.attributes = {**request_id, "mlflow.spanType": "AGENT", "mlflow.spanInputs": {"q": "?"}}
    root.events = [SpanEvent("exception", 8_000_000, {"exception.type": "ValueError"})]
    spans = [root]
    for index in range(1, count):
        span = Span(trace_id, f"{index:016x}", root_id, f"tool-{index}", 1_000 + index, 2_000_000)
        span.attributes = {**request_id, "mlflow.spanType": "TOOL", "i": index, "ratio": 0.5}
        spans.append(span)
    return spans


@pytest.mark.slow
def test_a_trace_of_several_batches_reads_back_exactly(rest: RestStore) -> None:
    experiment_id = rest.create_experiment(f"traces-{uuid.uuid4().hex[:8]}")
    trace_id = "tr-" + uuid.uuid4().hex
    spans = _trace(trace_id, 2 * SPANS_PER_REQUEST + 500)

    [info] = rest.log_spans(experiment_id, spans)

    assert (info.trace_id, info.experiment_id, info.state) == (
        trace_id,
        experiment_id,
        TraceState.ERROR,
    )
    assert info.tags["mlflow.traceName"] == "agent"
    read = list(rest.iter_spans(trace_id, page_size=700))
    assert sorted(read, key=lambda s: s.span_id) == sorted(spans, key=lambda s: s.span_id)
    assert [s.name for s in read[:2]] == ["agent", "tool-1"]  # start-time order


def test_assessment_updates_keep_the_kind_of_their_value(rest: RestStore) -> None:
    experiment_id = rest.create_experiment(f"traces-{uuid.uuid4().hex[:8]}")
    trace_id = "tr-" + uuid.uuid4().hex
    rest.log_spans(experiment_id, _trace(trace_id, 1))
    created = rest.create_assessment(
        Assessment(
            name="answer",
            trace_id=trace_id,
            source=AssessmentSource(),
            expectation=Expectation({"a": 1}),
        )
    )
    assert created.assessment_id

    update = AssessmentUpdate(value=["x", 2], has_value=True)
    updated = rest.update_assessment(trace_id, created.assessment_id, update)

    assert updated.expectation == Expectation(["x", 2])
    assert rest.get_trace_info(trace_id).assessments == [updated]
