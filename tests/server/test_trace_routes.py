"""The trace REST API (spec tracing.md §3) on a live server: every route, as MLflow's 3.18 client
calls it, its error answers, and the precedence of literal routes over ``/traces/{trace_id}``."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from servers import live_server
from wayline.entities.trace import Span, SpanStatusCode, TraceState
from wayline.protocol.traces import decode_span, decode_span_dict, decode_trace_info
from wayline.server import ServerSettings, create_app
from wayline.store.rest import RestSettings, RestStore

API2 = "/api/2.0/mlflow"
API3 = "/api/3.0/mlflow"
UNKNOWN = "tr-" + "0" * 32


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder: Path = tmp_path_factory.mktemp("trace-server")
    settings = ServerSettings(backend_store_uri=f"sqlite:///{folder / 'server.db'}")
    with live_server(create_app(settings)) as url:
        yield url


@pytest.fixture(scope="module")
def http(server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server, timeout=60.0) as client:
        yield client


@pytest.fixture(scope="module")
def rest(server: str) -> Iterator[RestStore]:
    store = RestStore(server, RestSettings(max_retries=0))
    yield store
    store.close()


# ---------------------------------------------------------------- helpers
def ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    return response.json()


def error(response: httpx.Response, status: int, code: str, message: str | None = None) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error_code"] == code, body
    if message is not None:
        assert message in body["message"], body


def new_experiment(http: httpx.Client) -> str:
    name = f"traces-{uuid.uuid4().hex[:10]}"
    experiment_id: str = ok(http.post(f"{API2}/experiments/create", json={"name": name}))[
        "experiment_id"
    ]
    return experiment_id


def new_trace_id() -> str:
    return "tr-" + uuid.uuid4().hex


def trace_info_body(experiment_id: str, trace_id: str, **extra: Any) -> dict[str, Any]:
    """A StartTraceV3 trace_info as MLflow's client sends it (spec §3.3)."""
    return {
        "trace_id": trace_id,
        "trace_location": {
            "type": "MLFLOW_EXPERIMENT",
            "mlflow_experiment": {"experiment_id": experiment_id},
        },
        "request_time": "2026-11-27T05:06:42.512Z",
        "execution_duration": "0.028s",
        "state": "OK",
        "trace_metadata": {"mlflow.traceInputs": '{"x": 3}', "mlflow.trace_schema.version": "3"},
        "tags": {"mlflow.traceName": "outer"},
        "request_preview": '{"x": 3}',
        "response_preview": "6",
        **extra,
    }


def start_trace(http: httpx.Client, experiment_id: str, **extra: Any) -> dict[str, Any]:
    body = {"trace": {"trace_info": trace_info_body(experiment_id, new_trace_id(), **extra)}}
    info: dict[str, Any] = ok(http.post(f"{API3}/traces", json=body))["trace"]["trace_info"]
    return info


def spans_of(trace_id: str, count: int) -> list[Span]:
    """A root and ``count - 1`` children, in start order."""
    root_id = "1" + "0" * 15
    spans = [Span(trace_id, root_id, None, "root", 1_000, 10_000_000, SpanStatusCode.OK)]
    spans[0].attributes = {"mlflow.spanType": "CHAIN", "mlflow.spanInputs": {"x": 3}}
    for index in range(1, count):
        child = Span(trace_id, f"{index + 1:016x}", root_id, f"child-{index}", 1_000 + index, 2_000)
        child.attributes = {"n": index, "f": 1.5, "tags": ["a", "b"]}
        spans.append(child)
    return spans


def traced(http: httpx.Client, rest: RestStore, spans: int = 3) -> tuple[str, str]:
    experiment_id = new_experiment(http)
    trace_id = new_trace_id()
    rest.log_spans(experiment_id, spans_of(trace_id, spans))
    return experiment_id, trace_id


