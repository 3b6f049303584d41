"""The trace part of ``Client`` (MlflowClient's trace, trace-tag and assessment methods).

A mixin, as ``client_registry`` is for the model registry. Traces recorded in this process are
exported in the background; a call that names such a trace (or a search) first waits for its
export, so ``client.get_trace(wayline.get_last_active_trace_id())`` works right after the
traced call. Tags
and assessments given to a trace still in progress are kept with it and stored when it ends.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from wayline.entities import PagedList
from wayline.entities.assessment import (
    Assessment,
    AssessmentError,
    Expectation,
    Feedback,
    new_assessment_id,
)
from wayline.entities.trace import Trace, TraceInfo
from wayline.errors import InvalidParameter, NotFound, WaylineError
from wayline.store.traces import (
    LINK_TRACES_TO_RUN_LIMIT,
    SEARCH_TRACES_MAX_RESULTS_DEFAULT,
    AssessmentUpdate,
    TraceStore,
)
from wayline.store.tracking import TrackingStore

if TYPE_CHECKING:
    from wayline.tracing.record import TraceRecord
    from wayline.tracing.span import LiveSpan


def _in_progress(trace_id: str) -> TraceRecord | None:
    """The trace's record if it is being recorded in this process (no tracing loaded: None)."""
    import sys

    if "wayline.tracing.context" not in sys.modules:
        return None
    from wayline.tracing.context import tracing_machinery

    machinery = tracing_machinery()
    return machinery.active.find(trace_id) if machinery is not None else None


def wait_for_export(trace_id: str) -> None:
    """Return once ``trace_id``, if this process recorded it, has reached the store."""
    import sys

    if "wayline.tracing.context" not in sys.modules:
        return
    from wayline.tracing.context import tracing_machinery
    from wayline.tracing.export import wait_for

    machinery = tracing_machinery()
    if machinery is not None and trace_id in machinery.exporter.pending:
        wait_for(machinery.exporter, trace_id)


def wait_for_all_exports() -> None:
    """Return once every trace this process handed over for export has reached its store."""
    import sys

    if "wayline.tracing.context" not in sys.modules:
        return
    from wayline.tracing.context import tracing_machinery

    machinery = tracing_machinery()
    if machinery is not None and machinery.exporter.pending:
        machinery.exporter.flush()


def _experiment_ids(
    experiment_ids: Sequence[str] | str | None, locations: Sequence[str] | None
) -> list[str]:
    if isinstance(experiment_ids, str):
        experiment_ids = [experiment_ids]
    ids = [str(i) for i in (experiment_ids or ())]
    ids.extend(str(loc) for loc in (locations or ()) if "." not in str(loc))
    return ids


