"""FileInfo JSON (spec rest-tracking.md §2), shared by the server and the proxy client."""

from __future__ import annotations

import json
import posixpath
from typing import Any

from wayline.entities import FileInfo


def encode_file_info(info: FileInfo, path: str | None = None) -> dict[str, Any]:
    """``{"path", "is_dir", "file_size"}``; ``file_size`` is omitted for directories.

    ``path`` replaces ``info.path`` (the proxy lists bare names, ListArtifacts run paths).
    """
    body: dict[str, Any] = {"path": info.path if path is None else path, "is_dir": info.is_dir}
    if not info.is_dir and info.file_size is not None:
        body["file_size"] = info.file_size
    return body


def decode_file_info(body: dict[str, Any]) -> FileInfo:
    """The FileInfo of a JSON entry; a missing size reads as 0 for files (int64 may be a str)."""
    is_dir = bool(body.get("is_dir"))
    size = None if is_dir else int(body.get("file_size") or 0)
    return FileInfo(str(body.get("path", "")), is_dir, size)


def dict_as_text(dictionary: Any, artifact_file: str) -> str:
    """A dict as the text of ``artifact_file``: YAML for ``.yaml``/``.yml``, else JSON."""
    extension = posixpath.splitext(artifact_file)[1].lower()
    if extension in (".yaml", ".yml"):
        import yaml  # loaded only by the rare YAML artifact

        return str(yaml.safe_dump(dictionary, default_flow_style=False, sort_keys=False))
    return json.dumps(dictionary, indent=2)


__all__ = ["decode_file_info", "dict_as_text", "encode_file_info"]
