"""The files of a registered model version, for its page: a bounded walk of its artifact folder.

The version's files are found as ``/model-versions/get-artifact`` finds them (the download URI
resolved by ``wayline.artifacts.uris.version_location``, ``mlflow-artifacts:/`` roots inside the
proxy's destination), so every path listed here is one that route serves.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from wayline.artifacts.paths import join_relative, proxy_path
from wayline.artifacts.repository import ArtifactRepository
from wayline.artifacts.uris import version_location
from wayline.server.artifact_routes import destination_repository, run_location
from wayline.server.settings import ServerSettings
from wayline.store.backend import Store

# A page lists a model's files, not a data lake: stop early and say so.
MAX_FILES = 200
MAX_DIRECTORIES = 50


@dataclass(frozen=True, slots=True)
class VersionFile:
    """A file of a version; ``path`` is relative to the version's root (as the route takes it)."""

    path: str
    size: int | None


@dataclass(frozen=True, slots=True)
class VersionFiles:
    files: list[VersionFile]
    truncated: bool


def proxy_destination(settings: ServerSettings) -> ArtifactRepository | None:
    """The proxy's storage when this server proxies artifacts, else None."""
    if not settings.serve_artifacts:
        return None
    return destination_repository(settings.artifacts_destination)


def version_files(
    store: Store, name: str, version: str, destination: ArtifactRepository | None
) -> VersionFiles:
    """The files under version ``version`` of ``name``, breadth first, at most ``MAX_FILES``."""
    root, prefix = version_location(name, version, store)
    repo, base = run_location(root, destination)
    start = join_relative(base, prefix)
    if repo is destination:
        start = proxy_path(start)
    cut = len(start) + 1 if start else 0
    files: list[VersionFile] = []
    pending = deque([start])
    listed = 0
    while pending:
        if len(files) >= MAX_FILES or listed >= MAX_DIRECTORIES:
            return VersionFiles(files[:MAX_FILES], True)
        folder = pending.popleft()
        listed += 1
        for info in repo.list_artifacts(folder or None):
            if info.is_dir:
                pending.append(info.path)
            else:
                files.append(VersionFile(info.path[cut:], info.file_size))
    return VersionFiles(files[:MAX_FILES], len(files) > MAX_FILES)


__all__ = ["MAX_FILES", "VersionFile", "VersionFiles", "proxy_destination", "version_files"]
