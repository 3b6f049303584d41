"""``POST /v1/traces`` on a live uvicorn server, fed by the real OpenTelemetry SDK exporter.

Spans are read back through a second ``SqlStore`` on the server's database and through the REST
API, as a client would.
"""

from __future__ import annotations

import gzip
import json
import uuid
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
from opentelemetry.trace import Tracer

from servers import live_server
from tracing_otlp._support import protobuf_body, record, small_tree
from wayline.entities.trace import (
    SPANS_LOCATION_TRACKING_STORE,
    Span,
    SpanAttributeKey,
    SpanStatusCode,
    SpanType,
    TraceState,
    TraceTagKey,
)
from wayline.server import ServerSettings, create_app
from wayline.store.sql.store import SqlStore
from wayline.tracing.otlp import NO_SPANS

from ._support import sqlite_settings, unique

V3 = "/api/3.0/mlflow"
K = SpanAttributeKey


@dataclass
class Served:
    url: str
    store: SqlStore

    def experiment(self) -> str:
        return self.store.create_experiment(unique("otlp"))

    def post(self, body: bytes, headers: dict[str, str]) -> httpx.Response:
        return httpx.post(f"{self.url}/v1/traces", content=body, headers=headers, timeout=60)

    def send(
        self,
        experiment_id: str,
        scenario: Callable[[Tracer], None],
        *,
        batch: bool = False,
        compression: Compression | None = None,
        run_id: str | None = None,
    ) -> None:
        """Record ``scenario`` with a provider exporting here, as an instrumented app would."""
        headers = {"x-mlflow-experiment-id": experiment_id}
        if run_id:
            headers["x-mlflow-run-id"] = run_id
        exporter = OTLPSpanExporter(
            endpoint=f"{self.url}/v1/traces", headers=headers, compression=compression
        )
        provider = TracerProvider()
        processor = BatchSpanProcessor(exporter) if batch else SimpleSpanProcessor(exporter)
        provider.add_span_processor(processor)
        try:
            scenario(provider.get_tracer("otlp-tests"))
        finally:
            provider.shutdown()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    settings = sqlite_settings(tmp_path_factory.mktemp("otlp"))
    with live_server(create_app(settings)) as url:
        store = SqlStore(settings.backend_store_uri, settings.default_artifact_root)
        try:
            yield Served(url, store)
        finally:
            store.close()


def only_trace_id(served: Served, experiment_id: str) -> str:
    (info,) = served.store.search_traces([experiment_id])
    return info.trace_id


def by_name(spans: list[Span]) -> dict[str, Span]:
    return {span.name: span for span in spans}


# ---------------------------------------------------------------- the OpenTelemetry SDK exporter
def test_sdk_spans_come_back_through_the_store(served: Served) -> None:
    experiment_id = served.experiment()

    served.send(experiment_id, small_tree)

    trace = served.store.get_trace(only_trace_id(served, experiment_id))
    spans = by_name(trace.spans)
    assert sorted(spans) == ["child", "leaf", "root"]
    root, child, leaf = spans["root"], spans["child"], spans["leaf"]
    assert (root.parent_id, child.parent_id, leaf.parent_id) == (None, root.span_id, child.span_id)
    assert root.kind == "SPAN_KIND_SERVER"
    assert (child.status_code, child.status_message) == (SpanStatusCode.ERROR, "boom")
    assert [(e.name, e.attributes) for e in child.events] == [
        ("retry", {"attempt": 2, "reason": "timeout"})
    ]
    assert root.attributes["int"] == 3
    assert root.attributes["ints"] == [1, 2]
    assert leaf.attributes["strs"] == ["a", "b"]
    assert all(span.attributes[K.REQUEST_ID] == trace.info.trace_id for span in trace.spans)
    info = trace.info
    assert info.experiment_id == experiment_id
    assert info.name == "root"
    assert info.state == TraceState.OK
    assert info.tags[TraceTagKey.SPANS_LOCATION] == SPANS_LOCATION_TRACKING_STORE
    assert info.request_time_ms == root.start_time_ns // 1_000_000


