"""MLflow's write rules, shared by every store (and the server and client).

Every check raises ``InvalidParameter`` with a message saying what to change. Limits are those of
spec/rest-tracking.md §4.1; they are module constants so callers can quote them.

One exception, as in MLflow: a run param or tag value over its limit is cut to the limit (with a
warning in the log) rather than refused, unless the store was built with truncation off
(``WAYLINE_TRUNCATE_LONG_VALUES`` / ``MLFLOW_TRUNCATE_LONG_VALUES`` = false, read once by whoever
configures the store; see ``truncate_long_values_from_env``).
"""

from __future__ import annotations

import functools
import logging
import math
import posixpath
import re
from collections.abc import Iterable, Mapping, Sequence
from numbers import Integral, Real
from typing import TYPE_CHECKING

from wayline.entities import Param, RunTag
from wayline.errors import InvalidParameter, WaylineError

if TYPE_CHECKING:
    from wayline.entities import DatasetInput, ExperimentTag, Metric

MAX_KEY_LENGTH = 250
MAX_PARAM_VALUE_LENGTH = 6000
MAX_TAG_VALUE_LENGTH = 8000
MAX_EXPERIMENT_NAME_LENGTH = 500
MAX_EXPERIMENT_TAG_KEY_LENGTH = 250
MAX_EXPERIMENT_TAG_VALUE_LENGTH = 20000
MAX_ARTIFACT_LOCATION_LENGTH = 2000
MAX_RUN_NAME_LENGTH = 250
MAX_USER_ID_LENGTH = 256
MAX_DATASET_NAME_LENGTH = 500
MAX_DATASET_DIGEST_LENGTH = 36
MAX_DATASET_SOURCE_TYPE_LENGTH = 36
MAX_DATASET_SOURCE_LENGTH = 65535
MAX_DATASET_SCHEMA_LENGTH = 1048575
MAX_DATASET_PROFILE_LENGTH = 16777215
MAX_INPUT_TAG_KEY_LENGTH = 255
MAX_INPUT_TAG_VALUE_LENGTH = 500

MAX_METRICS_PER_BATCH = 1000
MAX_PARAMS_PER_BATCH = 100
MAX_TAGS_PER_BATCH = 100
MAX_ENTITIES_PER_BATCH = 1000

_KEY_CHARS = re.compile(r"^[/\w.\- :]*$")
_RUN_ID = re.compile(r"^[a-zA-Z0-9][\w\-]{0,255}$")
_EXPERIMENT_ID = re.compile(r"^[a-zA-Z0-9][\w\-]{0,63}$")

TRUNCATE_LONG_VALUES_ENV = ("WAYLINE_TRUNCATE_LONG_VALUES", "MLFLOW_TRUNCATE_LONG_VALUES")
_TRUE, _FALSE = ("true", "1"), ("false", "0")

_logger = logging.getLogger(__name__)


def _normalizes_elsewhere(name: str) -> bool:
    # Keys become file names in some artifact layouts, so a key must not resolve to another path.
    norm = posixpath.normpath(name)
    return norm != name or norm == "." or norm.startswith("..") or norm.startswith("/")


def validate_key(kind: str, key: object) -> str:
    """A metric, param or tag key: ``kind`` is "metric", "param" or "tag"."""
    if not isinstance(key, str):
        raise InvalidParameter(f"The {kind} key must be a string, got {type(key).__name__}.")
    _check_key(kind, key)
    return key


# Batches repeat a handful of keys many times: remember the ones already accepted.
@functools.lru_cache(maxsize=4096)
def _check_key(kind: str, key: str) -> None:
    if not key:
        raise InvalidParameter(f"The {kind} key must not be empty.")
    if not _KEY_CHARS.match(key):
        raise InvalidParameter(
            f"Invalid {kind} name: {key!r}. Names may only contain alphanumerics, underscores (_),"
            " dashes (-), periods (.), spaces ( ), colons (:) and slashes (/)."
        )
    if _normalizes_elsewhere(key):
        raise InvalidParameter(
            f"Invalid {kind} name: {key!r}. Names may be treated as files, so they must not start"
            " with '/' or contain '..', './' or '//'."
        )
    validate_length(f"{kind.capitalize()} key", key, MAX_KEY_LENGTH)


def validate_length(what: str, value: str | None, limit: int) -> None:
    if value is not None and len(value) > limit:
        raise InvalidParameter(
            f"{what} {_preview(value)} has length {len(value)}, which exceeds the limit of"
            f" {limit} characters."
        )


def _preview(value: str) -> str:
    return repr(value if len(value) <= 40 else value[:37] + "...")


def _require_str(what: str, value: object) -> str:
    if not isinstance(value, str):
        raise InvalidParameter(f"{what} must be a string, got {type(value).__name__}.")
    return value


# ------------------------------------------------------------------ run values