# ---------------------------------------------------------------- StartTraceV3, GetTraceInfoV3
def test_start_trace_answers_with_the_servers_tags(http: httpx.Client) -> None:
    experiment_id = new_experiment(http)
    sent = trace_info_body(experiment_id, new_trace_id())
    sent["tags"]["mlflow.artifactLocation"] = "file:///elsewhere"  # only the server sets it

    info = ok(http.post(f"{API3}/traces", json={"trace": {"trace_info": sent}}))["trace"][
        "trace_info"
    ]

    assert info["trace_id"] == sent["trace_id"]
    assert info["request_time"] == "2026-11-27T05:06:42.512Z"
    assert info["execution_duration"] == "0.028s"
    assert info["state"] == "OK"
    assert info["trace_metadata"]["mlflow.trace.infoFinalized"] == "true"
    location = info["tags"]["mlflow.artifactLocation"]
    assert location != "file:///elsewhere"
    assert location.endswith(f"/traces/{sent['trace_id']}/artifacts")
    assert info["tags"]["mlflow.traceName"] == "outer"
    # An upsert: the client may send it again.
    again = ok(http.post(f"{API3}/traces", json={"trace": {"trace_info": sent}}))
    assert again["trace"]["trace_info"]["trace_id"] == sent["trace_id"]
    got = ok(http.get(f"{API3}/traces/{sent['trace_id']}", params={"trace_id": sent["trace_id"]}))
    assert decode_trace_info(got["trace"]["trace_info"]) == decode_trace_info(info)


def test_start_trace_carries_assessments_logged_during_the_trace(http: httpx.Client) -> None:
    experiment_id = new_experiment(http)
    assessment = {
        "assessment_id": "a-" + uuid.uuid4().hex,
        "assessment_name": "quality",
        "source": {"source_type": "HUMAN", "source_id": "me"},
        "feedback": {"value": True},
    }
    info = start_trace(http, experiment_id, assessments=[assessment])

    [stored] = info["assessments"]
    assert (stored["assessment_id"], stored["feedback"]) == (
        assessment["assessment_id"],
        {"value": True},
    )
    assert stored["trace_id"] == info["trace_id"]


@pytest.mark.parametrize(
    ("body", "status", "code", "message"),
    [
        ({}, 400, "INVALID_PARAMETER_VALUE", "'trace'"),
        ({"trace": {}}, 400, "INVALID_PARAMETER_VALUE", "trace.trace_info"),
        ({"trace": "x"}, 400, "INVALID_PARAMETER_VALUE", "JSON object"),
        (
            {"trace": {"trace_info": {"trace_id": new_trace_id()}}},
            400,
            "INVALID_PARAMETER_VALUE",
            "trace_location",
        ),
    ],
)
def test_start_trace_refuses_bad_bodies(
    http: httpx.Client, body: dict[str, Any], status: int, code: str, message: str
) -> None:
    error(http.post(f"{API3}/traces", json=body), status, code, message)


def test_start_trace_in_an_unknown_experiment_is_404(http: httpx.Client) -> None:
    body = {"trace": {"trace_info": trace_info_body("987654321", new_trace_id())}}
    error(http.post(f"{API3}/traces", json=body), 404, "RESOURCE_DOES_NOT_EXIST")


def test_start_trace_refuses_a_bad_time_and_malformed_json(http: httpx.Client) -> None:
    info = trace_info_body(new_experiment(http), new_trace_id(), request_time="yesterday")
    error(
        http.post(f"{API3}/traces", json={"trace": {"trace_info": info}}),
        400,
        "INVALID_PARAMETER_VALUE",
    )
    response = http.post(
        f"{API3}/traces", content=b'{"trace": ', headers={"Content-Type": "application/json"}
    )
    error(response, 400, "INVALID_PARAMETER_VALUE", "Malformed JSON")


