"""Tracking entities to and from MLflow's JSON dict shapes (spec rest-tracking.md §2).

Covers experiments, runs (with their inputs and outputs) and logged models.

Shared by the server and the REST client so the two cannot drift. Encoders follow proto2
"has-field" rules: a field the entity leaves unset (None, or an empty list) is omitted, while
fields that are always set (strings of RunInfo, a metric's step) are emitted even when empty.
Decoders ignore unknown keys, accept every spelling the wire allows (see ``values``) and return
entities equal to the ones encoded.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from wayline.entities import (
    Dataset,
    DatasetInput,
    DatasetSummary,
    Experiment,
    ExperimentTag,
    InputTag,
    LifecycleStage,
    LoggedModel,
    LoggedModelDataset,
    LoggedModelOrderBy,
    LoggedModelStatus,
    LoggedModelTag,
    Metric,
    ModelInput,
    ModelOutput,
    PagedList,
    Param,
    Run,
    RunData,
    RunInfo,
    RunInputs,
    RunOutputs,
    RunStatus,
    RunTag,
)
from wayline.entities.builders import new_metric, new_param, new_tag
from wayline.errors import InvalidParameter
from wayline.protocol.values import (
    encode_double,
    missing_parameter,
    parse_bool,
    parse_double,
    parse_int,
    parse_run_status,
    parse_str,
)

JsonDict = dict[str, Any]
T = TypeVar("T")


# ---------------------------------------------------------------- helpers
def as_object(value: object, name: str = "") -> Mapping[str, Any]:
    """``value`` as a JSON object; InvalidParameter if it is anything else."""
    if isinstance(value, Mapping):
        return value
    where = f" for '{name}'" if name else ""
    raise InvalidParameter(f"Invalid value {value!r}{where}: expected a JSON object.")


def as_list(value: object, name: str = "") -> list[Any]:
    if isinstance(value, list):
        return value
    where = f" for '{name}'" if name else ""
    raise InvalidParameter(f"Invalid value {value!r}{where}: expected a JSON list.")


def _required(obj: Mapping[str, Any], key: str) -> Any:
    value = obj.get(key)
    if value is None:
        raise missing_parameter(key)
    return value


def _text(obj: Mapping[str, Any], key: str) -> str:
    """A string field that proto treats as '' when absent."""
    value = obj.get(key)
    return "" if value is None else parse_str(value, key)


def _optional_text(obj: Mapping[str, Any], key: str) -> str | None:
    value = obj.get(key)
    return None if value is None else parse_str(value, key)


def _optional_int(obj: Mapping[str, Any], key: str) -> int | None:
    value = obj.get(key)
    return None if value is None else parse_int(value, key)


def _items(obj: Mapping[str, Any], key: str, decode: Callable[[object], T]) -> list[T]:
    value = obj.get(key)
    return [] if value is None else [decode(item) for item in as_list(value, key)]


def _put(out: JsonDict, key: str, value: object) -> None:
    """Set ``key`` unless ``value`` is unset (None or an empty list)."""
    if value is not None and value != []:
        out[key] = value


def _lifecycle(value: str) -> str:
    # Known stages come back as the enum so entities compare equal however they were built.
    try:
        return LifecycleStage(value)
    except ValueError:
        return value


# ---------------------------------------------------------------- key/value records
def encode_tag(tag: RunTag | ExperimentTag | Param | InputTag | LoggedModelTag) -> JsonDict:
    return {"key": tag.key, "value": tag.value}


def _key_value(value: object) -> tuple[str, str]:
    if type(value) is dict:  # the common case, checked without as_object's ABC machinery
        key, text = value.get("key"), value.get("value")
        if type(key) is str and type(text) is str:
            return key, text
    obj = as_object(value)
    return parse_str(_required(obj, "key"), "key"), _text(obj, "value")


def decode_run_tag(value: object) -> RunTag:
    return new_tag(*_key_value(value))


def decode_experiment_tag(value: object) -> ExperimentTag:
    return ExperimentTag(*_key_value(value))


def decode_param(value: object) -> Param:
    return new_param(*_key_value(value))


def decode_input_tag(value: object) -> InputTag:
    return InputTag(*_key_value(value))


def decode_logged_model_tag(value: object) -> LoggedModelTag:
    return LoggedModelTag(*_key_value(value))


# ---------------------------------------------------------------- metrics
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def encode_metric(metric: Metric) -> JsonDict:
    value = metric.value
    out: JsonDict = {
        "key": metric.key,
        "value": value if math.isfinite(value) else encode_double(value),
        "timestamp": metric.timestamp,
        "step": metric.step,
    }
    # Histories and search pages encode up to 200,000 points, nearly all of them bare.
    if metric.dataset_name or metric.dataset_digest or metric.model_id or metric.run_id:
        _put(out, "dataset_name", metric.dataset_name)
        _put(out, "dataset_digest", metric.dataset_digest)
        _put(out, "model_id", metric.model_id)
        _put(out, "run_id", metric.run_id)
    return out


def decode_metric(value: object) -> Metric:
    # Histories decode 200,000 of these, so the common case skips as_object's ABC check.
    obj = value if type(value) is dict else as_object(value, "metric")
    key, number = obj.get("key"), obj.get("value")
    timestamp, step = obj.get("timestamp"), obj.get("step")
    # What clients send for nearly every point, checked by exact type (bool is not an int here):
    # a log-batch body holds up to 1000 of them, so the general path's checks add up.
    if (
        type(key) is str
        and type(number) is float
        and not math.isnan(number)  # NaN takes the general path, which normalises it
        and type(timestamp) is int
        and type(step) is int
        and _INT64_MIN <= timestamp <= _INT64_MAX
        and _INT64_MIN <= step <= _INT64_MAX
        and len(obj) == 4 + ("run_id" in obj)  # no dataset or model fields
    ):
        run_id = obj.get("run_id")
        if run_id is None or type(run_id) is str:
            return new_metric(key, number, timestamp, step, run_id)
    return Metric(
        key=parse_str(_required(obj, "key"), "key"),
        value=parse_double(_required(obj, "value"), "value"),
        timestamp=parse_int(_required(obj, "timestamp"), "timestamp"),
        step=_optional_int(obj, "step") or 0,
        dataset_name=_optional_text(obj, "dataset_name"),
        dataset_digest=_optional_text(obj, "dataset_digest"),
        model_id=_optional_text(obj, "model_id"),
        run_id=_optional_text(obj, "run_id"),
    )


# ---------------------------------------------------------------- datasets
def encode_dataset(dataset: Dataset) -> JsonDict:
    out: JsonDict = {
        "name": dataset.name,
        "digest": dataset.digest,
        "source_type": dataset.source_type,
        "source": dataset.source,
    }
    _put(out, "schema", dataset.schema)
    _put(out, "profile", dataset.profile)
    return out


def encode_dataset_summary(summary: DatasetSummary) -> JsonDict:
    out: JsonDict = {
        "experiment_id": summary.experiment_id,
        "name": summary.name,
        "digest": summary.digest,
    }
    _put(out, "context", summary.context)
    return out


def decode_dataset_summary(value: object) -> DatasetSummary:
    obj = as_object(value, "dataset_summary")
    return DatasetSummary(
        experiment_id=str(_required(obj, "experiment_id")),
        name=str(_required(obj, "name")),
        digest=str(_required(obj, "digest")),
        context=obj.get("context") or None,
    )


def decode_dataset(value: object) -> Dataset:
    obj = as_object(value, "dataset")
    return Dataset(
        name=parse_str(_required(obj, "name"), "name"),
        digest=parse_str(_required(obj, "digest"), "digest"),
        source_type=parse_str(_required(obj, "source_type"), "source_type"),
        source=parse_str(_required(obj, "source"), "source"),
        schema=_optional_text(obj, "schema"),
        profile=_optional_text(obj, "profile"),
    )


def encode_dataset_input(dataset_input: DatasetInput) -> JsonDict:
    out: JsonDict = {}
    _put(out, "tags", [encode_tag(tag) for tag in dataset_input.tags])
    out["dataset"] = encode_dataset(dataset_input.dataset)
    return out


def decode_dataset_input(value: object) -> DatasetInput:
    obj = as_object(value, "dataset_input")
    return DatasetInput(
        dataset=decode_dataset(_required(obj, "dataset")),
        tags=_items(obj, "tags", decode_input_tag),
    )


# ---------------------------------------------------------------- experiments
def encode_experiment(experiment: Experiment) -> JsonDict:
    out: JsonDict = {
        "experiment_id": experiment.experiment_id,
        "name": experiment.name,
        "artifact_location": experiment.artifact_location,
        "lifecycle_stage": str(experiment.lifecycle_stage),
    }
    _put(out, "last_update_time", experiment.last_update_time)
    _put(out, "creation_time", experiment.creation_time)
    _put(out, "tags", [{"key": k, "value": v} for k, v in experiment.tags.items()])
    return out


def decode_experiment(value: object) -> Experiment:
    obj = as_object(value, "experiment")
    tags = _items(obj, "tags", decode_experiment_tag)
    return Experiment(
        experiment_id=parse_str(_required(obj, "experiment_id"), "experiment_id"),
        name=_text(obj, "name"),
        artifact_location=_text(obj, "artifact_location"),
        lifecycle_stage=_lifecycle(_text(obj, "lifecycle_stage") or LifecycleStage.ACTIVE),
        tags={tag.key: tag.value for tag in tags},
        creation_time=_optional_int(obj, "creation_time"),
        last_update_time=_optional_int(obj, "last_update_time"),
    )


# ---------------------------------------------------------------- runs
_RUN_STATUS_NAMES = frozenset(RunStatus.__members__)


def encode_run_info(info: RunInfo) -> JsonDict:
    status = info.status
    out: JsonDict = {
        # Both spellings: MLflow 3 clients read run_id, older ones run_uuid.
        "run_id": info.run_id,
        "run_uuid": info.run_id,
        "run_name": info.run_name,
        "experiment_id": info.experiment_id,
        "user_id": info.user_id,
        # Stored statuses are already names; anything else (a number) is normalised.
        "status": status
        if type(status) is str and status in _RUN_STATUS_NAMES
        else parse_run_status(status).value,
    }
    _put(out, "start_time", info.start_time)
    _put(out, "end_time", info.end_time)
    out["artifact_uri"] = info.artifact_uri
    out["lifecycle_stage"] = str(info.lifecycle_stage)
    return out


def decode_run_info(value: object) -> RunInfo:
    obj = as_object(value, "run_info")
    run_id = obj.get("run_id") or obj.get("run_uuid")
    status = obj.get("status")
    return RunInfo(
        run_id=parse_str(run_id if run_id is not None else _required(obj, "run_id"), "run_id"),
        experiment_id=_text(obj, "experiment_id"),
        run_name=_text(obj, "run_name"),
        user_id=_text(obj, "user_id"),
        # proto2 default of RunStatus is its first value, RUNNING.
        status=parse_run_status(status) if status is not None else "RUNNING",
        start_time=_optional_int(obj, "start_time"),
        end_time=_optional_int(obj, "end_time"),
        artifact_uri=_text(obj, "artifact_uri"),
        lifecycle_stage=_lifecycle(_text(obj, "lifecycle_stage") or LifecycleStage.ACTIVE),
    )


def encode_run_data(data: RunData) -> JsonDict:
    # A search page encodes thousands of these: the pairs are spelled out rather than passed
    # through encode_tag, which costs a call per pair.
    out: JsonDict = {}
    _put(out, "metrics", [encode_metric(metric) for metric in data.latest_metrics])
    _put(out, "params", [{"key": p.key, "value": p.value} for p in data.param_list])
    _put(out, "tags", [{"key": t.key, "value": t.value} for t in data.tag_list])
    return out


def decode_run_data(value: object) -> RunData:
    obj = as_object(value, "data")
    return RunData(
        latest_metrics=_items(obj, "metrics", decode_metric),
        param_list=_items(obj, "params", decode_param),
        tag_list=_items(obj, "tags", decode_run_tag),
    )


def encode_model_input(model: ModelInput) -> JsonDict:
    return {"model_id": model.model_id}


def decode_model_input(value: object) -> ModelInput:
    obj = as_object(value, "model_input")
    return ModelInput(parse_str(_required(obj, "model_id"), "model_id"))


def encode_model_output(model: ModelOutput) -> JsonDict:
    return {"model_id": model.model_id, "step": model.step}


def decode_model_output(value: object) -> ModelOutput:
    obj = as_object(value, "model_output")
    step = _optional_int(obj, "step")
    return ModelOutput(parse_str(_required(obj, "model_id"), "model_id"), step or 0)


def encode_run_inputs(inputs: RunInputs) -> JsonDict:
    out: JsonDict = {}
    _put(out, "dataset_inputs", [encode_dataset_input(d) for d in inputs.dataset_inputs])
    _put(out, "model_inputs", [encode_model_input(m) for m in inputs.model_inputs])
    return out


def decode_run_inputs(value: object) -> RunInputs:
    obj = as_object(value, "inputs")
    return RunInputs(
        dataset_inputs=_items(obj, "dataset_inputs", decode_dataset_input),
        model_inputs=_items(obj, "model_inputs", decode_model_input),
    )


def encode_run_outputs(outputs: RunOutputs) -> JsonDict:
    out: JsonDict = {}
    _put(out, "model_outputs", [encode_model_output(m) for m in outputs.model_outputs])
    return out


def decode_run_outputs(value: object) -> RunOutputs:
    obj = as_object(value, "outputs")
    return RunOutputs(model_outputs=_items(obj, "model_outputs", decode_model_output))


def encode_run(run: Run) -> JsonDict:
    return {
        "info": encode_run_info(run.info),
        "data": encode_run_data(run.data),
        "inputs": encode_run_inputs(run.inputs),
        "outputs": encode_run_outputs(run.outputs),
    }


def decode_run(value: object) -> Run:
    obj = as_object(value, "run")
    data, inputs, outputs = obj.get("data"), obj.get("inputs"), obj.get("outputs")
    return Run(
        info=decode_run_info(_required(obj, "info")),
        data=RunData() if data is None else decode_run_data(data),
        inputs=RunInputs() if inputs is None else decode_run_inputs(inputs),
        outputs=RunOutputs() if outputs is None else decode_run_outputs(outputs),
    )


# ---------------------------------------------------------------- logged models
def parse_logged_model_status(value: object, name: str = "status") -> LoggedModelStatus:
    """A LoggedModelStatus from its wire name, MLflow's short name or its number."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise InvalidParameter(f"Invalid value {value!r} for parameter '{name}'.")
    return LoggedModelStatus.from_string(value)


