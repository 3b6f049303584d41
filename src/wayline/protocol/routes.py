"""The route table: every RPC once, as data.

``TRACKING_ROUTES`` holds spec rest-tracking.md §3, §4, §6; ``REGISTRY_ROUTES`` the model
registry of rest-registry.md §2 plus Wayline's audit-trail extension; ``WEBHOOK_ROUTES`` the
webhooks of rest-registry.md §4 plus Wayline's delivery log; ``TRACE_ROUTES`` the traces and
assessments of tracing.md §3 (v3 and the v2 RPCs) plus Wayline's spans endpoint, kept in
``trace_route_table``; ``route_spec`` defines what a route is. The server
builds its router from these tables and the REST client builds its requests from them, so a path,
method or field name can only be changed in one place. Tests check the tables against the spec's
RPC tables.

A path may hold parameters (``/mlflow/logged-models/{model_id}``): each names a request field,
which the client puts into the URL (``expand_path``) instead of the query or body, and the
server reads back from the URL.
"""

from __future__ import annotations

from wayline.protocol.route_spec import Field, FieldKind, Method, Route, expand_path, urls
from wayline.protocol.route_spec import optional as _f
from wayline.protocol.route_spec import repeated as _list
from wayline.protocol.route_spec import required as _req
from wayline.protocol.trace_route_table import TRACE_ROUTES

# The client sends both spellings of a run's id; neither is required alone (see run_id_of).
_RUN = (_f("run_id"), _f("run_uuid"))
_EXPERIMENT_ID = _req("experiment_id")
_MODEL = "/mlflow/logged-models/{model_id}"
_MODEL_ID = _req("model_id")