def test_unknown_traces_are_404_in_mlflows_words(http: httpx.Client) -> None:
    body = http.get(f"{API3}/traces/{UNKNOWN}").json()
    assert body == {
        "error_code": "RESOURCE_DOES_NOT_EXIST",
        "message": f"Trace with ID '{UNKNOWN}' not found.",
    }
    body = http.get(f"{API3}/traces/get", params={"trace_id": UNKNOWN}).json()
    assert body["message"] == f"Trace with ID {UNKNOWN} is not found."  # GetTrace's wording
    error(http.get(f"{API3}/traces/{UNKNOWN}/spans"), 404, "RESOURCE_DOES_NOT_EXIST", UNKNOWN)
    error(http.get(f"{API2}/traces/{UNKNOWN}/info"), 404, "RESOURCE_DOES_NOT_EXIST", UNKNOWN)


# ---------------------------------------------------------------- GetTrace, BatchGetTraces
def test_get_trace_wins_over_a_trace_id_called_get(http: httpx.Client, rest: RestStore) -> None:
    _, trace_id = traced(http, rest)

    trace = ok(
        http.get(f"{API3}/traces/get", params={"trace_id": trace_id, "allow_partial": "False"})
    )

    assert trace["trace"]["trace_info"]["trace_id"] == trace_id
    assert len(trace["trace"]["spans"]) == 3
    # Without a trace id it is GetTrace's 400, not "trace 'get' not found".
    error(http.get(f"{API3}/traces/get"), 400, "INVALID_PARAMETER_VALUE", "'trace_id'")
    error(http.get(f"{API3}/traces/batchGet"), 400, "INVALID_PARAMETER_VALUE", "'trace_ids'")


def test_get_trace_answers_opentelemetry_spans(http: httpx.Client, rest: RestStore) -> None:
    experiment_id = new_experiment(http)
    trace_id = new_trace_id()
    sent = spans_of(trace_id, 3)
    rest.log_spans(experiment_id, sent)

    body = ok(http.get(f"{API3}/traces/get", params={"trace_id": trace_id}))["trace"]

    assert body["trace_info"]["tags"]["mlflow.trace.spansLocation"] == "TRACKING_STORE"
    root = body["spans"][0]
    assert root["name"] == "root" and "parent_span_id" not in root
    assert root["start_time_unix_nano"] == 1_000  # a number, as MLflow's server writes it
    assert {"key": "mlflow.spanInputs", "value": {"kvlist_value": {"values": [
        {"key": "x", "value": {"int_value": 3}}
    ]}}} in root["attributes"]  # fmt: skip
    assert root["status"] == {"code": "STATUS_CODE_OK"}
    assert [decode_span(span) for span in body["spans"]] == [
        rest.get_spans(trace_id)[i] for i in range(3)
    ]


@pytest.mark.slow
def test_get_trace_streams_a_trace_of_many_pages(http: httpx.Client, rest: RestStore) -> None:
    _, trace_id = traced(http, rest, spans=2_500)  # three pages of the store

    with http.stream("GET", f"{API3}/traces/get", params={"trace_id": trace_id}) as response:
        assert response.status_code == 200
        assert "content-length" not in response.headers  # written page by page
        body = httpx.Response(200, content=response.read()).json()

    names = [span["name"] for span in body["trace"]["spans"]]
    assert len(names) == 2_500 and len(set(names)) == 2_500


def test_batch_get_traces(http: httpx.Client, rest: RestStore) -> None:
    experiment_id, first = traced(http, rest, spans=2)
    second = new_trace_id()
    rest.log_spans(experiment_id, spans_of(second, 1))

    ids = [first, UNKNOWN, second]
    traces = ok(http.get(f"{API3}/traces/batchGet", params={"trace_ids": ids}))["traces"]

    assert [t["trace_info"]["trace_id"] for t in traces] == [first, second]
    assert [len(t["spans"]) for t in traces] == [2, 1]
    assert ok(http.get(f"{API3}/traces/batchGet", params={"trace_ids": [UNKNOWN]})) == {}
    other = new_experiment(http)
    scoped = {"trace_ids": ids, "experiment_ids": [other]}
    assert ok(http.get(f"{API3}/traces/batchGet", params=scoped)) == {}
    too_many = {"trace_ids": [new_trace_id() for _ in range(11)]}
    error(
        http.get(f"{API3}/traces/batchGet", params=too_many), 400, "INVALID_PARAMETER_VALUE", "10"
    )


