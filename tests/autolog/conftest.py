"""Fixtures for the autolog tests: provider wire-format servers on loopback (one per module),
the real SDK clients pointed at them, and a fresh SQLite tracking store for the traces."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator

import pytest

import wayline
from autolog._anthropic_app import anthropic_app
from autolog._openai_app import openai_app
from servers import live_server
from wayline.entities.trace import Span, Trace


@pytest.fixture(scope="module")
def openai_url() -> Iterator[str]:
    with live_server(openai_app()) as url:
        yield f"{url}/v1"


@pytest.fixture(scope="module")
def anthropic_url() -> Iterator[str]:
    with live_server(anthropic_app()) as url:
        yield url


def last_trace() -> Trace:
    """The trace that ended last, read back from the tracking store."""
    wayline.flush_trace_async_logging()
    trace_id = wayline.get_last_active_trace_id()
    assert trace_id is not None
    trace = wayline.get_trace(trace_id)
    assert trace is not None
    return trace


def only_span(trace: Trace) -> Span:
    assert len(trace.spans) == 1, [span.name for span in trace.spans]
    return trace.spans[0]


def chunk_events(span: Span) -> list[str]:
    """The JSON text of the span's stream chunk events, in order."""
    events = [e for e in span.events if e.name.startswith("mlflow.chunk.item.")]
    assert [e.name for e in events] == [f"mlflow.chunk.item.{i}" for i in range(len(events))]
    return [str(e.attributes["mlflow.chunk.value"]) for e in events]


def exception_event(span: Span) -> dict[str, object]:
    events = [e for e in span.events if e.name == "exception"]
    assert len(events) == 1
    return events[0].attributes


@pytest.fixture
def traced_provider(fluent_db: str) -> Iterator[Callable[[str], None]]:
    """``traced_provider("openai")`` turns that provider's autologging on for this test; it is
    turned off (the SDK restored) afterwards."""
    enabled: list[str] = []

    def enable(name: str) -> None:
        importlib.import_module(f"wayline.{name}").autolog()
        enabled.append(name)

    yield enable
    for name in enabled:
        importlib.import_module(f"wayline.{name}").autolog(disable=True)
