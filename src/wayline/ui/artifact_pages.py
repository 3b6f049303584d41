"""A run's artifact browser: ``/experiments/<id>/runs/<run_id>/artifacts?path=<dir or file>``.

The page lists one folder (folders first, ``PAGE_SIZE`` entries a page) and, when ``path`` names
a file, previews it (``artifact_previews``) beside a download link. Everything goes through the
server's own artifact code, so there is one set of rules for every way a file leaves the server:

* listings are the ListArtifacts RPC's (``server.artifact_routes``), ``mlflow-artifacts:/``
  roots resolving inside the proxy's destination as they do there;
* downloads, ``<img>`` previews and raw files are links to ``/get-artifact``
  (``server.ui_routes``): attachment, sandboxing CSP, ``nosniff``;
* an HTML file is shown in a ``sandbox=""`` iframe of ``…/artifacts/frame?path=``, which serves
  it as ``/get-artifact`` does but ``inline`` (an attachment would be downloaded, not shown),
  only for ``.html`` files, still under ``FRAME_POLICY``'s ``sandbox``: no script of it runs;
* text previews read the first bytes through the same repository lookup.

Every ``path`` passes ``wayline.artifacts.paths.safe_relative_path`` first: ``..`` in any
encoding is a 400 page, a path that is not there a 404 page.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from typing import Any, BinaryIO
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from wayline.artifacts.codec import decode_file_info
from wayline.artifacts.paths import join_relative, proxy_path, safe_relative_path
from wayline.artifacts.repository import ArtifactRepository, artifact_name
from wayline.entities import FileInfo, Run
from wayline.errors import InvalidParameter, NotFound, WaylineError
from wayline.server.artifact_routes import artifact_listing, destination_repository, run_location
from wayline.server.settings import ServerSettings
from wayline.server.ui_routes import send_artifact
from wayline.store.tracking import TrackingStore
from wayline.ui.artifact_previews import MAX_TEXT_BYTES, Preview, build_preview, preview_kind
from wayline.ui.forms import see_other
from wayline.ui.templating import Pages

PAGE_SIZE = 100
# The frame's document may style itself and show inline images; it runs nothing, loads nothing
# from anywhere (no exfiltration through CSS urls either) and cannot be framed by another site.
FRAME_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'; sandbox"
)


@dataclass(frozen=True, slots=True)
class Entry:
    """A row of the listing: a folder or a file, with the URLs it links to."""

    name: str
    path: str
    is_dir: bool
    size: int | None
    href: str
    download: str = ""
    selected: bool = False


@dataclass(frozen=True, slots=True)
class Folder:
    """The folder shown and, when the URL names a file, that file."""

    path: str
    entries: list[FileInfo]
    selected: FileInfo | None = None


def format_size(size: int | None) -> str:
    """``1536`` -> ``"1.5 KB"``; empty when unknown."""
    if size is None:
        return ""
    value = float(size)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1024 or unit == "TB":
            return f"{size} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return ""  # unreachable: the loop returns at TB


def _page_number(raw: str | None) -> int | None:
    if raw is None or raw == "":
        return None
    if not (raw.isascii() and raw.isdigit()) or int(raw) < 1:
        raise InvalidParameter("The query parameter 'page' is a page number from 1.")
    return int(raw)


def _truncated_note(preview: Preview | None, info: FileInfo | None) -> str:
    """What a preview that shows only the file's beginning says about it."""
    if preview is None or info is None or not preview.truncated:
        return ""
    if preview.kind == "table":
        return f"Truncated: the first {len(preview.rows)} rows. Download the file for the rest."
    size = f" of {format_size(info.file_size)}" if info.file_size is not None else ""
    shown = format_size(MAX_TEXT_BYTES)
    return f"Truncated: the first {shown}{size}. Download the file for the rest."