def test_batch_get_trace_infos(http: httpx.Client) -> None:
    experiment_id = new_experiment(http)
    first, second = start_trace(http, experiment_id), start_trace(http, experiment_id)

    body = {"trace_ids": [second["trace_id"], UNKNOWN, first["trace_id"]]}
    infos = ok(http.post(f"{API3}/traces/batchGetInfos", json=body))["trace_infos"]

    assert [info["trace_id"] for info in infos] == [second["trace_id"], first["trace_id"]]
    error(http.post(f"{API3}/traces/batchGetInfos", json={}), 400, "INVALID_PARAMETER_VALUE")


# ---------------------------------------------------------------- the spans extension
def test_spans_come_page_by_page(http: httpx.Client, rest: RestStore) -> None:
    _, trace_id = traced(http, rest, spans=5)
    url = f"{API3}/traces/{trace_id}/spans"

    first = ok(http.get(url, params={"max_results": 2}))
    assert [span["name"] for span in first["spans"]] == ["root", "child-1"]
    assert first["spans"][0]["attributes"]["mlflow.spanType"] == '"CHAIN"'  # MLflow's span dict
    names = [decode_span_dict(span).name for span in first["spans"]]
    token = first["next_page_token"]
    while token:
        page = ok(http.get(url, params={"max_results": 2, "page_token": token}))
        names += [span["name"] for span in page["spans"]]
        token = page.get("next_page_token")
    assert names == ["root", "child-1", "child-2", "child-3", "child-4"]
    for bad in (0, 10_001, "x"):
        error(http.get(url, params={"max_results": bad}), 400, "INVALID_PARAMETER_VALUE")


# ---------------------------------------------------------------- search
def test_search_traces_v3(http: httpx.Client) -> None:
    experiment_id = new_experiment(http)
    ids = [start_trace(http, experiment_id)["trace_id"] for _ in range(3)]
    location = {"type": "MLFLOW_EXPERIMENT", "mlflow_experiment": {"experiment_id": experiment_id}}
    url = f"{API3}/traces/search"

    first = ok(http.post(url, json={"locations": [location], "max_results": 2}))
    second = ok(
        http.post(
            url,
            json={
                "locations": [location],
                "max_results": 2,
                "page_token": first["next_page_token"],
            },
        )
    )
    found = [t["trace_id"] for t in first["traces"] + second["traces"]]
    assert sorted(found) == sorted(ids)
    assert "next_page_token" not in second
    ok_only = {"locations": [location], "filter": "trace.status = 'OK'"}
    assert len(ok(http.post(url, json=ok_only))["traces"]) == 3
    none = {"locations": [location], "filter": "trace.status = 'ERROR'"}
    assert ok(http.post(url, json=none)) == {}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "'locations'"),
        ({"locations": []}, "'locations'"),
        ({"locations": ["1"]}, "JSON object"),
        ({"locations": [{"type": "MLFLOW_EXPERIMENT"}], "max_results": 1}, "mlflow_experiment"),
        ({"locations": [{"mlflow_experiment": {"experiment_id": "0"}}], "max_results": 501}, "501"),
        ({"locations": [{"mlflow_experiment": {"experiment_id": "0"}}], "filter": "bogus ==="}, ""),
    ],
)
def test_search_traces_refuses_bad_requests(
    http: httpx.Client, body: dict[str, Any], message: str
) -> None:
    error(http.post(f"{API3}/traces/search", json=body), 400, "INVALID_PARAMETER_VALUE", message)


