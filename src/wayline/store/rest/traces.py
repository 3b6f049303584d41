"""The trace part of ``RestStore`` (spec tracing.md §3-§4): trace infos, spans, tags, links and
assessments, one request per method except where noted.

* ``log_spans`` sends OTLP protobuf to ``POST /v1/traces`` (header ``x-mlflow-experiment-id``),
  as MLflow's client does, in requests of at most ``SPANS_PER_REQUEST`` spans and about
  ``MAX_SPANS_REQUEST_BYTES`` bytes, so a 50,000-span trace is many bounded requests. Each
  request is one transaction on the server, so a failure part-way leaves the earlier batches
  stored; sending them again is harmless (a stored span is replaced). The infos it returns are
  read back with one BatchGetTraceInfos per 500 traces.
* ``get_spans`` reads Wayline's spans endpoint, one page per request. Against a server without
  it (MLflow's), it falls back to GetTrace and returns every span in one page.
* Tags, trace deletion and the links use the v2 RPCs, as MLflow's 3.18 client does, so this
  store works against MLflow's server as well as Wayline's.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from wayline.entities import PagedList
from wayline.entities.assessment import Assessment
from wayline.entities.trace import Span, Trace, TraceInfo
from wayline.errors import InvalidParameter, WaylineError
from wayline.protocol import JsonDict, decode_page
from wayline.protocol.assessments import decode_assessment, encode_assessment_update
from wayline.protocol.traces import decode_span_dict, decode_trace, decode_trace_info
from wayline.store.traces import (
    SEARCH_TRACES_MAX_RESULTS_DEFAULT,
    SEARCH_TRACES_MAX_RESULTS_LIMIT,
    SPANS_PAGE_DEFAULT,
    AssessmentUpdate,
)

if TYPE_CHECKING:
    from wayline.store.rest.client import RestClient

OTLP_TRACES_PATH = "/v1/traces"
EXPERIMENT_ID_HEADER = "x-mlflow-experiment-id"
SPANS_PER_REQUEST = 1000
MAX_SPANS_REQUEST_BYTES = 4 * 1024 * 1024
_ENDPOINT_NOT_FOUND = "ENDPOINT_NOT_FOUND"


def _field(body: JsonDict, key: str, rpc: str) -> Any:
    if body.get(key) is None:
        raise WaylineError(f"The server answered {rpc} without {key}: {body!r}")
    return body[key]


def _trace_info_of(body: JsonDict, rpc: str) -> TraceInfo:
    trace = _field(body, "trace", rpc)
    return decode_trace_info(trace.get("trace_info") if isinstance(trace, dict) else None)


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class TracesRest:
    _client: RestClient

    def _call(self, rpc: str, /, **values: Any) -> JsonDict:
        raise NotImplementedError  # RestStore sends the request

    # ---------------------------------------------------------------- trace infos
    def start_trace(self, info: TraceInfo) -> TraceInfo:
        body = self._call("StartTraceV3", trace=Trace(info))
        return _trace_info_of(body, "StartTraceV3")

    def get_trace_info(self, trace_id: str) -> TraceInfo:
        return _trace_info_of(self._call("GetTraceInfoV3", trace_id=trace_id), "GetTraceInfoV3")

    def batch_get_trace_infos(self, trace_ids: Sequence[str]) -> list[TraceInfo]:
        found: dict[str, TraceInfo] = {}
        wanted = list(dict.fromkeys(trace_ids))
        for chunk in _chunks(wanted, SEARCH_TRACES_MAX_RESULTS_LIMIT):
            body = self._call("BatchGetTraceInfos", trace_ids=list(chunk))
            for info in decode_page(body, "trace_infos", decode_trace_info):
                found[info.trace_id] = info
        # Servers answer in their own order; the interface promises the order asked.
        return [found[trace_id] for trace_id in wanted if trace_id in found]

    def search_traces(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        max_results: int = SEARCH_TRACES_MAX_RESULTS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[TraceInfo]:
        if isinstance(experiment_ids, str):
            experiment_ids = [experiment_ids]
        body = self._call(
            "SearchTracesV3",
            locations=list(experiment_ids),
            filter=filter_string or None,
            max_results=max_results,
            order_by=list(order_by) if order_by else None,
            page_token=page_token or None,
        )
        return decode_page(body, "traces", decode_trace_info)

    def delete_traces(
        self,
        experiment_id: str,
        max_timestamp_millis: int | None = None,
        max_traces: int | None = None,
        trace_ids: Sequence[str] | None = None,
    ) -> int:
        body = self._call(
            "DeleteTraces",
            experiment_id=experiment_id,
            max_timestamp_millis=max_timestamp_millis,
            max_traces=max_traces,
            request_ids=None if trace_ids is None else list(trace_ids),
        )
        return int(body.get("traces_deleted") or 0)

    # ---------------------------------------------------------------- spans
    def log_spans(self, experiment_id: str, spans: Sequence[Span]) -> list[TraceInfo]:
        trace_ids: dict[str, None] = {}
        for chunk in _chunks(list(spans), SPANS_PER_REQUEST):
            self._send_spans(experiment_id, chunk)
            trace_ids.update(dict.fromkeys(span.trace_id for span in chunk))
        return self.batch_get_trace_infos(list(trace_ids)) if trace_ids else []

    def _send_spans(self, experiment_id: str, spans: Sequence[Span]) -> None:
        from wayline.tracing.otlp import encode_request

        try:
            body = encode_request(spans)
        except (TypeError, ValueError) as exc:  # an id that is not hex, a negative time, ...
            raise InvalidParameter(f"Invalid span: {exc}") from None
        if len(body) > MAX_SPANS_REQUEST_BYTES and len(spans) > 1:
            # Big inputs and outputs: halve the batch until each request is of bounded size.
            half = len(spans) // 2
            self._send_spans(experiment_id, spans[:half])
            self._send_spans(experiment_id, spans[half:])
            return
        headers = {"Content-Type": "application/x-protobuf", EXPERIMENT_ID_HEADER: experiment_id}
        # Resending is harmless: the server replaces a span it already holds.
        self._client.post_bytes(OTLP_TRACES_PATH, body, headers, retry_safe=True)

    def get_spans(
        self, trace_id: str, max_results: int = SPANS_PAGE_DEFAULT, page_token: str | None = None
    ) -> PagedList[Span]:
        try:
            body = self._call(
                "GetTraceSpans", trace_id=trace_id, max_results=max_results, page_token=page_token
            )
        except WaylineError as exc:
            if exc.error_code != _ENDPOINT_NOT_FOUND or page_token:
                raise
            # A server without Wayline's spans endpoint (MLflow's): the whole trace at once.
            body = self._call("GetTrace", trace_id=trace_id, allow_partial=False)
            return PagedList(decode_trace(_field(body, "trace", "GetTrace")).spans)
        return decode_page(body, "spans", decode_span_dict)

    # ---------------------------------------------------------------- tags and links
    def set_trace_tag(self, trace_id: str, key: str, value: str) -> None:
        self._call("SetTraceTag", request_id=trace_id, key=key, value=value)

    def delete_trace_tag(self, trace_id: str, key: str) -> None:
        self._call("DeleteTraceTag", request_id=trace_id, key=key)

    def link_traces_to_run(self, trace_ids: Sequence[str], run_id: str) -> None:
        self._call("LinkTracesToRun", trace_ids=list(trace_ids), run_id=run_id)

    def link_prompts_to_trace(
        self, trace_id: str, prompt_versions: Sequence[tuple[str, str]]
    ) -> None:
        self._call("LinkPromptsToTrace", trace_id=trace_id, prompt_versions=list(prompt_versions))

    # ---------------------------------------------------------------- assessments
    def _assessment(self, rpc: str, /, **values: Any) -> Assessment:
        return decode_assessment(_field(self._call(rpc, **values), "assessment", rpc))

    def create_assessment(self, assessment: Assessment) -> Assessment:
        return self._assessment(
            "CreateAssessment", trace_id=assessment.trace_id, assessment=assessment
        )

    def get_assessment(self, trace_id: str, assessment_id: str) -> Assessment:
        return self._assessment("GetAssessment", trace_id=trace_id, assessment_id=assessment_id)

    def update_assessment(
        self, trace_id: str, assessment_id: str, update: AssessmentUpdate
    ) -> Assessment:
        kind = "feedback"
        if update.has_value:
            # The wire names the kind of a new value; ask the server which kind this one is.
            kind = self.get_assessment(trace_id, assessment_id).kind
        fields, mask = encode_assessment_update(trace_id, assessment_id, update, kind)
        if not mask:
            return self.get_assessment(trace_id, assessment_id)
        return self._assessment(
            "UpdateAssessment",
            trace_id=trace_id,
            assessment_id=assessment_id,
            assessment=fields,
            update_mask=mask,
        )

    def delete_assessment(self, trace_id: str, assessment_id: str) -> None:
        self._call("DeleteAssessment", trace_id=trace_id, assessment_id=assessment_id)


__all__ = [
    "EXPERIMENT_ID_HEADER",
    "MAX_SPANS_REQUEST_BYTES",
    "OTLP_TRACES_PATH",
    "SPANS_PER_REQUEST",
    "TracesRest",
]