def encode_logged_model(model: LoggedModel) -> JsonDict:
    """``{info, data}`` as MLflow writes it: unset fields omitted, but ``model_type`` always."""
    info: JsonDict = {
        "model_id": model.model_id,
        "experiment_id": model.experiment_id,
        "name": model.name,
        "creation_timestamp_ms": model.creation_timestamp_ms,
        "last_updated_timestamp_ms": model.last_updated_timestamp_ms,
        "artifact_uri": model.artifact_uri,
        "status": LoggedModelStatus.from_string(model.status).wire_name,
    }
    _put(info, "creator_id", model.creator_id)
    info["model_type"] = model.model_type or ""  # the reference server always sets it
    _put(info, "source_run_id", model.source_run_id or None)
    _put(info, "status_message", model.status_message or None)
    _put(info, "tags", [{"key": k, "value": v} for k, v in model.tags.items()])
    data: JsonDict = {}
    _put(data, "params", [{"key": k, "value": v} for k, v in model.params.items()])
    _put(data, "metrics", [encode_metric(metric) for metric in model.metrics])
    return {"info": info, "data": data}


def decode_logged_model(value: object) -> LoggedModel:
    obj = as_object(value, "model")
    info = as_object(_required(obj, "info"), "info")
    data = as_object(obj.get("data") or {}, "data")
    status = info.get("status")
    return LoggedModel(
        model_id=parse_str(_required(info, "model_id"), "model_id"),
        experiment_id=_text(info, "experiment_id"),
        name=_text(info, "name"),
        artifact_uri=_text(info, "artifact_uri"),
        creation_timestamp_ms=_optional_int(info, "creation_timestamp_ms") or 0,
        last_updated_timestamp_ms=_optional_int(info, "last_updated_timestamp_ms") or 0,
        status=(
            LoggedModelStatus.UNSPECIFIED if status is None else parse_logged_model_status(status)
        ),
        creator_id=_optional_int(info, "creator_id"),
        # Unset strings read as "", as MLflow's client reads them from the proto.
        model_type=_optional_text(info, "model_type") or "",
        source_run_id=_optional_text(info, "source_run_id") or "",
        status_message=_optional_text(info, "status_message") or "",
        tags={t.key: t.value for t in _items(info, "tags", decode_logged_model_tag)},
        params={p.key: p.value for p in _items(data, "params", decode_param)},
        metrics=_items(data, "metrics", decode_metric),
    )