# ---------------------------------------------------------------- tags, deletion, links
@pytest.mark.parametrize("api", [API2, API3])
def test_trace_tags(http: httpx.Client, api: str) -> None:
    trace_id = start_trace(http, new_experiment(http))["trace_id"]
    url = f"{api}/traces/{trace_id}/tags"

    assert ok(http.patch(url, json={"key": "team", "value": "search"})) == {}
    tags = ok(http.get(f"{API3}/traces/{trace_id}"))["trace"]["trace_info"]["tags"]
    assert tags["team"] == "search"
    assert ok(http.request("DELETE", url, json={"key": "team"})) == {}
    error(http.request("DELETE", url, json={"key": "team"}), 404, "RESOURCE_DOES_NOT_EXIST")
    error(http.patch(url, json={"value": "x"}), 400, "INVALID_PARAMETER_VALUE", "'key'")
    for key in ("mlflow.artifactLocation", "mlflow.trace.spansLocation"):
        error(
            http.patch(url, json={"key": key, "value": "x"}),
            400,
            "INVALID_PARAMETER_VALUE",
            "immutable",
        )
        error(http.request("DELETE", url, json={"key": key}), 400, "INVALID_PARAMETER_VALUE")
    unknown = f"{api}/traces/{UNKNOWN}/tags"
    error(http.patch(unknown, json={"key": "k", "value": "v"}), 404, "RESOURCE_DOES_NOT_EXIST")


@pytest.mark.parametrize("api", [API2, API3])
def test_delete_traces(http: httpx.Client, api: str) -> None:
    experiment_id = new_experiment(http)
    first, second = start_trace(http, experiment_id), start_trace(http, experiment_id)
    url = f"{api}/traces/delete-traces"

    body = {"experiment_id": experiment_id, "request_ids": [first["trace_id"]]}
    assert ok(http.post(url, json=body)) == {"traces_deleted": 1}
    error(http.get(f"{API3}/traces/{first['trace_id']}"), 404, "RESOURCE_DOES_NOT_EXIST")
    # request_time is 2026-11-27T05:06:42.512Z for both
    older = {"experiment_id": experiment_id, "max_timestamp_millis": 1795756002513}
    assert ok(http.post(url, json=older)) == {"traces_deleted": 1}
    error(http.get(f"{API3}/traces/{second['trace_id']}"), 404, "RESOURCE_DOES_NOT_EXIST")
    error(http.post(url, json={"experiment_id": experiment_id}), 400, "INVALID_PARAMETER_VALUE")
    both = {**older, "request_ids": [new_trace_id()]}
    error(http.post(url, json=both), 400, "INVALID_PARAMETER_VALUE")
    error(
        http.post(url, json={"request_ids": ["x"]}), 400, "INVALID_PARAMETER_VALUE", "experiment_id"
    )


def test_link_traces_to_a_run(http: httpx.Client) -> None:
    experiment_id = new_experiment(http)
    trace_id = start_trace(http, experiment_id)["trace_id"]
    run = ok(http.post(f"{API2}/runs/create", json={"experiment_id": experiment_id}))
    run_id = run["run"]["info"]["run_id"]
    url = f"{API2}/traces/link-to-run"

    assert ok(http.post(url, json={"trace_ids": [trace_id], "run_id": run_id})) == {}
    location = {"type": "MLFLOW_EXPERIMENT", "mlflow_experiment": {"experiment_id": experiment_id}}
    search = {"locations": [location], "filter": f"trace.run_id = '{run_id}'"}
    found = ok(http.post(f"{API3}/traces/search", json=search))["traces"]
    assert [t["trace_id"] for t in found] == [trace_id]
    many = {"trace_ids": [new_trace_id() for _ in range(101)], "run_id": run_id}
    error(http.post(url, json=many), 400, "INVALID_PARAMETER_VALUE", "100")
    error(http.post(url, json={"run_id": run_id}), 400, "INVALID_PARAMETER_VALUE", "'trace_ids'")