def test_sdk_spans_come_back_through_the_rest_api(served: Served) -> None:
    experiment_id = served.experiment()
    served.send(experiment_id, small_tree)
    trace_id = only_trace_id(served, experiment_id)

    response = httpx.get(f"{served.url}{V3}/traces/get", params={"trace_id": trace_id})

    assert response.status_code == 200, response.text
    trace = response.json()["trace"]
    assert trace["trace_info"]["trace_id"] == trace_id
    assert trace["trace_info"]["tags"][TraceTagKey.TRACE_NAME] == "root"
    spans = {span["name"]: span for span in trace["spans"]}
    assert spans["child"]["parent_span_id"] == spans["root"]["span_id"]
    assert spans["child"]["status"] == {"code": "STATUS_CODE_ERROR", "message": "boom"}
    assert spans["child"]["events"][0]["name"] == "retry"
    attributes = {a["key"]: a["value"] for a in spans["root"]["attributes"]}
    assert attributes["str"] == {"string_value": "x"}
    assert attributes["bool"] == {"bool_value": True}


def test_batch_processor_with_gzip(served: Served) -> None:
    experiment_id = served.experiment()

    served.send(experiment_id, small_tree, batch=True, compression=Compression.Gzip)

    trace = served.store.get_trace(only_trace_id(served, experiment_id))
    assert sorted(span.name for span in trace.spans) == ["child", "leaf", "root"]


def test_traces_sent_in_several_requests_are_merged(served: Served) -> None:
    # The SimpleSpanProcessor sends each span as it ends: children before their root.
    experiment_id = served.experiment()

    def two_traces(tracer: Tracer) -> None:
        small_tree(tracer)
        small_tree(tracer)

    served.send(experiment_id, two_traces)

    infos = served.store.search_traces([experiment_id])
    assert len(infos) == 2
    for info in infos:
        assert info.name == "root"
        assert len(served.store.get_trace(info.trace_id).spans) == 3


def test_resending_a_request_replaces_its_spans(served: Served) -> None:
    experiment_id = served.experiment()
    body = protobuf_body(record(small_tree))
    headers = {"content-type": "application/x-protobuf", "x-mlflow-experiment-id": experiment_id}

    for _ in range(2):
        assert served.post(body, headers).status_code == 200

    assert len(served.store.get_trace(only_trace_id(served, experiment_id)).spans) == 3


def test_run_header_links_the_traces_to_the_run(served: Served) -> None:
    experiment_id = served.experiment()
    run = served.store.create_run(experiment_id)

    served.send(experiment_id, small_tree, run_id=run.info.run_id)

    linked = served.store.search_traces(
        [experiment_id], filter_string=f"trace.run_id = '{run.info.run_id}'"
    )
    assert [info.name for info in linked] == ["root"]


def test_an_unknown_run_does_not_fail_the_request(served: Served) -> None:
    experiment_id = served.experiment()
    headers = {
        "content-type": "application/x-protobuf",
        "x-mlflow-experiment-id": experiment_id,
        "x-mlflow-run-id": "no-such-run",
    }

    response = served.post(protobuf_body(record(small_tree)), headers)

    assert response.status_code == 200, response.text


# ---------------------------------------------------------------- encodings and responses
def test_protobuf_answer_is_an_empty_protobuf_body(served: Served) -> None:
    headers = {
        "content-type": "application/x-protobuf",
        "x-mlflow-experiment-id": served.experiment(),
    }

    response = served.post(protobuf_body(record(small_tree)), headers)

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/x-protobuf"
    assert response.content == b""


