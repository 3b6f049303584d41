"""Entities to MLflow JSON and back: exact shapes, omitted fields, every accepted spelling."""

from __future__ import annotations

import json
import math

import pytest

from wayline.entities import (
    Dataset,
    DatasetInput,
    Experiment,
    ExperimentTag,
    InputTag,
    LifecycleStage,
    Metric,
    PagedList,
    Param,
    Run,
    RunData,
    RunInfo,
    RunInputs,
    RunStatus,
    RunTag,
)
from wayline.errors import InvalidParameter
from wayline.protocol.tracking import (
    decode_dataset,
    decode_dataset_input,
    decode_experiment,
    decode_experiment_tag,
    decode_input_tag,
    decode_metric,
    decode_page,
    decode_param,
    decode_run,
    decode_run_info,
    decode_run_tag,
    encode_dataset,
    encode_dataset_input,
    encode_experiment,
    encode_metric,
    encode_page,
    encode_run,
    encode_run_info,
    encode_tag,
)

RUN_ID = "0123456789abcdef0123456789abcdef"


def make_info(**changes: object) -> RunInfo:
    fields: dict[str, object] = {
        "run_id": RUN_ID,
        "experiment_id": "1",
        "run_name": "brave-owl-7",
        "user_id": "ada",
        "status": RunStatus.RUNNING,
        "start_time": 1700000000000,
        "end_time": None,
        "artifact_uri": f"mlflow-artifacts:/1/{RUN_ID}/artifacts",
    }
    fields.update(changes)
    return RunInfo(**fields)  # type: ignore[arg-type]


def make_dataset_input() -> DatasetInput:
    dataset = Dataset(
        name="train",
        digest="b7766ffa",
        source_type="s3",
        source='{"uri": "s3://bucket/data.csv"}',
        schema='{"mlflow_colspec": []}',
        profile='{"num_rows": 3}',
    )
    return DatasetInput(dataset, [InputTag("mlflow.data.context", "training")])


def make_run() -> Run:
    data = RunData(
        latest_metrics=[Metric("loss", 0.25, 1700000000500, step=3), Metric("acc", math.nan, 5)],
        param_list=[Param("lr", "0.1")],
        tag_list=[RunTag("mlflow.runName", "brave-owl-7")],
    )
    return Run(make_info(), data, RunInputs([make_dataset_input()]))


def through_json(value: object) -> object:
    """What the other side of the wire receives."""
    return json.loads(json.dumps(value, allow_nan=False))


# ---------------------------------------------------------------- key/value records
def test_tags_and_params_round_trip() -> None:
    assert encode_tag(RunTag("k", "")) == {"key": "k", "value": ""}
    assert decode_run_tag(encode_tag(RunTag("k", "v"))) == RunTag("k", "v")
    assert decode_experiment_tag(encode_tag(ExperimentTag("k", "v"))) == ExperimentTag("k", "v")
    assert decode_param(encode_tag(Param("k", "v"))) == Param("k", "v")
    assert decode_input_tag(encode_tag(InputTag("k", "v"))) == InputTag("k", "v")


def test_tag_without_value_decodes_to_empty_string() -> None:
    assert decode_run_tag({"key": "k"}) == RunTag("k", "")


def test_tag_without_key_is_rejected() -> None:
    with pytest.raises(InvalidParameter, match="Missing value for required parameter 'key'"):
        decode_param({"value": "v"})


# ---------------------------------------------------------------- metrics
def test_metric_shape_emits_step_and_omits_unset_optionals() -> None:
    metric = Metric("loss", 0.5, 1700000000000)
    assert encode_metric(metric) == {
        "key": "loss",
        "value": 0.5,
        "timestamp": 1700000000000,
        "step": 0,
    }
    assert decode_metric(through_json(encode_metric(metric))) == metric


def test_metric_with_every_field_round_trips() -> None:
    metric = Metric("loss", 1.0, 10, 2, "train", "abc", "m-1", RUN_ID)
    encoded = encode_metric(metric)
    assert encoded["run_id"] == RUN_ID
    assert decode_metric(through_json(encoded)) == metric


@pytest.mark.parametrize(
    ("value", "wire"), [(math.nan, "NaN"), (math.inf, "Infinity"), (-math.inf, "-Infinity")]
)
def test_non_finite_metric_values_travel_as_strings(value: float, wire: str) -> None:
    metric = Metric("m", value, 1)
    encoded = encode_metric(metric)
    assert encoded["value"] == wire
    decoded = decode_metric(through_json(encoded))
    assert decoded == metric
    assert math.isnan(decoded.value) if math.isnan(value) else decoded.value == value


def test_metric_accepts_numeric_strings_and_defaults_step() -> None:
    decoded = decode_metric({"key": "m", "value": "1.5", "timestamp": "1700000000000"})
    assert decoded == Metric("m", 1.5, 1700000000000, 0)
    assert decode_metric({"key": "m", "value": 2, "timestamp": 1, "step": "5"}).step == 5


def test_metric_ignores_unknown_fields() -> None:
    assert decode_metric({"key": "m", "value": 1, "timestamp": 1, "new": 1}) == Metric("m", 1, 1)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"value": 1, "timestamp": 1}, "'key'"),
        ({"key": "m", "timestamp": 1}, "'value'"),
        ({"key": "m", "value": 1}, "'timestamp'"),
        ({"key": "m", "value": True, "timestamp": 1}, "'value'"),
        ({"key": "m", "value": 1, "timestamp": "soon"}, "'timestamp'"),
        ("not an object", "JSON object"),
    ],
)
def test_bad_metrics_are_invalid_parameters(payload: object, message: str) -> None:
    with pytest.raises(InvalidParameter, match=message):
        decode_metric(payload)


