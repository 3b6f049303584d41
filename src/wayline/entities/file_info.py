"""FileInfo: one entry of an artifact listing."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FileInfo:
    """A file or directory under an artifact root.

    ``path`` is relative to the repository (or run) root, with ``/`` separators;
    ``file_size`` is in bytes and None for directories.
    """

    path: str
    is_dir: bool
    file_size: int | None = None
