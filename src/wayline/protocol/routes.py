"""The route table: every RPC once, as data.

``TRACKING_ROUTES`` holds spec rest-tracking.md §3, §4, §6; ``REGISTRY_ROUTES`` the model
registry of rest-registry.md §2 plus Wayline's audit-trail extension; ``WEBHOOK_ROUTES`` the
webhooks of rest-registry.md §4 plus Wayline's delivery log; ``TRACE_ROUTES`` the traces and
assessments of tracing.md §3 (v3 and the v2 RPCs) plus Wayline's spans endpoint. The server
builds its router from these tables and the REST client builds its requests from them, so a path,
method or field name can only be changed in one place. Tests check the tables against the spec's
RPC tables.

A path may hold parameters (``/mlflow/logged-models/{model_id}``): each names a request field,
which the client puts into the URL (``expand_path``) instead of the query or body, and the
server reads back from the URL.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote

Method = Literal["GET", "POST", "PATCH", "DELETE"]

# Scalars are proto types; capitalised kinds are messages or enums decoded by ``request``.
FieldKind = Literal[
    "str",
    "i64",
    "i32",
    "f64",
    "bool",
    "RunStatus",
    "ViewType",
    "LoggedModelStatus",
    "ExperimentTag",
    "RunTag",
    "LoggedModelTag",
    "Param",
    "Metric",
    "DatasetInput",
    "ModelInput",
    "ModelOutput",
    "LoggedModelDataset",
    "LoggedModelOrderBy",
    "version",
    "RegisteredModelTag",
    "ModelVersionTag",
    "WebhookEvent",
    "WebhookStatus",
    "Trace",
    "TraceLocation",
    "TraceStatus",
    "TraceRequestMetadata",
    "TraceTag",
    "Assessment",
    "PromptVersionRef",
    "field_mask",
]

_PATH_PARAMETER = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True, slots=True)
class Field:
    """One request field, named as in the proto (snake_case)."""

    name: str
    kind: FieldKind = "str"
    required: bool = False
    repeated: bool = False


@dataclass(frozen=True, slots=True)
class Route:
    """One RPC: where it is mounted, what it reads and the top-level keys it answers with.

    ``extra_methods`` are further methods the server accepts for the same handler (the client
    uses ``method``); ``response`` lists keys that may appear, each omitted when unset.
    """

    name: str
    method: Method
    path: str
    since: int = 2
    request: tuple[Field, ...] = ()
    response: tuple[str, ...] = ()
    extra_methods: tuple[Method, ...] = ()
    ajax_only: bool = False

    @property
    def methods(self) -> tuple[Method, ...]:
        return (self.method, *self.extra_methods)

    def field(self, name: str) -> Field:
        for field in self.request:
            if field.name == name:
                return field
        raise KeyError(f"{self.name} has no request field {name!r}")

    @property
    def path_fields(self) -> tuple[str, ...]:
        """Request fields that travel in the path, in path order (``("model_id",)``)."""
        return tuple(_PATH_PARAMETER.findall(self.path))


def urls(route: Route) -> list[str]:
    """Every URL the route is mounted at: the API prefix and the web UI's ajax prefix.

    Path parameters stay placeholders (``{model_id}``); see ``expand_path``. An ``ajax_only``
    route (one MLflow declares without a leading slash, so only its ajax URL works) has no
    ``/api/`` URL.
    """
    ajax = f"/ajax-api/{route.since}.0{route.path}"
    return [ajax] if route.ajax_only else [f"/api/{route.since}.0{route.path}", ajax]


def expand_path(url: str, values: Mapping[str, Any]) -> str:
    """``url`` with each ``{name}`` replaced by ``values[name]``, percent-encoded whole.

    Every character but letters, digits and ``-._~`` is escaped (``/`` too), so a tag key such
    as ``a/b`` stays one path segment. ValueError if a parameter has no value.
    """

    def fill(match: re.Match[str]) -> str:
        value = values.get(match.group(1))
        if value is None or value == "":
            raise ValueError(f"no value for the path parameter {match.group(1)!r} of {url}")
        return quote(str(value), safe="")

    return _PATH_PARAMETER.sub(fill, url)


def _f(name: str, kind: FieldKind = "str", *, required: bool = False) -> Field:
    return Field(name, kind, required=required)


def _list(name: str, kind: FieldKind = "str") -> Field:
    return Field(name, kind, repeated=True)


def _req(name: str, kind: FieldKind = "str") -> Field:
    return Field(name, kind, required=True)


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

# ---------------------------------------------------------------- traces (tracing §3)
_TRACES = "/mlflow/traces"
_TRACE = f"{_TRACES}/{{trace_id}}"
_REQUEST = f"{_TRACES}/{{request_id}}"
_ASSESSMENT = f"{_TRACE}/assessments/{{assessment_id}}"
_TRACE_ID = _req("trace_id")  # in the path; MLflow's client repeats it in the query or body
_ASSESSMENT_ID = _req("assessment_id")
_REQUEST_ID = _req("request_id")
_DELETE_TRACES = (
    _EXPERIMENT_ID,
    _f("max_timestamp_millis", "i64"),
    _f("max_traces", "i32"),
    _list("request_ids"),
)

# Starlette tries routes in order, so the literal paths (/traces/get, /traces/search, ...) come
# before the parameterised /traces/{trace_id} of the same method.
TRACE_ROUTES: tuple[Route, ...] = (
    # ------------------------------------------------------------ v3
    Route(
        "GetTrace",
        "GET",
        f"{_TRACES}/get",
        since=3,
        request=(_req("trace_id"), _f("allow_partial", "bool")),
        response=("trace",),
    ),
    Route(
        "BatchGetTraces",
        "GET",
        f"{_TRACES}/batchGet",
        since=3,
        request=(Field("trace_ids", required=True, repeated=True), _list("experiment_ids")),
        response=("traces",),
    ),
    Route(
        "BatchGetTraceInfos",
        "POST",
        f"{_TRACES}/batchGetInfos",
        since=3,
        request=(Field("trace_ids", required=True, repeated=True), _list("experiment_ids")),
        response=("trace_infos",),
    ),
    Route(
        "SearchTracesV3",
        "POST",
        f"{_TRACES}/search",
        since=3,
        request=(
            Field("locations", "TraceLocation", required=True, repeated=True),
            _f("filter"),
            _f("max_results", "i32"),
            _list("order_by"),
            _f("page_token"),
        ),
        response=("traces", "next_page_token"),
    ),
    Route(
        "DeleteTracesV3",
        "POST",
        f"{_TRACES}/delete-traces",
        since=3,
        request=_DELETE_TRACES,
        response=("traces_deleted",),
    ),
    Route(
        "CalculateTraceFilterCorrelation",
        "POST",
        f"{_TRACES}/calculate-filter-correlation",
        since=3,
        request=(
            _list("experiment_ids"),
            _req("filter_string1"),
            _req("filter_string2"),
            _f("base_filter"),
        ),
    ),
    Route(
        "QueryTraceMetrics",
        "POST",
        f"{_TRACES}/metrics",
        since=3,
        request=(_list("experiment_ids"),),
    ),
    Route(
        "StartTraceV3",
        "POST",
        _TRACES,
        since=3,
        request=(_req("trace", "Trace"),),
        response=("trace",),
    ),
    Route("GetTraceInfoV3", "GET", _TRACE, since=3, request=(_TRACE_ID,), response=("trace",)),
    Route(
        "SetTraceTagV3",
        "PATCH",
        f"{_TRACE}/tags",
        since=3,
        request=(_TRACE_ID, _req("key"), _f("value")),
    ),
    Route(
        "DeleteTraceTagV3", "DELETE", f"{_TRACE}/tags", since=3, request=(_TRACE_ID, _req("key"))
    ),
    # Wayline's extension: one page of a trace's spans (MLflow's span dicts), in start order.
    Route(
        "GetTraceSpans",
        "GET",
        f"{_TRACE}/spans",
        since=3,
        request=(_TRACE_ID, _f("max_results", "i32"), _f("page_token")),
        response=("spans", "next_page_token"),
    ),
    Route(
        "CreateAssessment",
        "POST",
        f"{_TRACE}/assessments",
        since=3,
        request=(_TRACE_ID, _req("assessment", "Assessment")),
        response=("assessment",),
    ),
    Route(
        "GetAssessment",
        "GET",
        _ASSESSMENT,
        since=3,
        request=(_TRACE_ID, _ASSESSMENT_ID),
        response=("assessment",),
    ),
    Route(
        "UpdateAssessment",
        "PATCH",
        _ASSESSMENT,
        since=3,
        request=(
            _TRACE_ID,
            _ASSESSMENT_ID,
            _req("assessment", "Assessment"),
            _req("update_mask", "field_mask"),
        ),
        response=("assessment",),
    ),
    Route(
        "DeleteAssessment",
        "DELETE",
        _ASSESSMENT,
        since=3,
        request=(_TRACE_ID, _ASSESSMENT_ID),
    ),
    # ------------------------------------------------------------ v2 (the 3.18 client still uses
    # the tag, delete and link RPCs; the others are its fallbacks for servers before 3.x)
    Route(
        "SearchTraces",
        "GET",
        _TRACES,
        request=(
            _list("experiment_ids"),
            _f("filter"),
            _f("max_results", "i32"),
            _list("order_by"),
            _f("page_token"),
        ),
        response=("traces", "next_page_token"),
    ),
    Route(
        "StartTrace",
        "POST",
        _TRACES,
        request=(
            _f("experiment_id"),
            _f("timestamp_ms", "i64"),
            _list("request_metadata", "TraceRequestMetadata"),
            _list("tags", "TraceTag"),
        ),
        response=("trace_info",),
    ),
    Route(
        "DeleteTraces",
        "POST",
        f"{_TRACES}/delete-traces",
        request=_DELETE_TRACES,
        response=("traces_deleted",),
    ),
    Route(
        "LinkTracesToRun",
        "POST",
        f"{_TRACES}/link-to-run",
        request=(Field("trace_ids", required=True, repeated=True), _req("run_id")),
    ),
    Route(
        "LinkPromptsToTrace",
        "POST",
        f"{_TRACES}/link-prompts",
        request=(
            _req("trace_id"),
            Field("prompt_versions", "PromptVersionRef", required=True, repeated=True),
        ),
    ),
    Route(
        "EndTrace",
        "PATCH",
        _REQUEST,
        request=(
            _REQUEST_ID,
            _f("timestamp_ms", "i64"),
            _f("status", "TraceStatus"),
            _list("request_metadata", "TraceRequestMetadata"),
            _list("tags", "TraceTag"),
        ),
        response=("trace_info",),
    ),
    Route(
        "GetTraceInfo",
        "GET",
        f"{_REQUEST}/info",
        request=(_REQUEST_ID,),
        response=("trace_info",),
    ),
    Route(
        "SetTraceTag",
        "PATCH",
        f"{_REQUEST}/tags",
        request=(_REQUEST_ID, _req("key"), _f("value")),
    ),
    Route("DeleteTraceTag", "DELETE", f"{_REQUEST}/tags", request=(_REQUEST_ID, _req("key"))),
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
