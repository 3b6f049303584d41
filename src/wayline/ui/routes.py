"""``add_ui_pages``: mounts the UI's pages, its static files and Plotly on the server's router.

Page URLs (``/``, ``/experiments…``) share the router with the REST API but none of its
prefixes (``/api``, ``/ajax-api``, ``/get-artifact``, ``/v1/traces``, ``/health``, ``/version``,
``/metrics``). A ``WaylineError`` raised by a page becomes an HTML error page with the store's
message and status instead of the API's JSON body.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Awaitable, Callable
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Mount, Router
from starlette.staticfiles import PathLike, StaticFiles
from starlette.types import Scope

from wayline.errors import WaylineError
from wayline.server.settings import ServerSettings
from wayline.store.backend import Store
from wayline.ui.artifact_pages import ArtifactPages
from wayline.ui.compare_pages import ComparePages
from wayline.ui.experiments_pages import ExperimentPages
from wayline.ui.model_pages import ModelPages
from wayline.ui.prompt_pages import PromptPages
from wayline.ui.run_pages import RunPages
from wayline.ui.templating import STATIC_CACHE, STATIC_DIR, Pages
from wayline.ui.trace_pages import TracePages

Endpoint = Callable[[Request], Awaitable[Response]]

STATIC_URL = "/static-files"
PLOTLY_URL = f"{STATIC_URL}/vendor/plotly.min.js"


class _CachedStaticFiles(StaticFiles):
    """The UI's static files. Those a page names with ``?v=`` (``templating.static_version``,
    which changes with their content) are cacheable for a year; others, such as the modules
    an ES module imports by plain path, are revalidated on each use (a 304 when unchanged)."""

    def file_response(
        self,
        full_path: PathLike,
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        versioned = b"v=" in scope.get("query_string", b"")
        response.headers["cache-control"] = STATIC_CACHE if versioned else "no-cache"
        return response


def plotly_bundle() -> Path | None:
    """The ``plotly.min.js`` the ``plotly`` Python package ships, if it is installed.

    Found without importing plotly, which would load its whole Python API for one file.
    """
    spec = importlib.util.find_spec("plotly")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(spec.submodule_search_locations[0]) / "package_data" / "plotly.min.js"
    return path if path.is_file() else None


async def _plotly(_: Request) -> Response:
    path = plotly_bundle()
    if path is None:
        return PlainTextResponse(
            "Charts need the plotly package: pip install plotly", status_code=404
        )
    return FileResponse(
        path, media_type="text/javascript", headers={"cache-control": "public, max-age=86400"}
    )


def _html_errors(pages: Pages, endpoint: Endpoint) -> Endpoint:
    async def page(request: Request) -> Response:
        try:
            return await endpoint(request)
        except WaylineError as exc:
            context = {"title": "Error", "error": exc.message, "code": exc.error_code}
            return pages.render("error.html", context, status_code=exc.http_status)

    return page


def add_ui_pages(router: Router, store: Store, settings: ServerSettings) -> None:
    """Mount the web UI on ``router``, reading and writing through ``store``.

    Example::

        app = Starlette()
        add_ui_pages(app.router, SqlStore("sqlite:///runs.db"), ServerSettings())
    """
    pages = Pages()
    experiments = ExperimentPages(store, pages)
    runs = RunPages(store, pages, PLOTLY_URL)
    routes: list[tuple[str, Endpoint, str]] = [
        ("/", experiments.list, "GET"),
        ("/experiments", experiments.list, "GET"),
        ("/experiments/create", experiments.create, "POST"),
        ("/experiments/{experiment_id}/rename", experiments.rename, "POST"),
        ("/experiments/{experiment_id}/delete", experiments.delete, "POST"),
        ("/experiments/{experiment_id}", runs.table, "GET"),
        ("/experiments/{experiment_id}/runs/delete", runs.delete_runs, "POST"),
        ("/experiments/{experiment_id}/runs/restore", runs.restore_runs, "POST"),
        ("/experiments/{experiment_id}/runs/{run_id}", runs.run, "GET"),
    ]
    routes += runs.run_routes()
    routes += ModelPages(store, pages, settings).routes() + PromptPages(store, pages).routes()
    routes += TracePages(store, pages).routes()
    routes += ComparePages(store, pages, PLOTLY_URL).routes()
    routes += ArtifactPages(store, pages, settings).routes()
    for path, endpoint, method in routes:
        router.add_route(path, _html_errors(pages, endpoint), methods=[method])
    # Before the static mount: a Mount matches its whole prefix.
    router.add_route(PLOTLY_URL, _plotly, methods=["GET"])
    router.routes.append(
        Mount(STATIC_URL, app=_CachedStaticFiles(directory=STATIC_DIR), name="ui-static")
    )


__all__ = ["PLOTLY_URL", "STATIC_URL", "add_ui_pages", "plotly_bundle"]
