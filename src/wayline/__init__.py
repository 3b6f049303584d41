"""Wayline: MLflow-compatible experiment tracking. The fluent API lives here.

``import wayline as mlflow`` runs code written for MLflow's fluent API::

    import wayline as mlflow

    mlflow.set_experiment("demo")
    with mlflow.start_run():
        mlflow.log_param("lr", 0.01)
        mlflow.log_metric("loss", 0.3, step=1)

Importing stays light: pandas, NumPy and SQLAlchemy load only when a call needs them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from wayline import artifacts, data, entities
from wayline.entities import RunStatus, ViewType
from wayline.errors import MlflowException, WaylineError
from wayline.tracking.async_logging import RunOperations
from wayline.tracking.client import Client, MlflowClient
from wayline.tracking.fluent import (
    ActiveRun,
    active_run,
    create_experiment,
    delete_experiment,
    delete_run,
    end_run,
    get_experiment,
    get_experiment_by_name,
    get_run,
    last_active_run,
    search_experiments,
    set_experiment,
    start_run,
)
from wayline.tracking.fluent_artifacts import (
    get_artifact_uri,
    load_table,
    log_artifact,
    log_artifacts,
    log_dict,
    log_figure,
    log_image,
    log_table,
    log_text,
)
from wayline.tracking.fluent_log import (
    delete_tag,
    flush_async_logging,
    log_input,
    log_metric,
    log_metrics,
    log_param,
    log_params,
    search_runs,
    set_tag,
    set_tags,
)
from wayline.tracking.fluent_models import (
    create_external_model,
    delete_logged_model_tag,
    finalize_logged_model,
    get_active_model_id,
    get_logged_model,
    initialize_logged_model,
    last_logged_model,
    search_logged_models,
    set_active_model,
    set_logged_model_tags,
)
from wayline.tracking.fluent_registry import (
    register_model,
    search_model_versions,
    search_registered_models,
)
from wayline.tracking.uri import get_tracking_uri, is_tracking_uri_set, set_tracking_uri

if TYPE_CHECKING:  # loaded on first use below; type checkers see the real signatures
    from wayline.tracing import (
        add_trace,
        delete_assessment,
        delete_trace_tag,
        flush_trace_async_logging,
        get_active_trace_id,
        get_assessment,
        get_current_active_span,
        get_last_active_trace_id,
        get_trace,
        log_assessment,
        log_expectation,
        log_feedback,
        log_trace,
        override_feedback,
        search_traces,
        set_trace_tag,
        start_span,
        start_span_no_context,
        trace,
        update_assessment,
        update_current_trace,
    )

__version__ = "0.1.0"

# Submodules with heavy imports (pandas, model libraries) load on first attribute access, so
# ``wayline.pyfunc.load_model(...)`` works after a bare ``import wayline``, as with MLflow.
_LAZY_SUBMODULES = frozenset(
    {
        "anthropic",
        "genai",
        "lightgbm",
        "models",
        "onnx",
        "openai",
        "pyfunc",
        "pytorch",
        "sklearn",
        "tracing",
        "types",
        "xgboost",
    }
)

# The tracing API (MLflow 3's mlflow.trace, mlflow.start_span ...) loads on first use too: a
# script that never traces never pays for it, and the first span loads OpenTelemetry.
_TRACING_NAMES = frozenset(
    {
        "add_trace",
        "delete_assessment",
        "delete_trace_tag",
        "flush_trace_async_logging",
        "get_active_trace_id",
        "get_assessment",
        "get_current_active_span",
        "get_last_active_trace_id",
        "get_trace",
        "log_assessment",
        "log_expectation",
        "log_feedback",
        "log_trace",
        "override_feedback",
        "search_traces",
        "set_trace_tag",
        "start_span",
        "start_span_no_context",
        "trace",
        "update_assessment",
        "update_current_trace",
    }
)


def __getattr__(name: str) -> Any:
    import importlib

    if name in _LAZY_SUBMODULES:
        return importlib.import_module(f"wayline.{name}")
    if name in _TRACING_NAMES:
        value = getattr(importlib.import_module("wayline.tracing"), name)
        globals()[name] = value  # later lookups skip this function
        return value
    raise AttributeError(f"module 'wayline' has no attribute {name!r}")


__all__ = [
    "ActiveRun",
    "Client",
    "MlflowClient",
    "MlflowException",
    "RunOperations",
    "RunStatus",
    "ViewType",
    "WaylineError",
    "__version__",
    "active_run",
    "add_trace",
    "artifacts",
    "create_experiment",
    "create_external_model",
    "data",
    "delete_assessment",
    "delete_experiment",
    "delete_logged_model_tag",
    "delete_run",
    "delete_tag",
    "delete_trace_tag",
    "end_run",
    "entities",
    "finalize_logged_model",
    "flush_async_logging",
    "flush_trace_async_logging",
    "get_active_model_id",
    "get_active_trace_id",
    "get_artifact_uri",
    "get_assessment",
    "get_current_active_span",
    "get_experiment",
    "get_experiment_by_name",
    "get_last_active_trace_id",
    "get_logged_model",
    "get_run",
    "get_trace",
    "get_tracking_uri",
    "initialize_logged_model",
    "is_tracking_uri_set",
    "last_active_run",
    "last_logged_model",
    "load_table",
    "log_artifact",
    "log_artifacts",
    "log_assessment",
    "log_dict",
    "log_expectation",
    "log_feedback",
    "log_figure",
    "log_image",
    "log_input",
    "log_metric",
    "log_metrics",
    "log_param",
    "log_params",
    "log_table",
    "log_text",
    "log_trace",
    "override_feedback",
    "register_model",
    "search_experiments",
    "search_logged_models",
    "search_model_versions",
    "search_registered_models",
    "search_runs",
    "search_traces",
    "set_active_model",
    "set_experiment",
    "set_logged_model_tags",
    "set_tag",
    "set_tags",
    "set_trace_tag",
    "set_tracking_uri",
    "start_run",
    "start_span",
    "start_span_no_context",
    "trace",
    "update_assessment",
    "update_current_trace",
]