TRACKING_ROUTES: tuple[Route, ...] = (
    # ------------------------------------------------------------ experiments
    Route(
        "CreateExperiment",
        "POST",
        "/mlflow/experiments/create",
        request=(_req("name"), _f("artifact_location"), _list("tags", "ExperimentTag")),
        response=("experiment_id",),
    ),
    Route(
        "GetExperiment",
        "GET",
        "/mlflow/experiments/get",
        request=(_EXPERIMENT_ID,),
        response=("experiment",),
    ),
    Route(
        "GetExperimentByName",
        "GET",
        "/mlflow/experiments/get-by-name",
        request=(_req("experiment_name"),),
        response=("experiment",),
    ),
    Route(
        "SearchExperiments",
        "POST",
        "/mlflow/experiments/search",
        request=(
            _f("max_results", "i64"),
            _f("page_token"),
            _f("filter"),
            _list("order_by"),
            _f("view_type", "ViewType"),
        ),
        response=("experiments", "next_page_token"),
        extra_methods=("GET",),
    ),
    Route(
        "UpdateExperiment",
        "POST",
        "/mlflow/experiments/update",
        request=(_EXPERIMENT_ID, _f("new_name")),
    ),
    Route("DeleteExperiment", "POST", "/mlflow/experiments/delete", request=(_EXPERIMENT_ID,)),
    Route("RestoreExperiment", "POST", "/mlflow/experiments/restore", request=(_EXPERIMENT_ID,)),
    Route(
        "SetExperimentTag",
        "POST",
        "/mlflow/experiments/set-experiment-tag",
        request=(_EXPERIMENT_ID, _req("key"), _req("value")),
    ),
    Route(
        "DeleteExperimentTag",
        "POST",
        "/mlflow/experiments/delete-experiment-tag",
        request=(_EXPERIMENT_ID, _req("key")),
    ),
    # ------------------------------------------------------------ runs
    Route(
        "CreateRun",
        "POST",
        "/mlflow/runs/create",
        request=(
            _f("experiment_id"),
            _f("user_id"),
            _f("run_name"),
            _f("start_time", "i64"),
            _list("tags", "RunTag"),
        ),
        response=("run",),
    ),
    Route("GetRun", "GET", "/mlflow/runs/get", request=_RUN, response=("run",)),
    Route(
        "UpdateRun",
        "POST",
        "/mlflow/runs/update",
        request=(*_RUN, _f("status", "RunStatus"), _f("end_time", "i64"), _f("run_name")),
        response=("run_info",),
    ),
    Route("DeleteRun", "POST", "/mlflow/runs/delete", request=(_req("run_id"),)),
    Route("RestoreRun", "POST", "/mlflow/runs/restore", request=(_req("run_id"),)),
    Route(
        "SearchRuns",
        "POST",
        "/mlflow/runs/search",
        request=(
            _list("experiment_ids"),
            _f("filter"),
            _f("run_view_type", "ViewType"),
            _f("max_results", "i32"),
            _list("order_by"),
            _f("page_token"),
        ),
        response=("runs", "next_page_token"),
    ),
    Route(
        "LogMetric",
        "POST",
        "/mlflow/runs/log-metric",
        request=(
            *_RUN,
            _req("key"),
            _req("value", "f64"),
            _req("timestamp", "i64"),
            _f("step", "i64"),
            _f("model_id"),
            _f("dataset_name"),
            _f("dataset_digest"),
        ),
    ),
    Route(
        "LogParam",
        "POST",
        "/mlflow/runs/log-parameter",
        request=(*_RUN, _req("key"), _req("value")),
    ),
    Route("SetTag", "POST", "/mlflow/runs/set-tag", request=(*_RUN, _req("key"), _req("value"))),
    Route("DeleteTag", "POST", "/mlflow/runs/delete-tag", request=(_req("run_id"), _req("key"))),
    Route(
        "LogBatch",
        "POST",
        "/mlflow/runs/log-batch",
        request=(
            _f("run_id"),
            _list("metrics", "Metric"),
            _list("params", "Param"),
            _list("tags", "RunTag"),
        ),
    ),
    Route(
        "LogModel",
        "POST",
        "/mlflow/runs/log-model",
        request=(_f("run_id"), _f("model_json")),
    ),
    Route(
        "LogInputs",
        "POST",
        "/mlflow/runs/log-inputs",
        request=(
            _req("run_id"),
            _list("datasets", "DatasetInput"),
            _list("models", "ModelInput"),
        ),
    ),
    Route(
        "LogOutputs",
        "POST",
        "/mlflow/runs/outputs",
        request=(_req("run_id"), _list("models", "ModelOutput")),
    ),
    # ------------------------------------------------------------ logged models (§6)
    Route(
        "CreateLoggedModel",
        "POST",
        "/mlflow/logged-models",
        request=(
            _EXPERIMENT_ID,
            _f("name"),
            _f("model_type"),
            _f("source_run_id"),
            _list("params", "Param"),
            _list("tags", "LoggedModelTag"),
        ),
        response=("model",),
    ),
    Route("GetLoggedModel", "GET", _MODEL, request=(_MODEL_ID,), response=("model",)),
    Route(
        "FinalizeLoggedModel",
        "PATCH",
        _MODEL,
        request=(_MODEL_ID, _req("status", "LoggedModelStatus")),
        response=("model",),
    ),
    Route("DeleteLoggedModel", "DELETE", _MODEL, request=(_MODEL_ID,)),
    Route(
        "SearchLoggedModels",
        "POST",
        "/mlflow/logged-models/search",
        request=(
            _list("experiment_ids"),
            _f("filter"),
            _list("datasets", "LoggedModelDataset"),
            _f("max_results", "i32"),
            _list("order_by", "LoggedModelOrderBy"),
            _f("page_token"),
        ),
        response=("models", "next_page_token"),
    ),
    Route(
        "SetLoggedModelTags",
        "PATCH",
        f"{_MODEL}/tags",
        request=(_MODEL_ID, _list("tags", "LoggedModelTag")),
    ),
    Route(
        "DeleteLoggedModelTag",
        "DELETE",
        f"{_MODEL}/tags/{{tag_key}}",
        request=(_MODEL_ID, _req("tag_key")),
    ),
    Route(
        "LogLoggedModelParams",
        "POST",
        f"{_MODEL}/params",
        request=(_MODEL_ID, _list("params", "Param")),
    ),
    Route(
        "SearchDatasets",
        "POST",
        "/mlflow/experiments/search-datasets",
        request=(_list("experiment_ids"),),
        response=("dataset_summaries",),
        ajax_only=True,
    ),
    Route(
        "ListLoggedModelArtifacts",
        "GET",
        f"{_MODEL}/artifacts/directories",
        request=(_MODEL_ID, _f("artifact_directory_path"), _f("page_token")),
        response=("root_uri", "files", "next_page_token"),
    ),
    # ------------------------------------------------------------ metrics and artifacts
    Route(
        "GetMetricHistory",
        "GET",
        "/mlflow/metrics/get-history",
        request=(*_RUN, _req("metric_key"), _f("max_results", "i32"), _f("page_token")),
        response=("metrics", "next_page_token"),
    ),
    Route(
        "GetMetricHistoryBulkInterval",
        "GET",
        "/mlflow/metrics/get-history-bulk-interval",
        request=(
            _list("run_ids"),
            _req("metric_key"),
            _f("start_step", "i64"),
            _f("end_step", "i64"),
            _f("max_results", "i32"),
        ),
        response=("metrics",),
    ),
    Route(
        "ListArtifacts",
        "GET",
        "/mlflow/artifacts/list",
        request=(*_RUN, _f("path"), _f("page_token")),
        response=("root_uri", "files", "next_page_token"),
    ),
)