class TracesClient:
    _store: TrackingStore

    def _trace_store(self) -> TraceStore:
        store = self._store
        if not isinstance(store, TraceStore):
            raise WaylineError(
                f"The tracking store {type(store).__name__} does not keep traces.",
                "NOT_IMPLEMENTED",
            )
        return store

    # ------------------------------------------------------------------ traces
    def get_trace(self, trace_id: str, display: bool = True, flush: bool = False) -> Trace:
        """The trace with its spans (NotFound if there is none). ``display`` is accepted for
        MLflow compatibility; ``flush`` waits for every pending export first.

        Example::

            trace = client.get_trace("tr-0123456789abcdef0123456789abcdef")
            print(trace.info.state, [span.name for span in trace.spans])
        """
        if flush:
            from wayline.tracing.fluent import flush_trace_async_logging

            flush_trace_async_logging()
        wait_for_export(trace_id)
        return self._trace_store().get_trace(trace_id)

    def get_trace_info(self, trace_id: str) -> TraceInfo:
        """The trace's info (times, state, previews, metadata, tags, assessments) without spans.

        Example::

            info = client.get_trace_info(trace_id)
            print(info.execution_duration_ms)
        """
        wait_for_export(trace_id)
        return self._trace_store().get_trace_info(trace_id)

    def search_traces(
        self,
        experiment_ids: Sequence[str] | None = None,
        filter_string: str | None = None,
        max_results: int = SEARCH_TRACES_MAX_RESULTS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
        run_id: str | None = None,
        include_spans: bool = True,
        locations: Sequence[str] | None = None,
    ) -> PagedList[Trace]:
        """One page of traces matching the filter (spec search-syntax §7); ``.token`` fetches
        the next. ``run_id`` keeps the traces of one run. Without spans
        (``include_spans=False``) only the infos are read.

        Example::

            page = client.search_traces(["1"], "trace.status = 'OK'", max_results=10)
            for trace in page:
                print(trace.info.trace_id, trace.info.tags.get("mlflow.traceName"))
        """
        store = self._trace_store()
        ids = _experiment_ids(experiment_ids, locations)
        if not ids:
            raise InvalidParameter("Give experiment_ids (or locations) to search traces in.")
        if run_id:
            if filter_string and "mlflow.sourceRun" in filter_string:
                raise InvalidParameter(
                    "You cannot filter by run_id when it is already part of the filter string."
                )
            run_filter = f"attributes.run_id = '{run_id}'"
            filter_string = f"{filter_string} AND {run_filter}" if filter_string else run_filter
        wait_for_all_exports()
        infos = store.search_traces(
            ids, filter_string or None, max_results, list(order_by or ()) or None, page_token
        )
        traces = [
            Trace(info, list(store.iter_spans(info.trace_id)) if include_spans else [])
            for info in infos
        ]
        return PagedList(traces, infos.token)

    def delete_traces(
        self,
        experiment_id: str,
        max_timestamp_millis: int | None = None,
        max_traces: int | None = None,
        trace_ids: Sequence[str] | None = None,
    ) -> int:
        """Delete traces with their spans, tags and assessments; returns how many. Give either
        ``max_timestamp_millis`` (traces requested at or before it, oldest first, at most
        ``max_traces``) or ``trace_ids``.

        Example::

            import time
            client.delete_traces("1", max_timestamp_millis=int(time.time() * 1000))
            client.delete_traces("1", trace_ids=["tr-0123456789abcdef0123456789abcdef"])
        """
        if (max_timestamp_millis is None) == (not trace_ids):
            raise InvalidParameter(
                "Exactly one of max_timestamp_millis and trace_ids must be specified."
            )
        if trace_ids and max_traces is not None:
            raise InvalidParameter("max_traces cannot be specified together with trace_ids.")
        for trace_id in trace_ids or ():
            wait_for_export(trace_id)
        return self._trace_store().delete_traces(
            str(experiment_id), max_timestamp_millis, max_traces, list(trace_ids or ()) or None
        )

    # ------------------------------------------------------------------ tags and links
    def set_trace_tag(self, trace_id: str, key: str, value: Any) -> None:
        """Set a tag on a trace (also on one still being recorded).

        Example::

            client.set_trace_tag(trace_id, "reviewed", "yes")
        """
        text = value if isinstance(value, str) else str(value)
        record = _in_progress(trace_id)
        if record is not None:
            record.tags[str(key)] = text
            return
        wait_for_export(trace_id)
        self._trace_store().set_trace_tag(trace_id, str(key), text)

    def delete_trace_tag(self, trace_id: str, key: str) -> None:
        """Remove a tag from a trace (NotFound if it has no such tag).

        Example::

            client.delete_trace_tag(trace_id, "reviewed")
        """
        record = _in_progress(trace_id)
        if record is not None:
            if record.tags.pop(str(key), None) is None:
                raise NotFound(f"No tag with name: {key} in trace with ID {trace_id}.")
            return
        wait_for_export(trace_id)
        self._trace_store().delete_trace_tag(trace_id, str(key))

    def link_traces_to_run(self, trace_ids: Sequence[str], run_id: str) -> None:
        """Link traces to a run (at most 100 per call): ``search_traces(run_id=...)`` then
        finds them.

        Example::

            client.link_traces_to_run([trace_id], run.info.run_id)
        """
        ids = list(trace_ids)
        if len(ids) > LINK_TRACES_TO_RUN_LIMIT:
            raise InvalidParameter(
                f"Cannot link more than {LINK_TRACES_TO_RUN_LIMIT} traces to a run at once, "
                f"got {len(ids)}."
            )
        for trace_id in ids:
            wait_for_export(trace_id)
        self._trace_store().link_traces_to_run(ids, run_id)

    # ------------------------------------------------------------------ spans by id
    def start_trace(
        self,
        name: str,
        span_type: str = "UNKNOWN",
        inputs: Any = None,
        attributes: Mapping[str, Any] | None = None,
        tags: Mapping[str, str] | None = None,
        experiment_id: str | None = None,
        start_time_ns: int | None = None,
    ) -> LiveSpan:
        """Start a trace by hand; its spans are named by id, so they can start and end in
        different callbacks. End it with ``end_trace``.

        Example::

            root = client.start_trace("agent", inputs={"q": "hi"})
            child = client.start_span("llm", root.trace_id, root.span_id, span_type="LLM")
            client.end_span(root.trace_id, child.span_id, outputs="hello")
            client.end_trace(root.trace_id, outputs="hello")
        """
        from wayline.tracing import manual

        return manual.start_trace(
            name, span_type, inputs, attributes, tags, experiment_id, start_time_ns
        )

    def start_span(
        self,
        name: str,
        trace_id: str,
        parent_id: str,
        span_type: str = "UNKNOWN",
        inputs: Any = None,
        attributes: Mapping[str, Any] | None = None,
        start_time_ns: int | None = None,
    ) -> LiveSpan:
        """Start a child of span ``parent_id`` in a trace begun with ``start_trace``.

        Example::

            child = client.start_span("retrieve", root.trace_id, root.span_id, "RETRIEVER")
        """
        from wayline.tracing import manual

        return manual.start_span(
            name, trace_id, parent_id, span_type, inputs, attributes, start_time_ns
        )

    def end_span(
        self,
        trace_id: str,
        span_id: str,
        outputs: Any = None,
        attributes: Mapping[str, Any] | None = None,
        status: str = "OK",
        end_time_ns: int | None = None,
    ) -> None:
        """End a span begun with ``start_span``.

        Example::

            client.end_span(child.trace_id, child.span_id, outputs=["doc-1"])
        """
        from wayline.tracing import manual

        manual.end_span(trace_id, span_id, outputs, attributes, status, end_time_ns)

    def end_trace(
        self,
        trace_id: str,
        outputs: Any = None,
        attributes: Mapping[str, Any] | None = None,
        status: str = "OK",
        end_time_ns: int | None = None,
    ) -> None:
        """End a trace begun with ``start_trace``; it is then exported to the store.

        Example::

            client.end_trace(root.trace_id, outputs={"answer": "hello"})
        """
        from wayline.tracing import manual

        manual.end_trace(trace_id, outputs, attributes, status, end_time_ns)

    # ------------------------------------------------------------------ assessments
    def log_assessment(self, trace_id: str, assessment: Assessment) -> Assessment:
        """Store an assessment (feedback or expectation) of a trace, or of one of its spans.
        For a trace still being recorded it is kept with the trace and stored when it ends.

        Example::

            from wayline.entities import Assessment, AssessmentSource, Feedback
            client.log_assessment(
                trace_id,
                Assessment("relevance", trace_id, AssessmentSource(), feedback=Feedback(0.9)),
            )
        """
        if assessment.trace_id != trace_id:
            assessment.trace_id = trace_id
        record = _in_progress(trace_id)
        if record is not None:
            now = int(time.time() * 1000)
            assessment.assessment_id = assessment.assessment_id or new_assessment_id()
            assessment.create_time_ms = assessment.create_time_ms or now
            assessment.last_update_time_ms = assessment.last_update_time_ms or now
            record.assessments.append(assessment)
            return assessment
        wait_for_export(trace_id)
        return self._trace_store().create_assessment(assessment)

    def get_assessment(self, trace_id: str, assessment_id: str) -> Assessment:
        """One assessment of a trace (NotFound if absent).

        Example::

            feedback = client.get_assessment(trace_id, assessment_id)
            print(feedback.name, feedback.value)
        """
        wait_for_export(trace_id)
        return self._trace_store().get_assessment(trace_id, assessment_id)

    def update_assessment(
        self,
        trace_id: str,
        assessment_id: str,
        assessment: Assessment | Feedback | Expectation | None = None,
        *,
        name: str | None = None,
        value: Any = None,
        rationale: str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> Assessment:
        """Change an assessment's name, value, rationale or metadata: from ``assessment`` (an
        ``Assessment``, or a ``Feedback``/``Expectation`` carrying the new value) or from the
        keyword arguments.

        Example::

            from wayline.entities import Feedback
            client.update_assessment(trace_id, assessment_id, Feedback(value=0.95))
            client.update_assessment(trace_id, assessment_id, rationale="checked twice")
        """
        update = _update_of(assessment, name, value, rationale, metadata)
        wait_for_export(trace_id)
        return self._trace_store().update_assessment(trace_id, assessment_id, update)

    def delete_assessment(self, trace_id: str, assessment_id: str) -> None:
        """Delete an assessment of a trace.

        Example::

            client.delete_assessment(trace_id, assessment_id)
        """
        wait_for_export(trace_id)
        self._trace_store().delete_assessment(trace_id, assessment_id)


def _update_of(
    assessment: Assessment | Feedback | Expectation | None,
    name: str | None,
    value: Any,
    rationale: str | None,
    metadata: Mapping[str, Any] | None,
) -> AssessmentUpdate:
    error: AssessmentError | None = None
    has_value = value is not None
    if isinstance(assessment, Assessment):
        name = name or assessment.name
        rationale = rationale if rationale is not None else assessment.rationale
        metadata = metadata if metadata is not None else (assessment.metadata or None)
        if assessment.feedback is not None or assessment.expectation is not None:
            value, has_value = assessment.value, True
            error = assessment.feedback.error if assessment.feedback is not None else None
    elif isinstance(assessment, Feedback):
        value, has_value, error = assessment.value, True, assessment.error
    elif isinstance(assessment, Expectation):
        value, has_value = assessment.value, True
    elif assessment is not None:
        raise InvalidParameter(
            f"assessment must be an Assessment, Feedback or Expectation, got {assessment!r}."
        )
    return AssessmentUpdate(
        name=name,
        value=value,
        has_value=has_value,
        error=error,
        rationale=rationale,
        metadata={str(k): v if isinstance(v, str) else str(v) for k, v in metadata.items()}
        if metadata is not None
        else None,
    )


__all__ = ["TracesClient", "wait_for_all_exports", "wait_for_export"]
