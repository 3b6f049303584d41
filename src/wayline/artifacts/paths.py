"""Artifact path safety, in one place: every user-supplied artifact path passes through here.

A path arrives from a URL (already percent-decoded once by the ASGI server), a query string, a
listing returned by a remote server, or a user's ``artifact_path`` argument. ``safe_relative_path``
decodes it again and again until it stops changing and refuses it if any stage is absolute or
holds ``..``, NUL or another control character, a backslash, a ``;`` parameter or a ``#``
fragment, so ``%2e%2e`` and ``%252e%252e`` are caught as surely as ``..``. The repeated decoding
is for checking only: an accepted path is kept as given, so a file really named ``100%25.txt``
keeps its name.

``resolve_inside`` is the second line for local storage: the target, with symlinks resolved,
must lie inside the artifact root, so a symlink planted under the root cannot lead out of it.

The artifact proxy keeps files of its own (multipart staging, digest records) in
``RESERVED_FOLDER`` at the top of its destination; ``proxy_path`` is ``safe_relative_path`` for
paths relative to that destination, and refuses any that would reach into the folder.
"""

from __future__ import annotations

import os
import posixpath
import re
from urllib.parse import unquote

from wayline.errors import InvalidParameter

# Decoding more often than this is no real file name, only an attempt to outlast the check.
_MAX_DECODE_ROUNDS = 8
_FORBIDDEN = re.compile(r"[\x00-\x1f\x7f\\;#]")
_WINDOWS_DRIVE = re.compile(r"^[A-Za-z]:")

RESERVED_FOLDER = ".wayline-internal"


def invalid_path() -> InvalidParameter:
    # The message names no path: it may be echoed to a client, and the path is theirs anyway.
    return InvalidParameter("Invalid path")


def _check_stage(path: str) -> None:
    if _FORBIDDEN.search(path) or path.startswith(("/", "~")) or _WINDOWS_DRIVE.match(path):
        raise invalid_path()
    if ".." in path.split("/"):
        raise invalid_path()


def safe_relative_path(path: str | None) -> str:
    """``path`` as a normalised relative POSIX path ("" for the root), or InvalidParameter.

    Empty and ``.`` segments are dropped (``a//./b/`` is ``a/b``); everything else is refused
    as the module docstring says.

    Example::

        safe_relative_path("dir/./model.pkl")  # "dir/model.pkl"
        safe_relative_path("%2e%2e/etc")       # raises InvalidParameter("Invalid path")
    """
    if path is None:
        return ""
    if not isinstance(path, str):
        raise invalid_path()
    stage = path
    for _ in range(_MAX_DECODE_ROUNDS):
        _check_stage(stage)
        try:
            decoded = unquote(stage, errors="strict")
        except UnicodeDecodeError:  # %ff and friends: bytes that are no UTF-8 name
            raise invalid_path() from None
        if decoded == stage:
            break
        stage = decoded
    else:
        raise invalid_path()
    return "/".join(part for part in path.split("/") if part not in ("", "."))


def proxy_path(path: str | None) -> str:
    """``safe_relative_path`` for a path under the artifact proxy's destination: a first
    segment naming ``RESERVED_FOLDER`` is refused too (compared case-insensitively, as a
    case-insensitive file system would).

    Example::

        proxy_path("1/abc/artifacts/model.pkl")  # "1/abc/artifacts/model.pkl"
        proxy_path(".wayline-internal/records")  # raises InvalidParameter("Invalid path")
    """
    relative = safe_relative_path(path)
    if relative.split("/", 1)[0].casefold() == RESERVED_FOLDER:
        raise invalid_path()
    return relative


def join_relative(*parts: str | None) -> str:
    """Relative paths joined with ``/``, skipping empty ones (each part already safe)."""
    return posixpath.join(*(p for p in parts if p)) if any(parts) else ""


def resolve_inside(root: str, relative: str) -> str:
    """The local path of ``relative`` under ``root``, refused if it resolves outside ``root``.

    ``relative`` must have passed ``safe_relative_path``; symlinks in the target (or in any of
    its existing parents) are resolved before the containment check.
    """
    real_root = os.path.realpath(root)
    target = os.path.join(real_root, *relative.split("/")) if relative else real_root
    real_target = os.path.realpath(target)
    if os.path.commonpath([real_root, real_target]) != real_root:
        raise invalid_path()
    return target


__all__ = [
    "RESERVED_FOLDER",
    "invalid_path",
    "join_relative",
    "proxy_path",
    "resolve_inside",
    "safe_relative_path",
]
