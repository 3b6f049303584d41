"""The trace store interface: trace infos, their spans, tags and assessments.

Every backend (SQL, REST) implements all of it next to the tracking and registry interfaces (see
``backend.Store``) and passes one contract suite. Spans are written in batches (one trace may hold
50,000 of them) and read back page by page, in start-time order, so neither side holds a huge
trace in memory at once. Every method raises a ``wayline.errors.WaylineError`` subclass on bad
input or missing entities; every write is one transaction.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from wayline.entities import PagedList
from wayline.entities.assessment import Assessment, AssessmentError
from wayline.entities.trace import Span, Trace, TraceInfo

SEARCH_TRACES_MAX_RESULTS_DEFAULT = 100
SEARCH_TRACES_MAX_RESULTS_LIMIT = 500
SPANS_PAGE_DEFAULT = 1000
SPANS_PAGE_LIMIT = 10_000
LINK_TRACES_TO_RUN_LIMIT = 100


@dataclass(frozen=True, slots=True)
class AssessmentUpdate:
    """The fields ``update_assessment`` changes; None leaves a field as it is. ``value`` replaces
    the feedback's or expectation's value (whichever the assessment holds)."""

    name: str | None = None
    value: Any = None
    has_value: bool = False
    error: AssessmentError | None = None
    rationale: str | None = None
    metadata: dict[str, str] | None = None
    valid: bool | None = None


class TraceStore(ABC):
    # ---------------------------------------------------------------- trace infos
    @abstractmethod
    def start_trace(self, info: TraceInfo) -> TraceInfo:
        """Create or update (an upsert, so clients may retry) the trace's info, with the
        assessments it carries. Returns it as stored, with the server's tags added:
        ``mlflow.artifactLocation`` and, once spans are stored here,
        ``mlflow.trace.spansLocation = TRACKING_STORE``; metadata gains
        ``mlflow.trace.infoFinalized``. NotFound if the experiment does not exist."""

    @abstractmethod
    def get_trace_info(self, trace_id: str) -> TraceInfo:
        """With its assessments. NotFound ("Trace with ID X is not found.") if absent."""

    @abstractmethod
    def batch_get_trace_infos(self, trace_ids: Sequence[str]) -> list[TraceInfo]:
        """The infos of those ids that exist, in the order asked."""

    @abstractmethod
    def search_traces(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        max_results: int = SEARCH_TRACES_MAX_RESULTS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[TraceInfo]:
        """spec search-syntax.md §7; default order ``timestamp_ms DESC``, then trace id."""

    @abstractmethod
    def delete_traces(
        self,
        experiment_id: str,
        max_timestamp_millis: int | None = None,
        max_traces: int | None = None,
        trace_ids: Sequence[str] | None = None,
    ) -> int:
        """Delete with their spans, tags and assessments; returns how many. Exactly one of
        ``max_timestamp_millis`` (traces requested before it, oldest first, at most
        ``max_traces``) and ``trace_ids``; InvalidParameter otherwise."""

    # ---------------------------------------------------------------- spans
    @abstractmethod
    def log_spans(self, experiment_id: str, spans: Sequence[Span]) -> list[TraceInfo]:
        """Store a batch of spans (of one or several traces) in one transaction; a span already
        stored (same trace and span id) is replaced. A trace without an info gets one made from
        its root span (name, times, state, previews), as for spans from foreign OpenTelemetry
        exporters; an existing info is completed from the root span when it arrives. Trace
        token usage is summed from the spans' ``mlflow.chat.tokenUsage`` when the info lacks it.
        Returns the infos of the traces touched."""

    @abstractmethod
    def get_spans(
        self, trace_id: str, max_results: int = SPANS_PAGE_DEFAULT, page_token: str | None = None
    ) -> PagedList[Span]:
        """One page of the trace's spans in start-time order. NotFound if the trace is absent."""

    def iter_spans(self, trace_id: str, page_size: int = SPANS_PAGE_DEFAULT) -> Iterator[Span]:
        token: str | None = None
        while True:
            page = self.get_spans(trace_id, max_results=page_size, page_token=token)
            yield from page
            token = page.token
            if not token:
                return

    def get_trace(self, trace_id: str) -> Trace:
        return Trace(self.get_trace_info(trace_id), list(self.iter_spans(trace_id)))

    # ---------------------------------------------------------------- tags and links
    @abstractmethod
    def set_trace_tag(self, trace_id: str, key: str, value: str) -> None: ...

    @abstractmethod
    def delete_trace_tag(self, trace_id: str, key: str) -> None:
        """NotFound if the tag is absent."""

    @abstractmethod
    def link_traces_to_run(self, trace_ids: Sequence[str], run_id: str) -> None:
        """At most ``LINK_TRACES_TO_RUN_LIMIT`` ids; the run's traces are then found by
        ``trace.run_id``. The run must exist; a trace need not yet (as MLflow, for asynchronous
        export): its link counts once it is stored."""

    @abstractmethod
    def link_prompts_to_trace(
        self, trace_id: str, prompt_versions: Sequence[tuple[str, str]]
    ) -> None:
        """Record ``(name, version)`` pairs in the trace's ``mlflow.linkedPrompts`` tag (a JSON
        list of ``{"name", "version"}``), merged with those already there."""

    # ---------------------------------------------------------------- assessments
    @abstractmethod
    def create_assessment(self, assessment: Assessment) -> Assessment:
        """Store it, filling id (``a-`` + 32 hex) and times when absent. With ``overrides``, the
        overridden assessment is marked ``valid = False`` in the same transaction."""

    @abstractmethod
    def get_assessment(self, trace_id: str, assessment_id: str) -> Assessment: ...

    @abstractmethod
    def update_assessment(
        self, trace_id: str, assessment_id: str, update: AssessmentUpdate
    ) -> Assessment: ...

    @abstractmethod
    def delete_assessment(self, trace_id: str, assessment_id: str) -> None: ...


__all__ = [
    "LINK_TRACES_TO_RUN_LIMIT",
    "SEARCH_TRACES_MAX_RESULTS_DEFAULT",
    "SEARCH_TRACES_MAX_RESULTS_LIMIT",
    "SPANS_PAGE_DEFAULT",
    "SPANS_PAGE_LIMIT",
    "AssessmentUpdate",
    "TraceStore",
]
