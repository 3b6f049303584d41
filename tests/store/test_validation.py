from __future__ import annotations

import math

import pytest

from wayline.entities import Dataset, DatasetInput, ExperimentTag, InputTag, Metric, Param, RunTag
from wayline.errors import InvalidParameter, WaylineError
from wayline.validation import (
    metric_value_for_storage,
    truncate_long_values_from_env,
    validate_batch,
    validate_dataset_inputs,
    validate_experiment_id,
    validate_experiment_name,
    validate_experiment_tag,
    validate_key,
    validate_max_results,
    validate_metric,
    validate_param,
    validate_run_id,
    validate_tag,
)


@pytest.mark.parametrize("key", ["loss", "a/b", "a.b-c_d e:f", "über", "x" * 250])
def test_accepts_valid_keys(key: str) -> None:
    assert validate_key("metric", key) == key


@pytest.mark.parametrize(
    "key", ["", "/abs", "a/../b", "..", "./a", "a//b", "a/.", "bad!", "semi;colon", "x" * 251]
)
def test_rejects_bad_keys(key: str) -> None:
    with pytest.raises(InvalidParameter):
        validate_key("param", key)


def test_rejects_non_string_key() -> None:
    with pytest.raises(InvalidParameter, match="must be a string"):
        validate_key("tag", 3)


def test_value_length_limits() -> None:
    validate_param(Param("p", "v" * 6000))
    with pytest.raises(InvalidParameter, match="6000"):
        validate_param(Param("p", "v" * 6001))
    validate_tag(RunTag("t", "v" * 8000))
    with pytest.raises(InvalidParameter, match="8000"):
        validate_tag(RunTag("t", "v" * 8001))


def test_long_values_truncated_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    short = Param("p", "v" * 6000)
    assert validate_param(short, truncate=True) is short  # nothing rebuilt within the limit
    with caplog.at_level("WARNING", logger="wayline.validation"):
        assert validate_param(Param("p", "v" * 6001), truncate=True) == Param("p", "v" * 6000)
        assert validate_tag(RunTag("t", "v" * 9000), truncate=True) == RunTag("t", "v" * 8000)
    assert [r.getMessage().split(" (")[1] for r in caplog.records] == [
        "6001 characters) is truncated to 6000 characters to meet the length limit.",
        "9000 characters) is truncated to 8000 characters to meet the length limit.",
    ]


def test_batch_truncates_params_and_tags() -> None:
    params, tags = validate_batch(
        [], [Param("p", "v" * 6001)], [RunTag("t", "v" * 8001)], truncate=True
    )
    assert (params, tags) == ([Param("p", "v" * 6000)], [RunTag("t", "v" * 8000)])
    with pytest.raises(InvalidParameter):
        validate_batch([], [Param("p", "v" * 6001)], [])


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, True),
        ({"MLFLOW_TRUNCATE_LONG_VALUES": "false"}, False),
        ({"MLFLOW_TRUNCATE_LONG_VALUES": "False"}, False),
        ({"WAYLINE_TRUNCATE_LONG_VALUES": "0", "MLFLOW_TRUNCATE_LONG_VALUES": "true"}, False),
        ({"WAYLINE_TRUNCATE_LONG_VALUES": "TRUE", "MLFLOW_TRUNCATE_LONG_VALUES": "0"}, True),
        ({"WAYLINE_TRUNCATE_LONG_VALUES": ""}, True),
    ],
)
def test_truncate_long_values_from_env(environ: dict[str, str], expected: bool) -> None:
    assert truncate_long_values_from_env(environ) is expected


def test_truncate_long_values_from_env_refuses_other_words() -> None:
    with pytest.raises(WaylineError, match="MLFLOW_TRUNCATE_LONG_VALUES"):
        truncate_long_values_from_env({"MLFLOW_TRUNCATE_LONG_VALUES": "maybe"})