# ---------------------------------------------------------------- model registry (registry §2)
_RM = "/mlflow/registered-models"
_MV = "/mlflow/model-versions"
_NAME = _req("name")
# A version travels as a decimal string; kind "version" also reads a JSON integer.
_VERSION = _req("version", "version")
_SEARCH = (_f("filter"), _f("max_results", "i64"), _list("order_by"), _f("page_token"))

REGISTRY_ROUTES: tuple[Route, ...] = (
    Route(
        "CreateRegisteredModel",
        "POST",
        f"{_RM}/create",
        request=(
            _NAME,
            _list("tags", "RegisteredModelTag"),
            _f("description"),
            _f("deployment_job_id"),
        ),
        response=("registered_model",),
    ),
    Route(
        "GetRegisteredModel", "GET", f"{_RM}/get", request=(_NAME,), response=("registered_model",)
    ),
    Route(
        "RenameRegisteredModel",
        "POST",
        f"{_RM}/rename",
        request=(_NAME, _f("new_name")),
        response=("registered_model",),
    ),
    Route(
        "UpdateRegisteredModel",
        "PATCH",
        f"{_RM}/update",
        request=(_NAME, _f("description"), _f("deployment_job_id")),
        response=("registered_model",),
    ),
    Route("DeleteRegisteredModel", "DELETE", f"{_RM}/delete", request=(_NAME,)),
    Route(
        "SearchRegisteredModels",
        "GET",
        f"{_RM}/search",
        request=_SEARCH,
        response=("registered_models", "next_page_token"),
    ),
    Route(
        "GetLatestVersions",
        "POST",
        f"{_RM}/get-latest-versions",
        request=(_NAME, _list("stages")),
        response=("model_versions",),
        extra_methods=("GET",),
    ),
    Route(
        "SetRegisteredModelTag",
        "POST",
        f"{_RM}/set-tag",
        request=(_NAME, _req("key"), _req("value")),
    ),
    Route("DeleteRegisteredModelTag", "DELETE", f"{_RM}/delete-tag", request=(_NAME, _req("key"))),
    Route(
        "SetRegisteredModelAlias",
        "POST",
        f"{_RM}/alias",
        request=(_NAME, _req("alias"), _VERSION),
    ),
    Route("DeleteRegisteredModelAlias", "DELETE", f"{_RM}/alias", request=(_NAME, _req("alias"))),
    Route(
        "GetModelVersionByAlias",
        "GET",
        f"{_RM}/alias",
        request=(_NAME, _req("alias")),
        response=("model_version",),
    ),
    Route(
        "CreateModelVersion",
        "POST",
        f"{_MV}/create",
        request=(
            _NAME,
            _req("source"),
            _f("run_id"),
            _list("tags", "ModelVersionTag"),
            _f("run_link"),
            _f("description"),
            _f("model_id"),
        ),
        response=("model_version",),
    ),
    Route(
        "GetModelVersion",
        "GET",
        f"{_MV}/get",
        request=(_NAME, _VERSION),
        response=("model_version",),
    ),
    Route(
        "UpdateModelVersion",
        "PATCH",
        f"{_MV}/update",
        request=(_NAME, _VERSION, _f("description")),
        response=("model_version",),
    ),
    Route(
        "TransitionModelVersionStage",
        "POST",
        f"{_MV}/transition-stage",
        request=(_NAME, _VERSION, _req("stage"), _req("archive_existing_versions", "bool")),
        response=("model_version",),
    ),
    Route("DeleteModelVersion", "DELETE", f"{_MV}/delete", request=(_NAME, _VERSION)),
    Route(
        "SearchModelVersions",
        "GET",
        f"{_MV}/search",
        request=_SEARCH,
        response=("model_versions", "next_page_token"),
    ),
    Route(
        "GetModelVersionDownloadUri",
        "GET",
        f"{_MV}/get-download-uri",
        request=(_NAME, _VERSION),
        response=("artifact_uri",),
    ),
    Route(
        "SetModelVersionTag",
        "POST",
        f"{_MV}/set-tag",
        request=(_NAME, _VERSION, _req("key"), _req("value")),
    ),
    Route(
        "DeleteModelVersionTag",
        "DELETE",
        f"{_MV}/delete-tag",
        request=(_NAME, _VERSION, _req("key")),
    ),
    # Wayline's extension: the audit trail of one model, newest first.
    Route(
        "GetRegistryHistory",
        "GET",
        f"{_RM}/history",
        request=(_NAME, _f("max_results", "i64"), _f("page_token")),
        response=("changes", "next_page_token"),
    ),
)

