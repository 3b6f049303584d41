"""Span attribute values as JSON text: written once when set, read back on the export thread.

MLflow keeps every span attribute as JSON text (a string attribute ``gpt`` is ``"gpt"`` with the
quotes), so OpenTelemetry, which only holds primitives, can carry any value. Writing uses orjson
(a small dict costs well under a microsecond) and never raises into user code: objects orjson
cannot encode become their pydantic dump, their dataclass fields or, last, their ``str``.
"""

from __future__ import annotations

import json
import logging
from dataclasses import fields, is_dataclass
from typing import Any

import orjson

_logger = logging.getLogger(__name__)

_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY


def _default(obj: Any) -> Any:
    if isinstance(obj, type):
        return obj.__qualname__
    # pydantic v2 models (the LLM SDKs' responses) dump to plain data.
    dump = getattr(obj, "model_dump", None)
    if callable(dump):
        try:
            return dump()
        except Exception:  # a model that cannot dump itself is shown as text below
            pass
    if is_dataclass(obj):
        return {f.name: getattr(obj, f.name) for f in fields(obj)}
    if isinstance(obj, (set, frozenset)):
        return list(obj)
    return _text(obj)


def _text(obj: Any) -> str:
    try:
        return str(obj)
    except Exception:  # a __str__ that raises: the type still says something
        return f"<{type(obj).__name__}>"


def dumps(value: Any) -> str:
    """``value`` as JSON text (non-ASCII kept); never raises."""
    try:
        return orjson.dumps(value, default=_default, option=_OPTIONS).decode()
    except Exception:
        return _dumps_slow(value)


def _dumps_slow(value: Any) -> str:
    # orjson refuses integers beyond 64 bits and circular or very deep structures; the standard
    # library takes the first, and anything left is recorded as its text.
    try:
        return json.dumps(value, ensure_ascii=False, default=_default)
    except Exception:
        _logger.debug("Span attribute value is not JSON-serialisable; recorded as text.")
        return orjson.dumps(_text(value)).decode()


def loads(text: Any) -> Any:
    """The value of JSON text written by ``dumps``; anything else is returned as it is."""
    if not isinstance(text, str):
        return text
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        try:  # NaN and Infinity, which json.dumps writes and orjson does not read
            return json.loads(text)
        except ValueError:
            return text


def dumps_pretty(value: Any) -> str:
    """JSON text as MLflow writes previews and metadata (``{"x": 3}``), for the trace info."""
    try:
        return json.dumps(value, ensure_ascii=False, default=_default)
    except Exception:
        return _text(value)


__all__ = ["dumps", "dumps_pretty", "loads"]