@pytest.mark.parametrize("value", [True, "1.0", None, 1j])
def test_metric_value_must_be_a_number(value: object) -> None:
    with pytest.raises(InvalidParameter, match="number"):
        validate_metric(Metric("m", value, 0, 0))  # type: ignore[arg-type]


@pytest.mark.parametrize("timestamp", [-1, 1.5, "1", True])
def test_metric_timestamp_must_be_non_negative_int(timestamp: object) -> None:
    with pytest.raises(InvalidParameter, match="timestamp"):
        validate_metric(Metric("m", 1.0, timestamp, 0))  # type: ignore[arg-type]


def test_metric_step_must_be_int() -> None:
    validate_metric(Metric("m", 1, 0, -5))
    with pytest.raises(InvalidParameter, match="step"):
        validate_metric(Metric("m", 1.0, 0, 1.5))  # type: ignore[arg-type]


def test_storage_value_of_special_floats() -> None:
    assert metric_value_for_storage(float("nan")) == (0.0, True)
    assert metric_value_for_storage(float("inf")) == (1.7976931348623157e308, False)
    assert metric_value_for_storage(-math.inf) == (-1.7976931348623157e308, False)
    assert metric_value_for_storage(3) == (3.0, False)


def test_batch_limits() -> None:
    metrics = [Metric("m", 1.0, 0, i) for i in range(1000)]
    validate_batch(metrics, [], [])
    with pytest.raises(InvalidParameter, match="at most 1000 metrics"):
        validate_batch([*metrics, Metric("m", 1.0, 0, 0)], [], [])
    params = [Param(f"p{i}", "v") for i in range(101)]
    with pytest.raises(InvalidParameter, match="at most 100 params"):
        validate_batch([], params, [])
    tags = [RunTag(f"t{i}", "v") for i in range(101)]
    with pytest.raises(InvalidParameter, match="at most 100 tags"):
        validate_batch([], [], tags)
    with pytest.raises(InvalidParameter, match="1000 metrics, params and tags in total"):
        validate_batch(metrics[:950], params[:50], tags[:1])


def test_batch_rejects_duplicate_param_keys_even_with_equal_values() -> None:
    with pytest.raises(InvalidParameter, match=r"Duplicate parameter keys.*\['a'\]"):
        validate_batch([], [Param("a", "1"), Param("b", "1"), Param("a", "1")], [])


def test_experiment_rules() -> None:
    assert validate_experiment_name("x" * 500)
    for bad in ["", "   ", "x" * 501, None]:
        with pytest.raises(InvalidParameter):
            validate_experiment_name(bad)
    validate_experiment_tag(ExperimentTag("k", "v" * 20000))
    with pytest.raises(InvalidParameter):
        validate_experiment_tag(ExperimentTag("k", "v" * 20001))


def test_id_formats() -> None:
    assert validate_run_id("0123abcd" * 4)
    assert validate_experiment_id("12")
    for bad in ["", "-x", "a b", "x" * 257]:
        with pytest.raises(InvalidParameter):
            validate_run_id(bad)
    with pytest.raises(InvalidParameter):
        validate_experiment_id("x" * 65)


def test_max_results() -> None:
    assert validate_max_results(50000, 50000) == 50000
    for bad in [0, -1, 50001, True, 1.5]:
        with pytest.raises(InvalidParameter, match="max_results"):
            validate_max_results(bad, 50000)


def test_dataset_inputs() -> None:
    good = Dataset("d", "abc", "local", "{}")
    validate_dataset_inputs([DatasetInput(good, [InputTag("k", "v" * 500)])])
    for dataset in [
        Dataset("", "abc", "local", "{}"),
        Dataset("d", "x" * 37, "local", "{}"),
        Dataset("d", "abc", "local", ""),
        Dataset("d", "abc", "local", "{}", profile="x" * 16777216),
    ]:
        with pytest.raises(InvalidParameter):
            validate_dataset_inputs([DatasetInput(dataset)])
    with pytest.raises(InvalidParameter):
        validate_dataset_inputs([DatasetInput(good, [InputTag("k" * 256, "v")])])
