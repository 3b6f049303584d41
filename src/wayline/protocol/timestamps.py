"""Protobuf's JSON forms of ``Timestamp`` and ``Duration``, at the millisecond precision of the
trace entities (spec tracing.md §2.2).

A Timestamp is RFC 3339 text in UTC: ``"2026-11-27T05:06:42.512Z"``, with no fraction when the
milliseconds are zero (``"2023-11-14T22:13:20Z"``), as protobuf writes it. A Duration is seconds
with an ``s`` suffix: ``"0.028s"``, ``"0s"``, ``"12s"``. Readers accept what protobuf accepts: up
to nine fractional digits (cut to milliseconds, rounding down) and, for timestamps, any UTC
offset.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from wayline.errors import InvalidParameter

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_TIMESTAMP = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})[Tt](?P<time>\d{2}:\d{2}:\d{2})"
    r"(?:\.(?P<fraction>\d{1,9}))?(?P<offset>[Zz]|[+-]\d{2}:\d{2})$"
)
_DURATION = re.compile(r"^(?P<sign>-)?(?P<seconds>\d+)(?:\.(?P<fraction>\d{1,9}))?s$")


def _millis(fraction: str | None) -> int:
    return int((fraction or "")[:3].ljust(3, "0"))


def format_timestamp(ms: int) -> str:
    """``1795756002512`` -> ``"2026-11-27T05:06:42.512Z"``."""
    seconds, millis = divmod(ms, 1000)
    text = (_EPOCH + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{text}.{millis:03d}Z" if millis else f"{text}Z"


def parse_timestamp(value: object, name: str = "timestamp") -> int:
    """Milliseconds since the epoch of an RFC 3339 timestamp; InvalidParameter otherwise."""
    match = _TIMESTAMP.match(value) if isinstance(value, str) else None
    if match is None:
        raise InvalidParameter(
            f"Invalid value {value!r} for parameter '{name}': expected an RFC 3339 timestamp "
            "such as '2026-11-27T05:06:42.512Z'."
        )
    offset = match["offset"].upper().replace("Z", "+00:00")
    try:
        moment = datetime.fromisoformat(f"{match['date']}T{match['time']}{offset}")
    except ValueError:
        raise InvalidParameter(f"Invalid value {value!r} for parameter '{name}'.") from None
    whole = (moment - _EPOCH) // timedelta(seconds=1)
    return whole * 1000 + _millis(match["fraction"])


def format_duration(ms: int) -> str:
    """``28`` -> ``"0.028s"``, ``0`` -> ``"0s"``, ``1500`` -> ``"1.500s"``."""
    if ms < 0:
        return "-" + format_duration(-ms)
    seconds, millis = divmod(ms, 1000)
    return f"{seconds}.{millis:03d}s" if millis else f"{seconds}s"


def parse_duration(value: object, name: str = "duration") -> int:
    """Milliseconds of a Duration such as ``"0.028s"``; InvalidParameter otherwise."""
    match = _DURATION.match(value) if isinstance(value, str) else None
    if match is None:
        raise InvalidParameter(
            f"Invalid value {value!r} for parameter '{name}': expected a duration in seconds "
            "such as '0.028s'."
        )
    ms = int(match["seconds"]) * 1000 + _millis(match["fraction"])
    return -ms if match["sign"] else ms


__all__ = ["format_duration", "format_timestamp", "parse_duration", "parse_timestamp"]
