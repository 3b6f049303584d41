"""Reading traces back: ``get_trace``, ``search_traces`` as a DataFrame and as a list, and the
Client's trace methods."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import pytest

import wayline
from wayline.entities.trace import Trace, TraceState
from wayline.errors import InvalidParameter, NotFound
from wayline.tracking.client import Client

Finished = Callable[[str | None], Trace]

COLUMNS = [
    "trace_id",
    "trace",
    "client_request_id",
    "state",
    "request_time",
    "execution_duration",
    "request",
    "response",
    "trace_metadata",
    "tags",
    "spans",
    "assessments",
]


@wayline.trace
def greet(name: str) -> str:
    with wayline.start_span("inner", span_type="TOOL") as span:
        span.set_outputs(len(name))
    return f"hello {name}"


@wayline.trace
def broken() -> None:
    raise RuntimeError("nope")


def _record(names: list[str]) -> list[str]:
    ids = []
    for name in names:
        greet(name)
        ids.append(wayline.get_last_active_trace_id() or "")
        time.sleep(0.002)  # distinct request times, so the default order is known
    return ids


def test_search_traces_returns_mlflows_dataframe() -> None:
    [trace_id] = _record(["ana"])
    wayline.log_feedback(trace_id=trace_id, name="polite", value=True)
    df = wayline.search_traces()
    assert list(df.columns) == COLUMNS
    assert len(df) == 1
    row = df.iloc[0]
    assert row["trace_id"] == trace_id
    assert row["state"] == "OK"
    assert row["request"] == {"name": "ana"} and row["response"] == "hello ana"
    assert int(row["request_time"]) > 0 and row["execution_duration"] >= 0
    assert row["tags"]["mlflow.traceName"] == "greet"
    assert row["trace_metadata"]["mlflow.trace_schema.version"] == "3"
    assert [span["name"] for span in row["spans"]] == ["greet", "inner"]
    assert row["spans"][1]["attributes"]["mlflow.spanType"] == '"TOOL"'
    [assessment] = row["assessments"]
    assert assessment["assessment_name"] == "polite" and assessment["feedback"]["value"] is True
    as_json = json.loads(row["trace"])
    assert as_json["info"]["trace_id"] == trace_id
    assert len(as_json["data"]["spans"]) == 2

    empty = wayline.search_traces(filter_string="trace.status = 'ERROR'")
    assert list(empty.columns) == COLUMNS and len(empty) == 0


def test_search_traces_as_a_list_with_filters_order_and_limits() -> None:
    ids = _record(["a", "b", "c"])
    with pytest.raises(RuntimeError):
        broken()
    error_id = wayline.get_last_active_trace_id()

    found = wayline.search_traces(return_type="list")
    assert [t.info.trace_id for t in found] == [error_id, *reversed(ids)]
    assert all(isinstance(t, Trace) for t in found)

    oldest_first = wayline.search_traces(order_by=["timestamp_ms ASC"], return_type="list")
    assert [t.info.trace_id for t in oldest_first] == [*ids, error_id]

    errors = wayline.search_traces(filter_string="trace.status = 'ERROR'", return_type="list")
    assert [t.info.trace_id for t in errors] == [error_id]
    assert errors[0].info.state is TraceState.ERROR

    two = wayline.search_traces(max_results=2, return_type="list")
    assert len(two) == 2

    infos_only = wayline.search_traces(include_spans=False, return_type="list")
    assert len(infos_only) == 4 and all(t.spans == [] for t in infos_only)

    with pytest.raises(InvalidParameter, match="Return type"):
        wayline.search_traces(return_type="json")  # type: ignore[call-overload]


def test_search_traces_in_named_experiments() -> None:
    first = wayline.create_experiment("first")
    second = wayline.create_experiment("second")
    wayline.set_experiment(experiment_id=first)
    [in_first] = _record(["x"])
    wayline.set_experiment(experiment_id=second)
    [in_second] = _record(["y"])

    assert [t.info.trace_id for t in wayline.search_traces(return_type="list")] == [in_second]
    both = wayline.search_traces(experiment_ids=[first, second], return_type="list")
    assert {t.info.trace_id for t in both} == {in_first, in_second}


def test_get_trace_of_an_unknown_id_is_none(caplog: pytest.LogCaptureFixture) -> None:
    assert wayline.get_trace("tr-" + "0" * 32) is None
    assert "Failed to get trace" in caplog.text
    caplog.clear()
    assert wayline.get_trace("tr-" + "1" * 32, silent=True) is None
    assert "Failed to get trace" not in caplog.text


def test_the_client_reads_and_deletes_traces(client: Client) -> None:
    ids = _record(["a", "b", "c", "d"])
    with pytest.raises(NotFound):
        client.get_trace("tr-" + "0" * 32)
    page = client.search_traces(["0"], max_results=3)
    assert len(page) == 3 and page.token
    rest = client.search_traces(["0"], max_results=3, page_token=page.token)
    assert [t.info.trace_id for t in [*page, *rest]] == list(reversed(ids))
    with pytest.raises(InvalidParameter):
        client.search_traces()

    assert client.delete_traces("0", trace_ids=[ids[0]]) == 1
    cutoff = client.get_trace_info(ids[2]).request_time_ms
    assert client.delete_traces("0", max_timestamp_millis=cutoff, max_traces=1) == 1
    left = [t.info.trace_id for t in client.search_traces(["0"])]
    assert left == [ids[3], ids[2]]

    with pytest.raises(InvalidParameter, match="Exactly one"):
        client.delete_traces("0")
    with pytest.raises(InvalidParameter, match="Exactly one"):
        client.delete_traces("0", max_timestamp_millis=1, trace_ids=[ids[3]])
    with pytest.raises(InvalidParameter, match="max_traces"):
        client.delete_traces("0", max_traces=1, trace_ids=[ids[3]])


def test_the_client_links_traces_to_a_run(client: Client) -> None:
    [trace_id] = _record(["z"])
    run = client.create_run("0")
    client.link_traces_to_run([trace_id], run.info.run_id)
    found = client.search_traces(["0"], run_id=run.info.run_id)
    assert [t.info.trace_id for t in found] == [trace_id]
    with pytest.raises(InvalidParameter, match="100"):
        client.link_traces_to_run([trace_id] * 101, run.info.run_id)