def truncate_long_values_from_env(environ: Mapping[str, str]) -> bool:
    """Whether over-long run param/tag values are truncated (the default) or refused.

    ``WAYLINE_TRUNCATE_LONG_VALUES`` first, then MLflow's ``MLFLOW_TRUNCATE_LONG_VALUES``;
    ``true``/``1`` or ``false``/``0`` in any case, as MLflow accepts.
    """
    for name in TRUNCATE_LONG_VALUES_ENV:
        raw = environ.get(name)
        if raw is None or not raw.strip():
            continue
        value = raw.strip().lower()
        if value in _TRUE or value in _FALSE:
            return value in _TRUE
        raise WaylineError(f"Invalid value {raw!r} for {name}: expected true or false.")
    return True


def _limited(what: str, value: str, limit: int, truncate: bool) -> str:
    """``value`` if within ``limit``; else cut to it (``truncate``) or refused."""
    if len(value) <= limit:
        return value
    if not truncate:
        validate_length(what, value, limit)
    _logger.warning(
        "%s %s (%d characters) is truncated to %d characters to meet the length limit.",
        what,
        _preview(value),
        len(value),
        limit,
    )
    return value[:limit]


def validate_param(param: Param, *, truncate: bool = False) -> Param:
    """The param to store: checked, its value cut to 6000 characters when ``truncate``."""
    validate_key("param", param.key)
    value = _require_str(f"The value of param {param.key!r}", param.value)
    if len(value) <= MAX_PARAM_VALUE_LENGTH:  # the common case builds nothing
        return param
    what = f"Param value for key {param.key!r}:"
    return Param(param.key, _limited(what, value, MAX_PARAM_VALUE_LENGTH, truncate))


def validate_tag(tag: RunTag, *, truncate: bool = False) -> RunTag:
    """The run tag to store: checked, its value cut to 8000 characters when ``truncate``."""
    validate_key("tag", tag.key)
    value = _require_str(f"The value of tag {tag.key!r}", tag.value)
    if len(value) <= MAX_TAG_VALUE_LENGTH:
        return tag
    what = f"Tag value for key {tag.key!r}:"
    return RunTag(tag.key, _limited(what, value, MAX_TAG_VALUE_LENGTH, truncate))


def validate_metric(metric: Metric) -> None:
    validate_key("metric", metric.key)
    value, timestamp, step = metric.value, metric.timestamp, metric.step
    # Exact-type checks first: the ABC checks below are slow and batches hold 1000 points.
    if type(value) is not float and (isinstance(value, bool) or not isinstance(value, Real)):
        raise InvalidParameter(
            f"Got invalid value {value!r} for metric {metric.key!r} (timestamp="
            f"{timestamp!r}). Please specify the value as a number (64-bit float)."
        )
    if type(timestamp) is not int or timestamp < 0:
        validate_timestamp(timestamp, f"Metric {metric.key!r}")
    if type(step) is not int and (isinstance(step, bool) or not isinstance(step, Integral)):
        raise InvalidParameter(
            f"Metric {metric.key!r} has an invalid step {step!r}: the step must be an integer."
        )


def validate_timestamp(timestamp: object, owner: str) -> None:
    if isinstance(timestamp, bool) or not isinstance(timestamp, Integral) or int(timestamp) < 0:
        raise InvalidParameter(
            f"{owner} has an invalid timestamp {timestamp!r}: timestamps are non-negative"
            " integers (milliseconds since the Unix epoch)."
        )


def metric_value_for_storage(value: float) -> tuple[float, bool]:
    """(stored value, is_nan): NaN becomes 0 + flag, infinities clamp to the largest double."""
    value = float(value)
    if math.isnan(value):
        return 0.0, True
    if math.isinf(value):
        return (math.copysign(1.7976931348623157e308, value), False)
    return value, False


def validate_batch(
    metrics: Sequence[Metric],
    params: Sequence[Param],
    tags: Sequence[RunTag],
    *,
    truncate: bool = False,
) -> tuple[Sequence[Param], Sequence[RunTag]]:
    """MLflow's log-batch limits, then every item; nothing is written if this raises.

    Returns the params and tags to store (over-long values cut when ``truncate``).
    """
    _check_batch_size("metrics", len(metrics), MAX_METRICS_PER_BATCH)
    _check_batch_size("params", len(params), MAX_PARAMS_PER_BATCH)
    _check_batch_size("tags", len(tags), MAX_TAGS_PER_BATCH)
    total = len(metrics) + len(params) + len(tags)
    if total > MAX_ENTITIES_PER_BATCH:
        raise InvalidParameter(
            f"A batch logging request can contain at most {MAX_ENTITIES_PER_BATCH} metrics,"
            f" params and tags in total; got {total}. Split the values across several requests."
        )
    seen: set[str] = set()
    duplicates: list[str] = []
    for param in params:
        if param.key in seen and param.key not in duplicates:
            duplicates.append(param.key)
        seen.add(param.key)
    if duplicates:
        raise InvalidParameter(
            f"Duplicate parameter keys have been submitted: {duplicates}. Send one value per"
            " param key."
        )
    for metric in metrics:
        validate_metric(metric)
    return (
        [validate_param(param, truncate=truncate) for param in params],
        [validate_tag(tag, truncate=truncate) for tag in tags],
    )