def hand_written_request(trace_hex: str) -> dict[str, Any]:
    """OTLP/JSON as the specification's example spells it: hex ids, camelCase, numbers."""
    return {
        "resourceSpans": [
            {
                "resource": {
                    "attributes": [{"key": "service.name", "value": {"stringValue": "svc"}}]
                },
                "scopeSpans": [
                    {
                        "scope": {"name": "manual", "version": "1.0.0"},
                        "spans": [
                            {
                                "traceId": trace_hex,
                                "spanId": "eee19b7ec3c1b174",
                                "name": "GET /items",
                                "kind": 2,
                                "startTimeUnixNano": "1544712660000000000",
                                "endTimeUnixNano": "1544712661000000000",
                                "attributes": [
                                    {"key": "http.status", "value": {"intValue": "200"}},
                                    {"key": "ok", "value": {"boolValue": True}},
                                ],
                                "status": {"code": 1},
                            },
                            {
                                "traceId": trace_hex,
                                "spanId": "eee19b7ec3c1b175",
                                "parentSpanId": "eee19b7ec3c1b174",
                                "name": "db",
                                "kind": 3,
                                "startTimeUnixNano": "1544712660100000000",
                                "endTimeUnixNano": "1544712660900000000",
                                "events": [
                                    {
                                        "timeUnixNano": "1544712660200000000",
                                        "name": "query",
                                        "attributes": [{"key": "rows", "value": {"intValue": "3"}}],
                                    }
                                ],
                                "status": {"code": 2, "message": "slow"},
                            },
                        ],
                    }
                ],
            }
        ]
    }


@pytest.mark.parametrize("encoding", [None, "gzip", "deflate"])
def test_otlp_json_with_hex_ids(served: Served, encoding: str | None) -> None:
    experiment_id = served.experiment()
    trace_hex = uuid.uuid4().hex
    body = json.dumps(hand_written_request(trace_hex)).encode()
    headers = {"content-type": "application/json", "x-mlflow-experiment-id": experiment_id}
    if encoding:
        headers["content-encoding"] = encoding
        body = gzip.compress(body) if encoding == "gzip" else zlib.compress(body)

    response = served.post(body, headers)

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {}
    trace = served.store.get_trace(f"tr-{trace_hex}")
    spans = by_name(trace.spans)
    root, db = spans["GET /items"], spans["db"]
    assert (root.span_id, db.parent_id) == ("eee19b7ec3c1b174", "eee19b7ec3c1b174")
    assert (root.kind, db.kind) == ("SPAN_KIND_SERVER", "SPAN_KIND_CLIENT")
    assert root.attributes["http.status"] == 200
    assert (root.start_time_ns, root.end_time_ns) == (1544712660000000000, 1544712661000000000)
    assert (db.status_code, db.status_message) == (SpanStatusCode.ERROR, "slow")
    assert db.events[0].attributes == {"rows": 3}
    assert trace.info.execution_duration_ms == 1000


# ---------------------------------------------------------------- GenAI and OpenInference spans
def genai_agent(tracer: Tracer) -> None:
    with tracer.start_as_current_span(
        "invoke_agent helper", attributes={"gen_ai.operation.name": "invoke_agent"}
    ):
        with tracer.start_as_current_span(
            "chat gpt-4o",
            attributes={
                "gen_ai.operation.name": "chat",
                "gen_ai.provider.name": "openai",
                "gen_ai.request.model": "gpt-4o",
                "gen_ai.usage.input_tokens": 12,
                "gen_ai.usage.output_tokens": 30,
                "gen_ai.input.messages": json.dumps([{"role": "user", "content": "Hi"}]),
                "gen_ai.output.messages": json.dumps([{"role": "assistant", "content": "Yo"}]),
            },
        ):
            pass
        # OpenLLMetry's indexed keys
        with tracer.start_as_current_span(
            "openai.chat",
            attributes={
                "llm.request.type": "chat",
                "gen_ai.system": "openai",
                "gen_ai.request.model": "gpt-4o-mini",
                "gen_ai.prompt.0.role": "user",
                "gen_ai.prompt.0.content": "Weather?",
                "gen_ai.completion.0.role": "assistant",
                "gen_ai.completion.0.content": "Sunny.",
                "gen_ai.usage.prompt_tokens": 5,
                "gen_ai.usage.completion_tokens": 2,
            },
        ):
            pass


