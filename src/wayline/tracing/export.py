"""Export of finished traces to the tracking store, on a background thread.

A trace is handed over when its root span ends (its spans already converted to entities as they
ended): one put on a bounded queue. When the queue is full the trace is dropped with a warning:
tracing must never make the traced code wait. The worker takes what is queued, builds each
trace's info (``convert.build_info``) and writes them per store and experiment: ``log_spans``
with the spans of all those traces in one call, then ``start_trace`` for each info (an upsert,
so a retried export is harmless). A failing store is logged, never raised: the traced code has
long returned (the traceback is logged at DEBUG level). ``flush`` waits for everything queued
so far; an exit hook flushes too. With ``WAYLINE_ENABLE_ASYNC_TRACE_LOGGING=false`` the thread
that ends a trace exports it itself.
"""

from __future__ import annotations

import atexit
import logging
import os
import queue
import threading
import time
from collections import defaultdict
from collections.abc import Iterable
from typing import TYPE_CHECKING

from wayline.entities.trace import Span, TraceInfo
from wayline.tracing import convert
from wayline.tracing.record import TraceRecord

if TYPE_CHECKING:
    from wayline.store.traces import TraceStore

_logger = logging.getLogger("wayline.tracing")

_DRAIN_LIMIT = 500  # traces per worker pass
_DROP_WARNING_INTERVAL_S = 10.0
_EXIT_FLUSH_TIMEOUT_S = 60.0


class _Flush:
    __slots__ = ("done",)

    def __init__(self) -> None:
        self.done = threading.Event()