def encode_logged_model_dataset(dataset: LoggedModelDataset) -> JsonDict:
    out: JsonDict = {"dataset_name": dataset.dataset_name}
    _put(out, "dataset_digest", dataset.dataset_digest)
    return out


def decode_logged_model_dataset(value: object) -> LoggedModelDataset:
    obj = as_object(value, "datasets")
    return LoggedModelDataset(
        parse_str(_required(obj, "dataset_name"), "dataset_name"),
        _optional_text(obj, "dataset_digest") or None,
    )


def encode_logged_model_order_by(order: LoggedModelOrderBy) -> JsonDict:
    out: JsonDict = {"field_name": order.field_name, "ascending": bool(order.ascending)}
    _put(out, "dataset_name", order.dataset_name)
    _put(out, "dataset_digest", order.dataset_digest)
    return out


def decode_logged_model_order_by(value: object) -> LoggedModelOrderBy:
    obj = as_object(value, "order_by")
    ascending = obj.get("ascending")
    return LoggedModelOrderBy(
        field_name=parse_str(_required(obj, "field_name"), "field_name"),
        ascending=True if ascending is None else parse_bool(ascending, "ascending"),
        dataset_name=_optional_text(obj, "dataset_name") or None,
        dataset_digest=_optional_text(obj, "dataset_digest") or None,
    )