def test_genai_semantic_conventions_are_mapped(served: Served) -> None:
    experiment_id = served.experiment()

    served.send(experiment_id, genai_agent)

    trace = served.store.get_trace(only_trace_id(served, experiment_id))
    spans = by_name(trace.spans)
    agent, chat, openllmetry = (
        spans["invoke_agent helper"],
        spans["chat gpt-4o"],
        spans["openai.chat"],
    )
    assert agent.span_type == SpanType.AGENT
    assert chat.span_type == SpanType.CHAT_MODEL
    assert chat.inputs == [{"role": "user", "content": "Hi"}]
    assert chat.outputs == [{"role": "assistant", "content": "Yo"}]
    assert chat.attributes[K.TOKEN_USAGE] == {
        "input_tokens": 12,
        "output_tokens": 30,
        "total_tokens": 42,
    }
    assert (chat.attributes[K.MODEL], chat.attributes[K.PROVIDER]) == ("gpt-4o", "openai")
    assert chat.attributes["gen_ai.request.model"] == "gpt-4o"  # originals are kept
    assert openllmetry.span_type == SpanType.CHAT_MODEL
    assert openllmetry.inputs == {"messages": [{"role": "user", "content": "Weather?"}]}
    assert openllmetry.outputs["choices"][0]["message"] == {
        "role": "assistant",
        "content": "Sunny.",
    }
    assert trace.info.token_usage == {"input_tokens": 17, "output_tokens": 32, "total_tokens": 49}


def openinference_rag(tracer: Tracer) -> None:
    with tracer.start_as_current_span(
        "query",
        attributes={
            "openinference.span.kind": "CHAIN",
            "input.value": "What is Wayline?",
            "output.value": '{"answer": "A tracking server."}',
            "output.mime_type": "application/json",
        },
    ):
        with tracer.start_as_current_span(
            "retrieve",
            attributes={
                "openinference.span.kind": "RETRIEVER",
                "input.value": "What is Wayline?",
                "retrieval.documents.0.document.id": "readme",
                "retrieval.documents.0.document.content": "Wayline is ...",
                "retrieval.documents.0.document.score": 0.87,
            },
        ):
            pass
        with tracer.start_as_current_span(
            "llm",
            attributes={
                "openinference.span.kind": "LLM",
                "llm.model_name": "claude-sonnet",
                "llm.token_count.prompt": 100,
                "llm.token_count.completion": 20,
                "llm.token_count.total": 120,
                "llm.input_messages.0.message.role": "user",
                "llm.input_messages.0.message.content": "What is Wayline?",
                "output.value": "A tracking server.",
            },
        ):
            pass


def test_openinference_spans_are_mapped(served: Served) -> None:
    experiment_id = served.experiment()

    served.send(experiment_id, openinference_rag)

    trace = served.store.get_trace(only_trace_id(served, experiment_id))
    spans = by_name(trace.spans)
    query, retrieve, llm = spans["query"], spans["retrieve"], spans["llm"]
    assert (query.span_type, retrieve.span_type, llm.span_type) == (
        SpanType.CHAIN,
        SpanType.RETRIEVER,
        SpanType.LLM,
    )
    assert query.inputs == "What is Wayline?"
    assert query.outputs == {"answer": "A tracking server."}
    assert retrieve.outputs == [
        {"page_content": "Wayline is ...", "metadata": {"score": 0.87}, "id": "readme"}
    ]
    assert llm.inputs == {"messages": [{"role": "user", "content": "What is Wayline?"}]}
    assert llm.outputs == "A tracking server."
    assert llm.attributes[K.MODEL] == "claude-sonnet"
    assert llm.attributes[K.TOKEN_USAGE] == {
        "input_tokens": 100,
        "output_tokens": 20,
        "total_tokens": 120,
    }
    assert trace.info.request_preview is not None
    assert "What is Wayline?" in trace.info.request_preview