def test_link_prompts_to_a_trace(http: httpx.Client) -> None:
    trace_id = start_trace(http, new_experiment(http))["trace_id"]
    url = f"{API2}/traces/link-prompts"

    body = {"trace_id": trace_id, "prompt_versions": [{"name": "qa", "version": "2"}]}
    assert ok(http.post(url, json=body)) == {}
    tags = ok(http.get(f"{API3}/traces/{trace_id}"))["trace"]["trace_info"]["tags"]
    assert '"qa"' in tags["mlflow.linkedPrompts"]
    error(http.post(url, json={**body, "trace_id": UNKNOWN}), 404, "RESOURCE_DOES_NOT_EXIST")
    bad = {"trace_id": trace_id, "prompt_versions": [{"name": "qa"}]}
    error(http.post(url, json=bad), 400, "INVALID_PARAMETER_VALUE", "version")


# ---------------------------------------------------------------- assessments
def test_assessment_lifecycle_as_mlflows_client_calls_it(http: httpx.Client) -> None:
    trace_id = start_trace(http, new_experiment(http))["trace_id"]
    base = f"{API3}/traces/{trace_id}/assessments"
    feedback = {
        "assessment_name": "quality",
        "trace_id": trace_id,
        "source": {"source_type": "CODE", "source_id": "default"},
        "create_time": "2026-11-27T17:53:32.575Z",
        "last_update_time": "2026-11-27T17:53:32.575Z",
        "feedback": {"value": 0.9},
        "rationale": "good",
        "valid": True,
    }

    created = ok(http.post(base, json={"assessment": feedback}))["assessment"]
    assessment_id = created["assessment_id"]
    assert assessment_id.startswith("a-")
    assert {k: created[k] for k in feedback} == feedback
    url = f"{base}/{assessment_id}"
    assert ok(http.get(url, params={"trace_id": trace_id, "assessment_id": assessment_id})) == {
        "assessment": created
    }

    update = {
        "assessment": {
            "assessment_id": assessment_id,
            "assessment_name": "feedback",
            "trace_id": trace_id,
            "feedback": {"value": 0.5},
            "rationale": "meh",
        },
        "update_mask": "assessmentName,feedback,rationale",
    }
    updated = ok(http.patch(url, json=update))["assessment"]
    assert (updated["assessment_name"], updated["feedback"], updated["rationale"]) == (
        "feedback",
        {"value": 0.5},
        "meh",
    )
    override = {**feedback, "feedback": {"value": 0.1}, "overrides": assessment_id}
    newer = ok(http.post(base, json={"assessment": override}))["assessment"]
    assert newer["overrides"] == assessment_id
    assert ok(http.get(url))["assessment"]["valid"] is False

    body = {"trace_id": trace_id, "assessment_id": assessment_id}
    assert ok(http.request("DELETE", url, json=body)) == {}
    error(http.get(url), 404, "RESOURCE_DOES_NOT_EXIST")
    assessments = ok(http.get(f"{API3}/traces/{trace_id}"))["trace"]["trace_info"]["assessments"]
    assert [a["assessment_id"] for a in assessments] == [newer["assessment_id"]]


def test_expectations_travel_serialized(http: httpx.Client) -> None:
    trace_id = start_trace(http, new_experiment(http))["trace_id"]
    serialized = {"serialization_format": "JSON_FORMAT", "value": '{"a": [1, 2]}'}
    body = {
        "assessment": {
            "assessment_name": "answer",
            "source": {"source_type": "HUMAN", "source_id": "default"},
            "expectation": {"serialized_value": serialized},
        }
    }

    created = ok(http.post(f"{API3}/traces/{trace_id}/assessments", json=body))["assessment"]

    assert created["expectation"] == {"serialized_value": serialized}
    assert created["trace_id"] == trace_id  # from the path


