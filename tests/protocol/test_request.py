"""Reading and writing request fields through the route table."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from wayline.entities import (
    Dataset,
    DatasetInput,
    ExperimentTag,
    LoggedModelDataset,
    LoggedModelOrderBy,
    LoggedModelStatus,
    Metric,
    ModelInput,
    ModelOutput,
    Param,
    RunStatus,
    RunTag,
    ViewType,
)
from wayline.errors import InvalidParameter
from wayline.protocol.request import (
    encode_query,
    encode_request,
    lower_camel,
    parse_body,
    parse_request,
    run_id_of,
)
from wayline.protocol.routes import Field, Route, route
from wayline.protocol.values import query_lists

RUN_ID = "0123456789abcdef0123456789abcdef"


def over_the_wire(name: str, values: dict[str, Any]) -> dict[str, Any]:
    """Encode as the client would, send as JSON text, parse as the server would."""
    body = json.dumps(encode_request(route(name), values), allow_nan=False)
    return parse_request(route(name), parse_body(body))


def test_lower_camel() -> None:
    assert lower_camel("run_name") == "runName"
    assert lower_camel("experiment_ids") == "experimentIds"
    assert lower_camel("key") == "key"


@pytest.mark.parametrize(
    ("raw", "expected"), [(None, {}), (b"", {}), ("  ", {}), (b'{"a": 1}', {"a": 1})]
)
def test_parse_body(raw: bytes | str | None, expected: dict[str, Any]) -> None:
    assert parse_body(raw) == expected


def test_parse_body_decodes_a_double_encoded_body() -> None:
    assert parse_body(json.dumps(json.dumps({"run_id": "r"}))) == {"run_id": "r"}


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b'"just text"'])
def test_parse_body_rejects_non_objects(raw: bytes) -> None:
    with pytest.raises(InvalidParameter):
        parse_body(raw)


def test_create_experiment_round_trip() -> None:
    values = {"name": "exp", "artifact_location": "s3://b", "tags": [ExperimentTag("k", "v")]}
    assert over_the_wire("CreateExperiment", values) == values


def test_log_batch_round_trip_with_non_finite_metric() -> None:
    values = {
        "run_id": RUN_ID,
        "metrics": [Metric("loss", math.nan, 1, 2), Metric("acc", math.inf, 3)],
        "params": [Param("lr", "0.1")],
        "tags": [RunTag("t", "")],
    }
    assert over_the_wire("LogBatch", values) == values


def test_log_inputs_round_trip() -> None:
    dataset_input = DatasetInput(Dataset("d", "1", "local", "{}"))
    values = {"run_id": RUN_ID, "datasets": [dataset_input], "models": [ModelInput("m-1")]}
    assert over_the_wire("LogInputs", values) == values


def test_log_outputs_round_trip() -> None:
    values = {"run_id": RUN_ID, "models": [ModelOutput("m-1", 3), ModelOutput("m-2")]}
    assert over_the_wire("LogOutputs", values) == values
    body = encode_request(route("LogOutputs"), values)
    assert body["models"] == [{"model_id": "m-1", "step": 3}, {"model_id": "m-2", "step": 0}]


def test_search_logged_models_round_trip() -> None:
    values = {
        "experiment_ids": ["1"],
        "filter": "metrics.acc > 0.5",
        "datasets": [LoggedModelDataset("eval", "d1"), LoggedModelDataset("train")],
        "max_results": 10,
        "order_by": [
            LoggedModelOrderBy("metrics.acc", ascending=False, dataset_name="eval"),
            LoggedModelOrderBy("name"),
        ],
        "page_token": "tok",
    }
    assert over_the_wire("SearchLoggedModels", values) == values
    body = encode_request(route("SearchLoggedModels"), values)
    assert body["order_by"][1] == {"field_name": "name", "ascending": True}
    assert body["datasets"][1] == {"dataset_name": "train"}


def test_finalize_status_is_sent_by_name_and_read_by_name_or_number() -> None:
    values = {"model_id": "m-1", "status": LoggedModelStatus.READY}
    body = encode_request(route("FinalizeLoggedModel"), values)
    assert body["status"] == "LOGGED_MODEL_READY"
    for spelled in ("LOGGED_MODEL_READY", 2, "2", "ready"):
        parsed = parse_request(route("FinalizeLoggedModel"), {"model_id": "m", "status": spelled})
        assert parsed["status"] is LoggedModelStatus.READY
    with pytest.raises(InvalidParameter):
        parse_request(route("FinalizeLoggedModel"), {"model_id": "m", "status": "DONE"})
    with pytest.raises(InvalidParameter):
        parse_request(route("FinalizeLoggedModel"), {"model_id": "m", "status": True})


def test_update_run_encodes_enum_name_and_fills_run_uuid() -> None:
    body = encode_request(route("UpdateRun"), {"run_id": RUN_ID, "status": RunStatus.FINISHED})
    assert body == {"run_id": RUN_ID, "run_uuid": RUN_ID, "status": "FINISHED"}


def test_update_run_accepts_numeric_status_and_string_int64() -> None:
    body = {"run_uuid": RUN_ID, "status": 4, "end_time": "1700000000000"}
    values = parse_request(route("UpdateRun"), body)
    assert values == {"run_uuid": RUN_ID, "status": RunStatus.FAILED, "end_time": 1700000000000}
    assert run_id_of(values) == RUN_ID


def test_search_runs_round_trip() -> None:
    values = {
        "experiment_ids": ["1", "2"],
        "filter": "metrics.loss < 1",
        "run_view_type": ViewType.ALL,
        "max_results": 10,
        "order_by": ["start_time DESC"],
        "page_token": "abc",
    }
    body = encode_request(route("SearchRuns"), values)
    assert body["run_view_type"] == "ALL"
    assert over_the_wire("SearchRuns", values) == values


def test_lower_camel_fields_are_accepted() -> None:
    body = {"runId": RUN_ID, "key": "k", "value": 1, "timestamp": 5}
    assert parse_request(route("LogMetric"), body) == {
        "run_id": RUN_ID,
        "key": "k",
        "value": 1.0,
        "timestamp": 5,
    }


def test_a_field_spelled_both_ways_is_rejected() -> None:
    body = {"experiment_id": "1", "experimentId": "1", "key": "k", "value": "v"}
    with pytest.raises(InvalidParameter, match="'experiment_id' is given twice"):
        parse_request(route("SetExperimentTag"), body)


@pytest.mark.parametrize(
    ("name", "body", "missing"),
    [
        ("CreateExperiment", {}, "name"),
        ("GetExperiment", {}, "experiment_id"),
        ("SetTag", {"run_id": RUN_ID, "value": "v"}, "key"),
        ("LogMetric", {"run_id": RUN_ID, "key": "k", "value": 1}, "timestamp"),
        ("DeleteTag", {"key": "k"}, "run_id"),
        ("CreateExperiment", {"name": None}, "name"),
    ],
)
def test_missing_required_field(name: str, body: dict[str, Any], missing: str) -> None:
    with pytest.raises(InvalidParameter, match=f"Missing value for required parameter '{missing}'"):
        parse_request(route(name), body)


def test_run_id_of_requires_one_spelling() -> None:
    assert run_id_of({"run_id": "a", "run_uuid": "a"}) == "a"
    with pytest.raises(InvalidParameter, match="'run_id'"):
        run_id_of({})


@pytest.mark.parametrize(
    ("name", "body", "field"),
    [
        ("LogMetric", {"key": "k", "value": "big", "timestamp": 1}, "value"),
        ("LogMetric", {"key": "k", "value": 1, "timestamp": 1.5}, "timestamp"),
        ("SearchRuns", {"experiment_ids": "1"}, "experiment_ids"),
        ("SearchRuns", {"run_view_type": "SOME"}, "run_view_type"),
        ("CreateExperiment", {"name": 3}, "name"),
        ("LogBatch", {"metrics": [{"key": "k"}]}, "value"),
    ],
)
def test_badly_typed_fields_are_invalid_parameters(
    name: str, body: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidParameter, match=f"'{field}'"):
        parse_request(route(name), body)


def test_unknown_fields_are_ignored() -> None:
    assert parse_request(route("GetExperiment"), {"experiment_id": "1", "extra": 2}) == {
        "experiment_id": "1"
    }


def test_get_request_through_the_query_string() -> None:
    values = {"run_ids": ["a", "b"], "metric_key": "loss", "start_step": 0, "max_results": 5}
    pairs = encode_query(route("GetMetricHistoryBulkInterval"), values)
    assert pairs == [
        ("run_ids", "a"),
        ("run_ids", "b"),
        ("metric_key", "loss"),
        ("start_step", "0"),
        ("max_results", "5"),
    ]
    parsed = parse_request(
        route("GetMetricHistoryBulkInterval"), query_lists(pairs), from_query=True
    )
    assert parsed == values


def test_single_query_occurrence_of_a_repeated_field_is_a_list() -> None:
    params = query_lists([("run_ids", "a"), ("metric_key", "m")])
    parsed = parse_request(route("GetMetricHistoryBulkInterval"), params, from_query=True)
    assert parsed["run_ids"] == ["a"]


def test_get_run_query_sends_both_ids() -> None:
    pairs = encode_query(route("GetRun"), {"run_id": RUN_ID})
    assert pairs == [("run_id", RUN_ID), ("run_uuid", RUN_ID)]
    assert run_id_of(parse_request(route("GetRun"), query_lists(pairs), from_query=True)) == RUN_ID


def test_search_experiments_as_a_get() -> None:
    params = query_lists(
        [("view_type", "deleted_only"), ("max_results", "7"), ("order_by", "name")]
    )
    parsed = parse_request(route("SearchExperiments"), params, from_query=True)
    assert parsed == {"view_type": ViewType.DELETED_ONLY, "max_results": 7, "order_by": ["name"]}
    assert encode_query(route("SearchExperiments"), {"view_type": ViewType.ALL}) == [
        ("view_type", "ALL")
    ]


def test_missing_required_query_field() -> None:
    with pytest.raises(InvalidParameter, match="'metric_key'"):
        parse_request(route("GetMetricHistory"), query_lists([("run_id", "r")]), from_query=True)


def test_encoding_an_unknown_field_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="no request fields"):
        encode_request(route("GetRun"), {"run": "x"})


def test_query_booleans_use_python_spelling_both_ways() -> None:
    entry = Route("ListThings", "GET", "/mlflow/things/list", request=(Field("deep", "bool"),))
    assert encode_query(entry, {"deep": True}) == [("deep", "True")]
    assert parse_request(entry, {"deep": ["FALSE"]}, from_query=True) == {"deep": False}
    with pytest.raises(InvalidParameter, match="'deep'"):
        parse_request(entry, {"deep": ["yes"]}, from_query=True)


def test_every_field_kind_has_a_decoder_and_an_encoder() -> None:
    from typing import get_args

    from wayline.protocol import request
    from wayline.protocol.routes import FieldKind

    kinds = set(get_args(FieldKind))
    assert set(request._DECODERS) == kinds
    assert set(request._ENCODERS) == kinds
