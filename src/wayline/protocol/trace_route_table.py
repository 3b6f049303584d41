"""The route table of traces and assessments: tracing.md §3 (the v3 RPCs and the v2 ones
MLflow 3.18's client still calls), plus Wayline's spans endpoint (``TRACE_ROUTES``)."""

from __future__ import annotations

from wayline.protocol.route_spec import Field, Route
from wayline.protocol.route_spec import optional as _f
from wayline.protocol.route_spec import repeated as _list
from wayline.protocol.route_spec import required as _req

_EXPERIMENT_ID = _req("experiment_id")
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


__all__ = ["TRACE_ROUTES"]