# ---------------------------------------------------------------- pages
def encode_page(key: str, page: Sequence[T], encode: Callable[[T], JsonDict]) -> JsonDict:
    """``{key: [...], "next_page_token": ...}``; both omitted when unset, as MLflow does."""
    out: JsonDict = {}
    _put(out, key, [encode(item) for item in page])
    token = getattr(page, "token", None)
    if token:
        out["next_page_token"] = token
    return out


def decode_page(response: object, key: str, decode: Callable[[object], T]) -> PagedList[T]:
    """The items under ``key`` and the opaque next-page token (None when absent or empty)."""
    obj = as_object(response, "response")
    token = obj.get("next_page_token")
    return PagedList(_items(obj, key, decode), token=parse_str(token) if token else None)


__all__ = [
    "JsonDict",
    "as_list",
    "as_object",
    "decode_dataset",
    "decode_dataset_input",
    "decode_dataset_summary",
    "decode_experiment",
    "decode_experiment_tag",
    "decode_input_tag",
    "decode_logged_model",
    "decode_logged_model_dataset",
    "decode_logged_model_order_by",
    "decode_logged_model_tag",
    "decode_metric",
    "decode_model_input",
    "decode_model_output",
    "decode_page",
    "decode_param",
    "decode_run",
    "decode_run_data",
    "decode_run_info",
    "decode_run_inputs",
    "decode_run_outputs",
    "decode_run_tag",
    "encode_dataset",
    "encode_dataset_input",
    "encode_dataset_summary",
    "encode_experiment",
    "encode_logged_model",
    "encode_logged_model_dataset",
    "encode_logged_model_order_by",
    "encode_metric",
    "encode_model_input",
    "encode_model_output",
    "encode_page",
    "encode_run",
    "encode_run_data",
    "encode_run_info",
    "encode_run_inputs",
    "encode_run_outputs",
    "encode_tag",
    "parse_logged_model_status",
]