# ---------------------------------------------------------------- datasets
def test_dataset_input_round_trip_and_shape() -> None:
    dataset_input = make_dataset_input()
    encoded = encode_dataset_input(dataset_input)
    assert encoded["tags"] == [{"key": "mlflow.data.context", "value": "training"}]
    assert encoded["dataset"]["source_type"] == "s3"
    assert decode_dataset_input(through_json(encoded)) == dataset_input


def test_dataset_without_schema_or_profile_omits_them() -> None:
    dataset = Dataset("d", "1234", "local", "{}")
    assert set(encode_dataset(dataset)) == {"name", "digest", "source_type", "source"}
    assert decode_dataset(encode_dataset(dataset)) == dataset
    assert encode_dataset_input(DatasetInput(dataset)) == {"dataset": encode_dataset(dataset)}


def test_dataset_requires_its_identity() -> None:
    with pytest.raises(InvalidParameter, match="'source_type'"):
        decode_dataset({"name": "d", "digest": "1", "source": "{}"})


# ---------------------------------------------------------------- experiments
def test_experiment_shape_and_round_trip() -> None:
    experiment = Experiment(
        "1",
        "exp",
        "mlflow-artifacts:/1",
        tags={"team": "a", "x": ""},
        creation_time=5,
        last_update_time=6,
    )
    encoded = encode_experiment(experiment)
    assert encoded == {
        "experiment_id": "1",
        "name": "exp",
        "artifact_location": "mlflow-artifacts:/1",
        "lifecycle_stage": "active",
        "last_update_time": 6,
        "creation_time": 5,
        "tags": [{"key": "team", "value": "a"}, {"key": "x", "value": ""}],
    }
    assert decode_experiment(through_json(encoded)) == experiment


def test_experiment_without_tags_or_times_omits_them() -> None:
    experiment = Experiment("0", "Default", "/tmp/0", LifecycleStage.DELETED)
    encoded = encode_experiment(experiment)
    assert set(encoded) == {"experiment_id", "name", "artifact_location", "lifecycle_stage"}
    assert encoded["lifecycle_stage"] == "deleted"
    decoded = decode_experiment(encoded)
    assert decoded == experiment
    assert decoded.lifecycle_stage is LifecycleStage.DELETED


def test_experiment_accepts_string_times() -> None:
    decoded = decode_experiment({"experiment_id": "3", "creation_time": "1700000000000"})
    assert decoded.creation_time == 1700000000000
    assert decoded.lifecycle_stage == "active"


# ---------------------------------------------------------------- runs
def test_run_info_emits_both_ids_and_omits_end_time_while_running() -> None:
    encoded = encode_run_info(make_info())
    assert encoded["run_id"] == encoded["run_uuid"] == RUN_ID
    assert encoded["status"] == "RUNNING"
    assert "end_time" not in encoded
    assert decode_run_info(through_json(encoded)) == make_info()


def test_finished_run_info_round_trips_with_end_time() -> None:
    info = make_info(status="FINISHED", end_time=1700000009000, lifecycle_stage="deleted")
    encoded = encode_run_info(info)
    assert encoded["end_time"] == 1700000009000
    assert encoded["lifecycle_stage"] == "deleted"
    assert decode_run_info(through_json(encoded)) == info


def test_run_info_accepts_numeric_status_and_legacy_run_uuid() -> None:
    decoded = decode_run_info({"run_uuid": RUN_ID, "status": 3, "start_time": "1700000000000"})
    assert decoded.run_id == RUN_ID
    assert decoded.status is RunStatus.FINISHED
    assert decoded.start_time == 1700000000000


def test_run_info_requires_an_id() -> None:
    with pytest.raises(InvalidParameter, match="'run_id'"):
        decode_run_info({"status": "RUNNING"})


def test_run_round_trip_carries_latest_metrics_with_step_and_timestamp() -> None:
    run = make_run()
    encoded = encode_run(run)
    assert encoded["data"]["metrics"][0] == {
        "key": "loss",
        "value": 0.25,
        "timestamp": 1700000000500,
        "step": 3,
    }
    assert encoded["data"]["metrics"][1]["value"] == "NaN"
    assert decode_run(through_json(encoded)) == run


def test_empty_run_has_empty_data_and_inputs() -> None:
    run = Run(make_info())
    encoded = encode_run(run)
    assert encoded["data"] == {}
    assert encoded["inputs"] == {}
    assert decode_run(encoded) == run
    assert decode_run({"info": encoded["info"]}) == run


# ---------------------------------------------------------------- pages
def test_page_with_token_round_trips() -> None:
    page = PagedList([Metric("m", 1.0, 1), Metric("m", 2.0, 2, 1)], token="eyJvZmZzZXQiOiAxfQ==")
    encoded = encode_page("metrics", page, encode_metric)
    assert encoded["next_page_token"] == "eyJvZmZzZXQiOiAxfQ=="
    decoded = decode_page(through_json(encoded), "metrics", decode_metric)
    assert list(decoded) == list(page)
    assert decoded.token == page.token


def test_last_page_has_no_token_and_empty_page_is_empty_object() -> None:
    assert encode_page("runs", PagedList([], token=None), encode_run) == {}
    decoded = decode_page({"next_page_token": ""}, "runs", decode_run)
    assert list(decoded) == []
    assert decoded.token is None