def _check_batch_size(kind: str, count: int, limit: int) -> None:
    if count > limit:
        raise InvalidParameter(
            f"A batch logging request can contain at most {limit} {kind}; got {count}."
            f" Split the {kind} across several requests."
        )


# ------------------------------------------------------------------ runs and experiments


def validate_run_name(name: str) -> None:
    _require_str("The run name", name)
    validate_length("Run name", name, MAX_RUN_NAME_LENGTH)


def validate_user_id(user_id: str) -> None:
    _require_str("The user id", user_id)
    validate_length("User id", user_id, MAX_USER_ID_LENGTH)


def validate_experiment_name(name: object) -> str:
    if not isinstance(name, str):
        raise InvalidParameter(f"The experiment name must be a string, got {type(name).__name__}.")
    if not name.strip():
        raise InvalidParameter("The experiment name must be a non-empty string.")
    validate_length("Experiment name", name, MAX_EXPERIMENT_NAME_LENGTH)
    return name


def validate_artifact_location(location: str | None) -> None:
    if location is not None:
        _require_str("The artifact location", location)
        validate_length("Artifact location", location, MAX_ARTIFACT_LOCATION_LENGTH)


def validate_experiment_tag(tag: ExperimentTag) -> None:
    validate_key("experiment tag", tag.key)
    validate_length("Experiment tag key", tag.key, MAX_EXPERIMENT_TAG_KEY_LENGTH)
    value = _require_str(f"The value of experiment tag {tag.key!r}", tag.value)
    validate_length(
        f"Experiment tag value for key {tag.key!r}:", value, MAX_EXPERIMENT_TAG_VALUE_LENGTH
    )


def validate_run_id(run_id: object) -> str:
    if not isinstance(run_id, str) or not _RUN_ID.match(run_id):
        raise InvalidParameter(
            f"Invalid run ID {run_id!r}: a run ID starts with a letter or digit followed by up to"
            " 255 letters, digits, underscores or dashes."
        )
    return run_id


def validate_experiment_id(experiment_id: object) -> str:
    if not isinstance(experiment_id, str) or not _EXPERIMENT_ID.match(experiment_id):
        raise InvalidParameter(
            f"Invalid experiment ID {experiment_id!r}: an experiment ID starts with a letter or"
            " digit followed by up to 63 letters, digits, underscores or dashes."
        )
    return experiment_id


def validate_max_results(max_results: object, limit: int, what: str = "max_results") -> int:
    if (
        isinstance(max_results, bool)
        or not isinstance(max_results, Integral)
        or not 0 < int(max_results) <= limit
    ):
        raise InvalidParameter(
            f"Invalid value {max_results!r} for parameter '{what}': it must be a positive"
            f" integer no larger than {limit}."
        )
    return int(max_results)


# ------------------------------------------------------------------ datasets


def validate_dataset_inputs(inputs: Iterable[DatasetInput]) -> None:
    for dataset_input in inputs:
        dataset = dataset_input.dataset
        for field, limit in (
            ("name", MAX_DATASET_NAME_LENGTH),
            ("digest", MAX_DATASET_DIGEST_LENGTH),
            ("source_type", MAX_DATASET_SOURCE_TYPE_LENGTH),
            ("source", MAX_DATASET_SOURCE_LENGTH),
        ):
            value = getattr(dataset, field)
            if not isinstance(value, str) or not value:
                raise InvalidParameter(
                    f"Dataset field '{field}' is required and must be a non-empty string."
                )
            validate_length(f"Dataset {field}", value, limit)
        validate_length("Dataset schema", dataset.schema, MAX_DATASET_SCHEMA_LENGTH)
        validate_length("Dataset profile", dataset.profile, MAX_DATASET_PROFILE_LENGTH)
        for tag in dataset_input.tags:
            key = _require_str("An input tag key", tag.key)
            if not key:
                raise InvalidParameter("Input tag keys must not be empty.")
            validate_length("Input tag key", key, MAX_INPUT_TAG_KEY_LENGTH)
            value = _require_str(f"The value of input tag {key!r}", tag.value)
            validate_length(f"Input tag value for key {key!r}:", value, MAX_INPUT_TAG_VALUE_LENGTH)


__all__ = [
    "MAX_ENTITIES_PER_BATCH",
    "MAX_KEY_LENGTH",
    "MAX_METRICS_PER_BATCH",
    "MAX_PARAMS_PER_BATCH",
    "MAX_PARAM_VALUE_LENGTH",
    "MAX_TAGS_PER_BATCH",
    "MAX_TAG_VALUE_LENGTH",
    "TRUNCATE_LONG_VALUES_ENV",
    "metric_value_for_storage",
    "truncate_long_values_from_env",
    "validate_artifact_location",
    "validate_batch",
    "validate_dataset_inputs",
    "validate_experiment_id",
    "validate_experiment_name",
    "validate_experiment_tag",
    "validate_key",
    "validate_length",
    "validate_max_results",
    "validate_metric",
    "validate_param",
    "validate_run_id",
    "validate_run_name",
    "validate_tag",
    "validate_timestamp",
    "validate_user_id",
]