def test_mlflow_sdk_attributes_sent_as_json_text_are_decoded(served: Served) -> None:
    # MLflow's (and OpenTelemetry-bridged) SDKs set every attribute value as JSON text.
    experiment_id = served.experiment()

    def mlflow_style(tracer: Tracer) -> None:
        with tracer.start_as_current_span(
            "predict",
            attributes={
                K.SPAN_TYPE: '"CHAIN"',
                K.INPUTS: '{"x": 3}',
                K.OUTPUTS: "6",
                K.FUNCTION_NAME: '"predict"',
                # A foreign root may not set tags the server owns.
                f"mlflow.traceTag.{TraceTagKey.ARTIFACT_LOCATION}": '"s3://elsewhere"',
            },
        ):
            pass

    served.send(experiment_id, mlflow_style)

    trace = served.store.get_trace(only_trace_id(served, experiment_id))
    (span,) = trace.spans
    assert span.span_type == SpanType.CHAIN
    assert span.inputs == {"x": 3}
    assert span.attributes[K.FUNCTION_NAME] == "predict"
    assert f"mlflow.traceTag.{TraceTagKey.ARTIFACT_LOCATION}" not in span.attributes
    assert trace.info.tags.get(TraceTagKey.ARTIFACT_LOCATION) != "s3://elsewhere"


# ---------------------------------------------------------------- refusals, never a 500
def protobuf_headers(experiment_id: str) -> dict[str, str]:
    return {"content-type": "application/x-protobuf", "x-mlflow-experiment-id": experiment_id}


def test_missing_experiment_header_is_422(served: Served) -> None:
    body = protobuf_body(record(small_tree))

    for headers in ({"content-type": "application/x-protobuf"}, protobuf_headers("")):
        response = served.post(body, headers)
        assert response.status_code == 422, response.text
        assert "x-mlflow-experiment-id" in response.json()["message"]


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", None])
def test_other_content_types_are_400(served: Served, content_type: str | None) -> None:
    headers = {"x-mlflow-experiment-id": served.experiment()}
    if content_type:
        headers["content-type"] = content_type

    response = served.post(protobuf_body(record(small_tree)), headers)

    assert response.status_code == 400, response.text
    assert response.json()["message"].startswith("Invalid Content-Type")


@pytest.mark.parametrize(
    ("content_type", "encoding", "body", "message"),
    [
        ("application/x-protobuf", None, b"\xff\xfe garbage \x00", "Invalid OpenTelemetry format"),
        ("application/json", None, b"{not json", "Invalid OpenTelemetry format"),
        ("application/json", None, b'{"resourceSpans": 3}', "Invalid OpenTelemetry format"),
        ("application/x-protobuf", None, b"", NO_SPANS),
        ("application/json", None, b'{"resourceSpans": []}', NO_SPANS),
        ("application/x-protobuf", "gzip", b"not gzip", "Failed to decompress gzip payload"),
        ("application/x-protobuf", "br", b"x", "Unsupported Content-Encoding: br"),
    ],
)
def test_bad_bodies_are_400(
    served: Served, content_type: str, encoding: str | None, body: bytes, message: str
) -> None:
    headers = {"content-type": content_type, "x-mlflow-experiment-id": served.experiment()}
    if encoding:
        headers["content-encoding"] = encoding

    response = served.post(body, headers)

    assert response.status_code == 400, response.text
    error = response.json()
    assert error["error_code"] == "INVALID_PARAMETER_VALUE"
    assert error["message"].startswith(message)


@pytest.mark.parametrize("experiment_id", ["987654321", "not-a-number"])
def test_unknown_experiment_is_404(served: Served, experiment_id: str) -> None:
    response = served.post(protobuf_body(record(small_tree)), protobuf_headers(experiment_id))

    assert response.status_code == 404, response.text
    assert response.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"


def test_bodies_over_the_limit_are_400_also_once_decompressed(tmp_path: Path) -> None:
    settings = ServerSettings(
        backend_store_uri=f"sqlite:///{tmp_path / 'small.db'}", max_request_body_bytes=50_000
    )
    with live_server(create_app(settings)) as url:
        store = SqlStore(settings.backend_store_uri)
        try:
            headers = protobuf_headers(store.create_experiment("limits"))
        finally:
            store.close()
        bomb = gzip.compress(bytes(10_000_000))
        assert len(bomb) < 50_000

        for body, extra in ((bytes(60_000), {}), (bomb, {"content-encoding": "gzip"})):
            response = httpx.post(f"{url}/v1/traces", content=body, headers={**headers, **extra})
            assert response.status_code == 400, response.text
            assert "larger than the server's limit of 50000 bytes" in response.json()["message"]