def test_assessment_errors(http: httpx.Client) -> None:
    trace_id = start_trace(http, new_experiment(http))["trace_id"]
    base = f"{API3}/traces/{trace_id}/assessments"
    feedback = {
        "assessment_name": "x",
        "source": {"source_type": "HUMAN", "source_id": "me"},
        "feedback": {"value": 1},
    }

    error(http.post(base, json={}), 400, "INVALID_PARAMETER_VALUE", "'assessment'")
    error(
        http.post(base, json={"assessment": {"assessment_name": "x"}}),
        400,
        "INVALID_PARAMETER_VALUE",
    )
    unknown_trace = f"{API3}/traces/{UNKNOWN}/assessments"
    error(http.post(unknown_trace, json={"assessment": feedback}), 404, "RESOURCE_DOES_NOT_EXIST")
    missing = f"{base}/a-{'0' * 32}"
    error(http.get(missing), 404, "RESOURCE_DOES_NOT_EXIST")
    assert ok(http.request("DELETE", missing, json={})) == {}  # idempotent, as in MLflow
    created = ok(http.post(base, json={"assessment": feedback}))["assessment"]
    url = f"{base}/{created['assessment_id']}"
    error(http.patch(url, json={"assessment": {}}), 400, "INVALID_PARAMETER_VALUE", "update_mask")
    bad_mask = {"assessment": {}, "update_mask": "source"}
    error(http.patch(url, json=bad_mask), 400, "INVALID_PARAMETER_VALUE", "source")


# ---------------------------------------------------------------- v2 fallbacks
def test_v2_trace_lifecycle(http: httpx.Client) -> None:
    experiment_id = new_experiment(http)
    start = {
        "experiment_id": experiment_id,
        "timestamp_ms": 1_700_000_000_000,
        "request_metadata": [{"key": "m", "value": "1"}],
        "tags": [{"key": "t", "value": "2"}],
    }

    info = ok(http.post(f"{API2}/traces", json=start))["trace_info"]
    request_id = info["request_id"]
    assert (info["status"], info["timestamp_ms"]) == ("IN_PROGRESS", 1_700_000_000_000)
    assert {"key": "m", "value": "1"} in info["request_metadata"]
    end = {
        "timestamp_ms": 1_700_000_000_500,
        "status": "OK",
        "request_metadata": [{"key": "m2", "value": "1"}],
        "tags": [{"key": "t2", "value": "2"}],
    }
    ended = ok(http.patch(f"{API2}/traces/{request_id}", json=end))["trace_info"]
    assert (ended["status"], ended["execution_time_ms"]) == ("OK", 500)
    assert ok(http.get(f"{API2}/traces/{request_id}/info"))["trace_info"] == ended
    v3 = ok(http.get(f"{API3}/traces/{request_id}"))["trace"]["trace_info"]
    assert (v3["execution_duration"], v3["trace_metadata"]["m2"], v3["tags"]["t2"]) == (
        "0.500s",
        "1",
        "2",
    )
    found = ok(http.get(f"{API2}/traces", params={"experiment_ids": [experiment_id]}))["traces"]
    assert [t["request_id"] for t in found] == [request_id]
    error(http.post(f"{API2}/traces", json={}), 400, "INVALID_PARAMETER_VALUE", "experiment_id")
    error(http.patch(f"{API2}/traces/{UNKNOWN}", json=end), 404, "RESOURCE_DOES_NOT_EXIST")


# ---------------------------------------------------------------- mounting
def test_ajax_prefix_and_unbuilt_rpcs(http: httpx.Client) -> None:
    trace_id = start_trace(http, new_experiment(http))["trace_id"]
    assert ok(http.get(f"/ajax-api/3.0/mlflow/traces/{trace_id}"))["trace"]["trace_info"]
    body = {"experiment_ids": ["0"], "filter_string1": "a", "filter_string2": "b"}
    response = http.post(f"{API3}/traces/calculate-filter-correlation", json=body)
    error(response, 501, "NOT_IMPLEMENTED")
    # v3 paths are not served under /api/2.0, nor the reverse.
    assert http.post(f"{API2}/traces/search", json={}).status_code in (404, 405)
    assert http.post(f"{API3}/traces/link-to-run", json={}).status_code in (404, 405)


def test_trace_state_names_are_the_specs(http: httpx.Client) -> None:
    info = start_trace(http, new_experiment(http), state="ERROR", execution_duration="0s")
    assert (info["state"], info["execution_duration"]) == ("ERROR", "0s")
    assert decode_trace_info(info).state is TraceState.ERROR
