"""Traces in progress: what is known about a trace between its root span's start and end.

A ``TraceRecord`` is made when a root span starts (on the caller's thread, so it can capture the
fluent API's thread-local state: active run, active model, experiment) and collects the
OpenTelemetry spans of the trace as they end. ``update_current_trace`` and assessments logged
while the trace runs change it; the exporter turns it into entities once the root has ended.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from wayline.entities.trace import TRACE_ID_PREFIX, TraceState

if TYPE_CHECKING:
    from wayline.entities.assessment import Assessment
    from wayline.entities.trace import Span

_logger = logging.getLogger(__name__)


class TraceRecord:
    __slots__ = (
        "assessments",
        "client_request_id",
        "experiment_id",
        "metadata",
        "model_id",
        "otel_trace_id",
        "request_preview",
        "response_preview",
        "run_id",
        "spans",
        "state",
        "tags",
        "trace_id",
        "tracking_uri",
    )

    def __init__(
        self,
        otel_trace_id: int,
        tracking_uri: str,
        experiment_id: str | None,
        run_id: str | None,
        model_id: str | None,
    ) -> None:
        self.otel_trace_id = otel_trace_id
        self.trace_id = TRACE_ID_PREFIX + format(otel_trace_id, "032x")
        self.tracking_uri = tracking_uri
        self.experiment_id = experiment_id  # None: the default experiment, resolved at export
        self.run_id = run_id
        self.model_id = model_id
        self.spans: list[Span] = []
        self.tags: dict[str, str] = {}
        self.metadata: dict[str, str] = {}
        self.client_request_id: str | None = None
        self.request_preview: str | None = None
        self.response_preview: str | None = None
        self.state: TraceState | None = None
        self.assessments: list[Assessment] = []


class ActiveTraces:
    """Traces in progress by OpenTelemetry trace id. Holds at most ``max_size``: a root span that
    never ends must not keep its spans forever, so the oldest trace makes room."""

    def __init__(self, max_size: int) -> None:
        self._max_size = max_size
        self._by_id: dict[int, TraceRecord] = {}
        self._lock = threading.Lock()  # only for eviction; lookups rely on dict atomicity

    def add(self, record: TraceRecord) -> None:
        by_id = self._by_id
        by_id[record.otel_trace_id] = record
        if len(by_id) > self._max_size:
            self._evict()

    def _evict(self) -> None:
        with self._lock:
            while len(self._by_id) > self._max_size:
                try:
                    oldest = next(iter(self._by_id))
                    dropped = self._by_id.pop(oldest, None)
                except (StopIteration, RuntimeError):  # changed under us: try again
                    continue
                if dropped is not None:
                    _logger.warning(
                        "Dropping trace %s: more than %d traces are in progress (raise "
                        "WAYLINE_TRACE_BUFFER_MAX_SIZE if that many are expected).",
                        dropped.trace_id,
                        self._max_size,
                    )

    def get(self, otel_trace_id: int) -> TraceRecord | None:
        return self._by_id.get(otel_trace_id)

    def pop(self, otel_trace_id: int) -> TraceRecord | None:
        return self._by_id.pop(otel_trace_id, None)

    def find(self, trace_id: str) -> TraceRecord | None:
        """The record of ``tr-<hex>``, if that trace is in progress here."""
        hex_part = trace_id.removeprefix(TRACE_ID_PREFIX)
        try:
            return self._by_id.get(int(hex_part, 16)) if len(hex_part) == 32 else None
        except ValueError:
            return None


class _LastTrace(threading.local):
    def __init__(self) -> None:
        self.trace_id: str | None = None


_last_in_thread = _LastTrace()
_last: list[str | None] = [None]


def set_last_trace_id(trace_id: str) -> None:
    _last[0] = trace_id
    _last_in_thread.trace_id = trace_id


def last_trace_id(thread_local: bool = False) -> str | None:
    return _last_in_thread.trace_id if thread_local else _last[0]


__all__ = ["ActiveTraces", "TraceRecord", "last_trace_id", "set_last_trace_id"]