class ArtifactPages:
    """The artifact browser's page and its HTML frame (module doc)."""

    def __init__(self, store: TrackingStore, pages: Pages, settings: ServerSettings) -> None:
        self.store = store
        self.pages = pages
        # The proxy's storage, where ``mlflow-artifacts:/`` roots live (None: no proxy).
        self.destination: ArtifactRepository | None = (
            destination_repository(settings.artifacts_destination)
            if settings.serve_artifacts
            else None
        )

    def routes(self) -> list[tuple[str, Any, str]]:
        run = "/experiments/{experiment_id}/runs/{run_id}"
        return [
            (f"{run}/artifacts", self.browse, "GET"),
            (f"{run}/artifacts/frame", self.frame, "GET"),
        ]

    # ------------------------------------------------------------------ endpoints
    async def browse(self, request: Request) -> Response:
        experiment_id = request.path_params["experiment_id"]
        run = await run_in_threadpool(self.store.get_run, request.path_params["run_id"])
        if run.info.experiment_id != experiment_id:
            query = f"?{request.url.query}" if request.url.query else ""
            return see_other(f"{self._base(run)}/artifacts{query}")
        path = safe_relative_path(request.query_params.get("path"))
        page = _page_number(request.query_params.get("page"))
        folder = await run_in_threadpool(self._folder, run, path)
        preview = None
        if folder.selected is not None:
            preview = await run_in_threadpool(self._preview, run, folder.selected)
        experiment = await run_in_threadpool(self.store.get_experiment, experiment_id)
        return self.pages.render(
            "artifacts.html", self._context(run, experiment, folder, page, preview)
        )

    async def frame(self, request: Request) -> Response:
        """``…/artifacts/frame?path=<file.html>``: the HTML file inline, for the sandboxed
        iframe of its preview; any other kind of file is refused."""
        run = await run_in_threadpool(self.store.get_run, request.path_params["run_id"])
        if run.info.experiment_id != request.path_params["experiment_id"]:
            raise NotFound("No such run in this experiment.")
        path = safe_relative_path(request.query_params.get("path"))
        if preview_kind(path) != "html":
            raise InvalidParameter("Only HTML artifacts are shown in a frame.")
        response = await send_artifact(run.info.artifact_uri, path, self.destination)
        response.headers["content-disposition"] = "inline"
        response.headers["content-security-policy"] = FRAME_POLICY
        response.headers["cache-control"] = "no-store"
        return response

    # ------------------------------------------------------------------ reading
    def _list(self, run: Run, path: str) -> list[FileInfo]:
        """The folder ``path``'s children, as ListArtifacts answers them."""
        body = artifact_listing(run.info.artifact_uri, path or None, self.destination)
        return [decode_file_info(item) for item in body.get("files", [])]

    def _folder(self, run: Run, path: str) -> Folder:
        children = self._list(run, path)
        if not path or children:
            return Folder(path, children)
        # Nothing under it: a file, an empty folder or nothing at all; its parent says which.
        parent = posixpath.dirname(path)
        siblings = self._list(run, parent)
        found = next((info for info in siblings if info.path == path), None)
        if found is None:
            raise NotFound(f"No artifact '{path}' in this run.")
        if found.is_dir:
            return Folder(path, [])
        return Folder(parent, siblings, found)

    def _open(self, run: Run, path: str) -> BinaryIO:
        # The lookup of ``/get-artifact`` (ui_routes.send_artifact), opening instead of sending.
        repo, prefix = run_location(run.info.artifact_uri, self.destination)
        full = join_relative(prefix, path)
        if repo is self.destination:
            full = proxy_path(full)
        return repo.open_artifact(full)

    def _preview(self, run: Run, info: FileInfo) -> Preview:
        try:
            return build_preview(info.path, info.file_size, lambda: self._open(run, info.path))
        except (WaylineError, OSError):  # gone since it was listed, storage unreachable…
            return Preview("none", note="This file could not be read for a preview.")

    # ------------------------------------------------------------------ rendering
    @staticmethod
    def _base(run: Run) -> str:
        return f"/experiments/{run.info.experiment_id}/runs/{run.info.run_id}"

    def _url(self, run: Run, path: str, page: int | None = None) -> str:
        query: dict[str, str | int] = {"path": path} if path else {}
        if page and page > 1:
            query["page"] = page
        suffix = f"?{urlencode(query)}" if query else ""
        return f"{self._base(run)}/artifacts{suffix}"

    @staticmethod
    def _download(run: Run, path: str) -> str:
        return "/get-artifact?" + urlencode({"path": path, "run_uuid": run.info.run_id})

    def _entry(self, run: Run, info: FileInfo, selected: FileInfo | None) -> Entry:
        return Entry(
            name=artifact_name(info.path),
            path=info.path,
            is_dir=info.is_dir,
            size=info.file_size,
            href=self._url(run, info.path),
            download="" if info.is_dir else self._download(run, info.path),
            selected=selected is not None and info.path == selected.path,
        )

    def _crumbs(self, run: Run, path: str) -> list[tuple[str, str]]:
        parts = path.split("/") if path else []
        return [(name, self._url(run, "/".join(parts[: i + 1]))) for i, name in enumerate(parts)]

    def _context(
        self,
        run: Run,
        experiment: Any,
        folder: Folder,
        page: int | None,
        preview: Preview | None,
    ) -> dict[str, Any]:
        # Folders first, each group in the listing's (path) order.
        infos = sorted(folder.entries, key=lambda info: not info.is_dir)
        pages = max(1, -(-len(infos) // PAGE_SIZE))
        if page is None and folder.selected is not None:
            page = infos.index(folder.selected) // PAGE_SIZE + 1
        page = min(page or 1, pages)
        shown = infos[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
        selected = folder.selected
        parent = posixpath.dirname(folder.path) if folder.path else None
        return {
            "title": f"Artifacts · {run.info.run_name or run.info.run_id}",
            "experiment": experiment,
            "run": run,
            "run_url": self._base(run),
            "root_url": self._url(run, ""),
            "folder": folder.path,
            "crumbs": self._crumbs(run, selected.path if selected else folder.path),
            "parent_url": None if parent is None else self._url(run, parent),
            "entries": [self._entry(run, info, selected) for info in shown],
            "total": len(infos),
            "page": page,
            "pages": pages,
            "previous_link": self._url(run, folder.path, page - 1) if page > 1 else None,
            "next_link": self._url(run, folder.path, page + 1) if page < pages else None,
            "selected": None if selected is None else self._entry(run, selected, selected),
            "preview": preview,
            "truncated_note": _truncated_note(preview, selected),
            "frame_url": (
                f"{self._base(run)}/artifacts/frame?{urlencode({'path': selected.path})}"
                if selected is not None
                else ""
            ),
            "format_size": format_size,
        }


__all__ = ["FRAME_POLICY", "PAGE_SIZE", "ArtifactPages", "format_size"]
