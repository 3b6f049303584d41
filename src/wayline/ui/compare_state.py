"""What the compare page's URL holds: the runs compared and the page's choices.

Runs are named in the query in one of two spellings:

* ``runs=<id>,<id>,…``: readable, and what a person types;
* ``packed=<base64url>``: run ids that are 32 hex digits (every id Wayline and MLflow create)
  as their 16 bytes, 22 characters a run instead of 33. 500 runs then take about 11 KB of URL
  instead of 16.5 KB; uvicorn's h11 parser refuses a request head over 16 KB, and a proxy's
  header buffer is often 8 to 16 KB too.

``compact_run_query`` picks the readable spelling while it is short, the packed one beyond.

The page's choices are query parameters too, so every view is a link and back/forward walk
through them: ``m`` (the metrics charted), ``pc`` (the parallel-coordinates axes), ``x`` and
``y`` (the scatter's axes) and ``diff=changed`` (the diff table hides rows equal in every run).
An empty ``m`` or ``pc`` marks a chosen set, so choosing nothing is a state too.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Sequence
from dataclasses import dataclass

from starlette.datastructures import QueryParams

from wayline.errors import InvalidParameter

MAX_COMPARE_RUNS = 500
# Below this many characters the run list stays readable in the URL (about 60 runs).
READABLE_LIMIT = 2000
_HEX_ID = re.compile(r"[0-9a-f]{32}")
# Run ids go into a search filter (``run_id IN ('…')``): only characters that need no quoting.
_SAFE_ID = re.compile(r"[A-Za-z0-9_\-]{1,256}")
_ID_BYTES = 16


def pack_run_ids(run_ids: Sequence[str]) -> str:
    """32-hex-digit run ids as unpadded base64url of their bytes, in order."""
    raw = b"".join(bytes.fromhex(run_id) for run_id in run_ids)
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def unpack_run_ids(packed: str) -> list[str]:
    """The inverse of ``pack_run_ids``; InvalidParameter for text that is not such a list."""
    text = packed.strip()
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise InvalidParameter("The 'packed' run list is not base64url text.") from None
    if len(raw) % _ID_BYTES:
        raise InvalidParameter("The 'packed' run list does not hold whole run ids.")
    return [raw[i : i + _ID_BYTES].hex() for i in range(0, len(raw), _ID_BYTES)]


def parse_run_ids(query: QueryParams) -> list[str]:
    """The runs a compare URL names, each once, in order (packed ones first)."""
    ids: list[str] = []
    for packed in query.getlist("packed"):
        ids += unpack_run_ids(packed)
    for listed in query.getlist("runs"):
        ids += [part.strip() for part in listed.split(",") if part.strip()]
    unique = list(dict.fromkeys(ids))
    if not unique:
        raise InvalidParameter(
            "Choose the runs to compare: select them in an experiment's runs table, "
            "or name them as /compare?runs=<run id>,<run id>."
        )
    if len(unique) > MAX_COMPARE_RUNS:
        raise InvalidParameter(
            f"Compare at most {MAX_COMPARE_RUNS} runs at a time; {len(unique)} were given."
        )
    for run_id in unique:
        if not _SAFE_ID.fullmatch(run_id):
            raise InvalidParameter(f"{run_id[:80]!r} is not a run id.")
    return unique


def compact_run_query(run_ids: Sequence[str]) -> list[tuple[str, str]]:
    """The query pairs naming ``run_ids``: readable while short, packed when long and all hex."""
    readable = ",".join(run_ids)
    if len(readable) <= READABLE_LIMIT or not all(_HEX_ID.fullmatch(i) for i in run_ids):
        return [("runs", readable)]
    return [("packed", pack_run_ids(run_ids))]


def _chosen(query: QueryParams, name: str) -> tuple[str, ...] | None:
    """Every non-empty value of ``name`` in order, or None when the URL does not choose."""
    values = query.getlist(name)
    if not values:
        return None
    return tuple(dict.fromkeys(value for value in values if value))


@dataclass(frozen=True)
class CompareState:
    """The compare page's URL: the runs, then the user's choices (None: the defaults)."""

    run_ids: tuple[str, ...]
    metrics: tuple[str, ...] | None = None
    axes: tuple[str, ...] | None = None
    x: str = ""
    y: str = ""
    hide_equal: bool = False

    @classmethod
    def from_query(cls, query: QueryParams) -> CompareState:
        return cls(
            run_ids=tuple(parse_run_ids(query)),
            metrics=_chosen(query, "m"),
            axes=_chosen(query, "pc"),
            x=query.get("x", ""),
            y=query.get("y", ""),
            hide_equal=query.get("diff") == "changed",
        )

    def run_query(self) -> list[tuple[str, str]]:
        return compact_run_query(self.run_ids)


__all__ = [
    "MAX_COMPARE_RUNS",
    "CompareState",
    "compact_run_query",
    "pack_run_ids",
    "parse_run_ids",
    "unpack_run_ids",
]