# ---------------------------------------------------------------- webhooks (registry §4)
_HOOKS = "/mlflow/webhooks"
_HOOK = f"{_HOOKS}/{{webhook_id}}"
_HOOK_ID = _req("webhook_id")
_PAGE = (_f("max_results", "i64"), _f("page_token"))

WEBHOOK_ROUTES: tuple[Route, ...] = (
    Route(
        "CreateWebhook",
        "POST",
        _HOOKS,
        request=(
            _req("name"),
            _req("url"),
            Field("events", "WebhookEvent", required=True, repeated=True),
            _f("description"),
            _f("secret"),
            _f("status", "WebhookStatus"),
        ),
        response=("webhook",),
    ),
    Route("ListWebhooks", "GET", _HOOKS, request=_PAGE, response=("webhooks", "next_page_token")),
    Route("GetWebhook", "GET", _HOOK, request=(_HOOK_ID,), response=("webhook",)),
    Route(
        "UpdateWebhook",
        "PATCH",
        _HOOK,
        request=(
            _HOOK_ID,
            _f("name"),
            _f("description"),
            _f("url"),
            _list("events", "WebhookEvent"),
            _f("secret"),
            _f("status", "WebhookStatus"),
        ),
        response=("webhook",),
    ),
    Route("DeleteWebhook", "DELETE", _HOOK, request=(_HOOK_ID,)),
    Route(
        "TestWebhook",
        "POST",
        f"{_HOOK}/test",
        request=(_HOOK_ID, _f("event", "WebhookEvent")),
        response=("result",),
    ),
    # Wayline's extension: the delivery log of one webhook, newest first.
    Route(
        "ListWebhookDeliveries",
        "GET",
        f"{_HOOK}/deliveries",
        request=(_HOOK_ID, *_PAGE),
        response=("deliveries", "next_page_token"),
    ),
)

ALL_ROUTES: tuple[Route, ...] = TRACKING_ROUTES + REGISTRY_ROUTES + WEBHOOK_ROUTES + TRACE_ROUTES

_BY_NAME = {route.name: route for route in ALL_ROUTES}


def route(name: str) -> Route:
    """The route called ``name`` (the RPC name, e.g. ``"CreateRun"``); KeyError if unknown."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(f"no route named {name!r}") from None


__all__ = [
    "ALL_ROUTES",
    "REGISTRY_ROUTES",
    "TRACE_ROUTES",
    "TRACKING_ROUTES",
    "WEBHOOK_ROUTES",
    "Field",
    "FieldKind",
    "Method",
    "Route",
    "expand_path",
    "route",
    "urls",
]
