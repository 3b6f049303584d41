"""What the REST store's trace methods put on the wire (against a scripted server): the URLs and
bodies MLflow's 3.18 client sends, OTLP span batches of bounded size, and the fallbacks for a
server without Wayline's spans endpoint."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from wayline.entities.assessment import Assessment, AssessmentSource, Expectation, Feedback
from wayline.entities.trace import Span, Trace, TraceInfo, TraceState
from wayline.errors import InvalidParameter, NotFound
from wayline.protocol.assessments import encode_assessment
from wayline.protocol.traces import encode_span_dict, encode_trace, encode_trace_info
from wayline.store.rest.traces import (
    EXPERIMENT_ID_HEADER,
    MAX_SPANS_REQUEST_BYTES,
    SPANS_PER_REQUEST,
)
from wayline.store.traces import AssessmentUpdate

from ._support import ScriptedFactory

TRACE_ID = "tr-987460f98db9f718b8902e014e48eceb"
INFO = TraceInfo(TRACE_ID, "4", 1795756002512, TraceState.OK, 28, tags={"mlflow.traceName": "x"})
FEEDBACK = Assessment(
    name="quality",
    trace_id=TRACE_ID,
    source=AssessmentSource(),
    feedback=Feedback(0.9),
    assessment_id="a-1",
    create_time_ms=1,
    last_update_time_ms=1,
)


def _body(request: httpx.Request) -> Any:
    return json.loads(request.content)


def _spans(count: int, payload: str = "") -> list[Span]:
    return [
        Span(TRACE_ID, f"{i + 1:016x}", None if i == 0 else "0" * 15 + "1", f"s{i}", i, i + 1)
        if not payload
        else Span(TRACE_ID, f"{i + 1:016x}", None, "big", i, i + 1, attributes={"p": payload})
        for i in range(count)
    ]


def test_start_trace_is_the_spec_exchange(scripted: ScriptedFactory) -> None:
    answer = {"trace": {"trace_info": encode_trace_info(INFO)}}
    s = scripted(httpx.Response(200, json=answer))

    assert s.store.start_trace(INFO) == INFO

    (request,) = s.requests
    assert (request.method, request.url.path) == ("POST", "/api/3.0/mlflow/traces")
    assert _body(request) == {"trace": {"trace_info": encode_trace_info(INFO)}}


def test_reads_use_the_v3_paths(scripted: ScriptedFactory) -> None:
    answer = {"trace": {"trace_info": encode_trace_info(INFO)}}
    page = {"traces": [encode_trace_info(INFO)], "next_page_token": "t2"}
    s = scripted(httpx.Response(200, json=answer), httpx.Response(200, json=page))

    assert s.store.get_trace_info(TRACE_ID) == INFO
    found = s.store.search_traces(["4"], "trace.status = 'OK'", 5, ["timestamp_ms DESC"], "t1")
    assert found == [INFO] and found.token == "t2"

    get, search = s.requests
    assert (get.method, get.url.path) == ("GET", f"/api/3.0/mlflow/traces/{TRACE_ID}")
    assert search.url.path == "/api/3.0/mlflow/traces/search"
    assert _body(search) == {
        "locations": [{"type": "MLFLOW_EXPERIMENT", "mlflow_experiment": {"experiment_id": "4"}}],
        "filter": "trace.status = 'OK'",
        "max_results": 5,
        "order_by": ["timestamp_ms DESC"],
        "page_token": "t1",
    }


def test_batch_get_trace_infos_answers_in_the_order_asked(scripted: ScriptedFactory) -> None:
    other = TraceInfo("tr-" + "1" * 32, "4", 5)
    answer = {"trace_infos": [encode_trace_info(INFO), encode_trace_info(other)]}
    s = scripted(httpx.Response(200, json=answer))

    asked = [other.trace_id, "tr-" + "2" * 32, TRACE_ID, other.trace_id]
    assert s.store.batch_get_trace_infos(asked) == [other, INFO]
    assert _body(s.requests[0]) == {"trace_ids": asked[:3]}


def test_tags_deletes_and_links_use_the_v2_rpcs_as_mlflows_client(
    scripted: ScriptedFactory,
) -> None:
    s = scripted(
        *[httpx.Response(200, json={})] * 3, httpx.Response(200, json={"traces_deleted": 2})
    )

    s.store.set_trace_tag(TRACE_ID, "k", "v")
    s.store.delete_trace_tag(TRACE_ID, "k")
    s.store.link_traces_to_run([TRACE_ID], "run1")
    assert s.store.delete_traces("4", trace_ids=[TRACE_ID, "tr-x"]) == 2
    s.store.link_prompts_to_trace(TRACE_ID, [("qa", "2")])

    seen = [(r.method, r.url.path, _body(r)) for r in s.requests]
    base = "/api/2.0/mlflow/traces"
    assert seen == [
        ("PATCH", f"{base}/{TRACE_ID}/tags", {"request_id": TRACE_ID, "key": "k", "value": "v"}),
        ("DELETE", f"{base}/{TRACE_ID}/tags", {"request_id": TRACE_ID, "key": "k"}),
        ("POST", f"{base}/link-to-run", {"trace_ids": [TRACE_ID], "run_id": "run1"}),
        (
            "POST",
            f"{base}/delete-traces",
            {"experiment_id": "4", "request_ids": [TRACE_ID, "tr-x"]},
        ),
        (
            "POST",
            f"{base}/link-prompts",
            {"trace_id": TRACE_ID, "prompt_versions": [{"name": "qa", "version": "2"}]},
        ),
    ]


def test_spans_go_by_otlp_in_bounded_batches(scripted: ScriptedFactory) -> None:
    count = 2 * SPANS_PER_REQUEST + 1
    infos = {"trace_infos": [encode_trace_info(INFO)]}
    s = scripted(*[httpx.Response(200)] * 3, httpx.Response(200, json=infos))

    assert s.store.log_spans("4", _spans(count)) == [INFO]

    *posts, read_back = s.requests
    assert [r.url.path for r in posts] == ["/v1/traces"] * 3
    for request in posts:
        assert request.headers["content-type"] == "application/x-protobuf"
        assert request.headers[EXPERIMENT_ID_HEADER] == "4"
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    sizes = []
    for request in posts:
        message = ExportTraceServiceRequest()
        message.ParseFromString(request.content)
        sizes.append(len(message.resource_spans[0].scope_spans[0].spans))
    assert sizes == [SPANS_PER_REQUEST, SPANS_PER_REQUEST, 1]
    assert read_back.url.path == "/api/3.0/mlflow/traces/batchGetInfos"
    assert s.store.log_spans("4", []) == []
    assert len(s.requests) == 4  # nothing sent for no spans


def test_big_spans_split_a_batch_until_requests_are_bounded(scripted: ScriptedFactory) -> None:
    s = scripted(*[httpx.Response(200)] * 8, httpx.Response(200, json={"trace_infos": []}))

    s.store.log_spans("4", _spans(8, payload="x" * (MAX_SPANS_REQUEST_BYTES * 3 // 8)))

    posts = [r for r in s.requests if r.url.path == "/v1/traces"]
    assert len(posts) == 4  # 8 spans of 3/8 of the limit: halved twice, two spans a request
    assert all(len(r.content) <= MAX_SPANS_REQUEST_BYTES for r in posts)


def test_span_upload_errors_come_back_as_wayline_errors(scripted: ScriptedFactory) -> None:
    refusal = {"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "No experiment 4"}
    s = scripted(httpx.Response(404, json=refusal))
    with pytest.raises(NotFound, match="No experiment 4"):
        s.store.log_spans("4", _spans(1))


def test_spans_are_read_page_by_page(scripted: ScriptedFactory) -> None:
    spans = _spans(3)
    pages = [
        {
            "spans": [encode_span_dict(spans[0]), encode_span_dict(spans[1])],
            "next_page_token": "p2",
        },
        {"spans": [encode_span_dict(spans[2])]},
    ]
    info = {"trace": {"trace_info": encode_trace_info(INFO)}}
    s = scripted(httpx.Response(200, json=info), *[httpx.Response(200, json=p) for p in pages])

    assert s.store.get_trace(TRACE_ID) == Trace(INFO, spans)

    _, first, second = s.requests
    assert first.url.path == f"/api/3.0/mlflow/traces/{TRACE_ID}/spans"
    assert second.url.params["page_token"] == "p2"


def test_without_the_spans_endpoint_spans_come_from_get_trace(scripted: ScriptedFactory) -> None:
    spans = _spans(2)
    whole = {"trace": encode_trace(Trace(INFO, spans))}
    s = scripted(httpx.Response(404, text="Not Found"), httpx.Response(200, json=whole))

    page = s.store.get_spans(TRACE_ID)

    assert page == spans and page.token is None
    assert s.requests[1].url.path == "/api/3.0/mlflow/traces/get"
    assert s.requests[1].url.params["trace_id"] == TRACE_ID


def test_assessments_use_the_v3_paths(scripted: ScriptedFactory) -> None:
    created = {"assessment": encode_assessment(FEEDBACK)}
    s = scripted(*[httpx.Response(200, json=created)] * 2, httpx.Response(200, json={}))

    assert s.store.create_assessment(FEEDBACK) == FEEDBACK
    assert s.store.get_assessment(TRACE_ID, "a-1") == FEEDBACK
    s.store.delete_assessment(TRACE_ID, "a-1")

    create, get, delete = s.requests
    base = f"/api/3.0/mlflow/traces/{TRACE_ID}/assessments"
    assert (create.method, create.url.path) == ("POST", base)
    assert _body(create) == {"trace_id": TRACE_ID, "assessment": encode_assessment(FEEDBACK)}
    assert (get.method, get.url.path) == ("GET", f"{base}/a-1")
    assert (delete.method, delete.url.path) == ("DELETE", f"{base}/a-1")
    assert _body(delete) == {"trace_id": TRACE_ID, "assessment_id": "a-1"}


def test_a_new_value_is_sent_as_the_kind_the_assessment_holds(scripted: ScriptedFactory) -> None:
    expectation = Assessment(
        name="answer",
        trace_id=TRACE_ID,
        source=AssessmentSource(),
        expectation=Expectation({"a": 1}),
        assessment_id="a-2",
    )
    answer = {"assessment": encode_assessment(expectation)}
    s = scripted(httpx.Response(200, json=answer), httpx.Response(200, json=answer))

    update = AssessmentUpdate(value={"a": 2}, has_value=True, rationale="fixed")
    assert s.store.update_assessment(TRACE_ID, "a-2", update) == expectation

    get, patch = s.requests
    assert get.method == "GET"
    assert (patch.method, _body(patch)["update_mask"]) == ("PATCH", "expectation,rationale")
    assert _body(patch)["assessment"]["expectation"] == {
        "serialized_value": {"serialization_format": "JSON_FORMAT", "value": '{"a": 2}'}
    }


def test_requests_that_cannot_name_their_path_are_refused_before_sending(
    scripted: ScriptedFactory,
) -> None:
    s = scripted()
    with pytest.raises(InvalidParameter, match="trace_id"):
        s.store.get_trace_info("")
    assert s.requests == []