class TraceExporter:
    def __init__(self, async_logging: bool, max_queue_size: int) -> None:
        self._async = async_logging
        self._max = max_queue_size
        self._queue: queue.SimpleQueue[TraceRecord | _Flush] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        # Ids of traces handed over and not yet written, so reads of them can wait first.
        self.pending: set[str] = set()
        self._dropped = 0
        self._last_drop_warning = -_DROP_WARNING_INTERVAL_S
        if hasattr(os, "register_at_fork"):
            # A forked child (multiprocessing workers) has the queue but not the thread.
            os.register_at_fork(after_in_child=self._reset_after_fork)

    def _reset_after_fork(self) -> None:
        self._queue = queue.SimpleQueue()
        self._thread = None
        self._start_lock = threading.Lock()
        self.pending = set()

    # ------------------------------------------------------------------ caller side
    def submit(self, record: TraceRecord) -> None:
        if not self._async:
            self._export_safely([record])
            return
        if self._thread is None:
            self._start()
        if self._queue.qsize() >= self._max:
            self._drop(record)
            return
        self.pending.add(record.trace_id)
        self._queue.put(record)

    def _drop(self, record: TraceRecord) -> None:
        self._dropped += 1
        now = time.monotonic()
        if now - self._last_drop_warning < _DROP_WARNING_INTERVAL_S:
            return
        self._last_drop_warning = now
        _logger.warning(
            "Trace export queue is full (%d traces): dropped trace %s (%d dropped so far). "
            "Raise WAYLINE_ASYNC_TRACE_LOGGING_MAX_QUEUE_SIZE or check the tracking store.",
            self._max,
            record.trace_id,
            self._dropped,
        )

    @property
    def dropped(self) -> int:
        """How many traces were dropped because the queue was full."""
        return self._dropped

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every trace handed over so far is written (or failed); False on timeout."""
        thread = self._thread
        if thread is None or not thread.is_alive():
            return True
        marker = _Flush()
        self._queue.put(marker)
        return marker.done.wait(timeout)

    # ------------------------------------------------------------------ worker side
    def _start(self) -> None:
        with self._start_lock:
            if self._thread is None:
                thread = threading.Thread(target=self._work, name="wayline-trace-export")
                thread.daemon = True
                thread.start()
                atexit.register(self._flush_at_exit)
                self._thread = thread

    def _work(self) -> None:
        get, get_nowait = self._queue.get, self._queue.get_nowait
        while True:
            items = [get()]
            try:
                while len(items) < _DRAIN_LIMIT:
                    items.append(get_nowait())
            except queue.Empty:
                pass
            batch: list[TraceRecord] = []
            for item in items:
                if isinstance(item, _Flush):
                    self._export_safely(batch)
                    batch = []
                    item.done.set()
                else:
                    batch.append(item)
            self._export_safely(batch)

    def _export_safely(self, records: list[TraceRecord]) -> None:
        if not records:
            return
        try:
            self._export(records)
        except BaseException:  # keep the worker alive whatever happens
            _logger.warning("Trace export failed.", exc_info=True)
        finally:
            for record in records:
                self.pending.discard(record.trace_id)

    def _export(self, records: Iterable[TraceRecord]) -> None:
        by_uri: dict[str, list[TraceRecord]] = defaultdict(list)
        for record in records:
            by_uri[record.tracking_uri].append(record)
        for uri, group in by_uri.items():
            try:
                store = _trace_store(uri)
            except Exception as exc:
                _logger.warning(
                    "Could not export %d trace(s) to %s: %s",
                    len(group),
                    uri,
                    exc,
                    exc_info=_logger.isEnabledFor(logging.DEBUG),
                )
                continue
            _write(store, uri, group)

    def _flush_at_exit(self) -> None:
        if self.pending:
            _logger.info("Flushing %d trace(s) before exit.", len(self.pending))
        if not self.flush(_EXIT_FLUSH_TIMEOUT_S):
            _logger.warning("Gave up waiting for %d trace(s) to be exported.", len(self.pending))


def _trace_store(uri: str) -> TraceStore:
    from wayline.store.resolve import tracking_store
    from wayline.store.traces import TraceStore

    store = tracking_store(uri)
    if not isinstance(store, TraceStore):
        raise TypeError(f"the store for {uri} ({type(store).__name__}) does not keep traces")
    return store


def _convert(uri: str, records: list[TraceRecord]) -> dict[str, list[tuple[list[Span], TraceInfo]]]:
    from wayline.tracing.environment import base_metadata, default_experiment_id

    base = base_metadata()
    by_experiment: dict[str, list[tuple[list[Span], TraceInfo]]] = defaultdict(list)
    for record in records:
        try:
            experiment_id = record.experiment_id or default_experiment_id(uri)
            spans = record.spans
            if not spans:
                continue
            info = convert.build_info(record, spans, experiment_id, base)
        except Exception:
            _logger.warning("Could not convert trace %s.", record.trace_id, exc_info=True)
            continue
        by_experiment[experiment_id].append((spans, info))
    return by_experiment


def _write(store: TraceStore, uri: str, records: list[TraceRecord]) -> None:
    for experiment_id, traces in _convert(uri, records).items():
        spans = [span for trace_spans, _ in traces for span in trace_spans]
        written = traces
        try:
            store.log_spans(experiment_id, spans)
        except Exception as exc:
            if len(traces) == 1:
                _log_failure(traces[0][1], uri, exc)
                continue
            # One bad trace must not lose the others: write them one by one.
            written = [t for t in traces if _log_spans_alone(store, uri, experiment_id, t)]
        for _, info in written:
            try:
                store.start_trace(info)
            except Exception as exc:
                _log_failure(info, uri, exc)


def _log_spans_alone(
    store: TraceStore, uri: str, experiment_id: str, trace: tuple[list[Span], TraceInfo]
) -> bool:
    try:
        store.log_spans(experiment_id, trace[0])
    except Exception as exc:
        _log_failure(trace[1], uri, exc)
        return False
    return True


def _log_failure(info: TraceInfo, uri: str, exc: Exception) -> None:
    _logger.warning(
        "Could not export trace %s to experiment %s at %s: %s",
        info.trace_id,
        info.experiment_id,
        uri,
        exc,
        exc_info=_logger.isEnabledFor(logging.DEBUG),
    )


def wait_for(exporter: TraceExporter, trace_id: str, timeout: float = 30.0) -> None:
    """Block until ``trace_id``, if handed over, has been written."""
    deadline = time.monotonic() + timeout
    while trace_id in exporter.pending and time.monotonic() < deadline:
        exporter.flush(max(0.0, deadline - time.monotonic()))


__all__ = ["TraceExporter", "wait_for"]
