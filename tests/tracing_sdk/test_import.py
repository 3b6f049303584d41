"""What tracing costs before it is used, and the names it adds to ``wayline``."""

from __future__ import annotations

import subprocess
import sys

import wayline
import wayline.tracing
from wayline.tracing import LiveSpan

TRACING_PUBLIC = {
    "LiveSpan",
    "NoOpSpan",
    "add_trace",
    "delete_assessment",
    "delete_trace_tag",
    "disable",
    "enable",
    "flush_trace_async_logging",
    "get_active_trace_id",
    "get_assessment",
    "get_current_active_span",
    "get_last_active_trace_id",
    "get_prices",
    "get_trace",
    "is_enabled",
    "log_assessment",
    "log_expectation",
    "log_feedback",
    "log_trace",
    "override_feedback",
    "search_traces",
    "set_prices",
    "set_trace_tag",
    "start_span",
    "start_span_no_context",
    "trace",
    "update_assessment",
    "update_current_trace",
}


def _loaded_after(code: str) -> str:
    probe = (
        f"import sys\n{code}\n"
        "heavy = ('opentelemetry', 'pandas', 'sqlalchemy', 'google.protobuf')\n"
        "print(','.join(m for m in heavy if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return done.stdout.strip()


def test_importing_and_decorating_does_not_load_opentelemetry() -> None:
    assert _loaded_after("import wayline") == ""
    assert _loaded_after("import wayline.tracing") == ""
    assert _loaded_after("import wayline\n@wayline.trace\ndef f(): pass") == ""
    assert "opentelemetry" in _loaded_after(
        "import wayline\nwayline.tracing.disable()\nwith wayline.start_span('x'): pass\n"
        "wayline.tracing.enable()\nwith wayline.start_span('y'): pass"
    )


def test_the_tracing_names() -> None:
    assert set(wayline.tracing.__all__) == TRACING_PUBLIC
    for name in TRACING_PUBLIC - {"LiveSpan", "NoOpSpan", "enable", "disable", "is_enabled"}:
        if hasattr(wayline, name):
            assert getattr(wayline, name) is getattr(wayline.tracing, name), name
    assert wayline.trace is wayline.tracing.trace
    from wayline import start_span  # a lazily loaded name imports like any other

    assert start_span is wayline.tracing.start_span
    for name in wayline.tracing.__all__:
        obj = getattr(wayline.tracing, name)
        if callable(obj) and not isinstance(obj, type):
            assert "Example::" in (obj.__doc__ or ""), name
    assert "Example::" in (LiveSpan.__doc__ or "")
