"""The app factory: ``create_app(settings)`` builds the stores and mounts every router.

Nothing happens at import time; each call makes an independent app around the stores its
settings name. Errors have one rendering each:

* ``WaylineError``: ``{"error_code", "message"}`` with the status of ``http_status(code)``;
* unknown paths and wrong methods: a plain-text 404/405, which MLflow's client reads as
  ENDPOINT_NOT_FOUND and uses to fall back to older APIs (a JSON body without an error_code
  would read as INTERNAL_ERROR instead);
* anything else: 500 INTERNAL_ERROR with a generic message; the traceback goes to the log only.

Every request first passes ``ObservabilityMiddleware`` (metrics, access log, the last-resort 500;
``operations.py``) and then ``SecurityMiddleware`` (host, origin, content-type and size checks;
``security.py``). ``/metrics`` serves Prometheus metrics.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

import wayline
from wayline.errors import WaylineError, http_status
from wayline.protocol.request import MLFLOW_PROTOCOL_VERSION
from wayline.server.artifact_routes import add_artifact_routes, artifact_handlers
from wayline.server.openapi import OPENAPI_URL, WaylineApp
from wayline.server.operations import Metrics, ObservabilityMiddleware
from wayline.server.otlp_routes import add_otlp_routes
from wayline.server.registry_routes import add_registry_routes
from wayline.server.security import RAW_BODY_PREFIXES, SecurityMiddleware, security_headers
from wayline.server.settings import ServerSettings
from wayline.server.trace_routes import add_trace_routes
from wayline.server.tracking_routes import JsonResponse, add_tracking_routes
from wayline.server.ui_routes import add_ui_routes
from wayline.store.backend import Store
from wayline.store.resolve import tracking_store

# The MLflow version whose REST protocol this server speaks, answered by /version. MLflow's
# client reads /version as a capability probe (it sends spans over OTLP only to servers that
# answer >= 3.4), so it must be a parseable MLflow version, not Wayline's own 0.1.0; Wayline's
# version travels in the X-Wayline-Version header of the same response.
MLFLOW_COMPATIBLE_VERSION = MLFLOW_PROTOCOL_VERSION
_SQL_SCHEMES = ("sqlite", "postgresql", "mysql")

logger = logging.getLogger(__name__)


def error_response(error: WaylineError) -> Response:
    return JsonResponse(error.to_dict(), status_code=http_status(error.error_code))


async def _wayline_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, WaylineError)  # registered for WaylineError only
    return error_response(exc)


async def _http_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return PlainTextResponse(exc.detail, status_code=exc.status_code, headers=exc.headers)


async def _unexpected_error(_: Request, exc: Exception) -> Response:
    logger.error("unhandled error", exc_info=exc)
    return error_response(WaylineError("Internal server error.", "INTERNAL_ERROR"))


async def health(_: Request) -> Response:
    return PlainTextResponse("OK")


async def version(_: Request) -> Response:
    return PlainTextResponse(
        MLFLOW_COMPATIBLE_VERSION, headers={"X-Wayline-Version": wayline.__version__}
    )


def build_tracking_store(settings: ServerSettings) -> Store:
    """The server's tracking store: a SQL store with a pool sized for this worker.

    An empty database gets the schema; an outdated one raises a WaylineError naming
    ``wayline db upgrade``. Other URIs (``http://``) go through the shared resolver.
    """
    uri = settings.backend_store_uri
    scheme = uri.partition(":")[0].split("+", 1)[0].lower()
    if scheme not in _SQL_SCHEMES:
        return tracking_store(uri, settings.default_artifact_root)
    from wayline.store.sql.engine import is_memory_sqlite, normalize_url
    from wayline.store.sql.store import SqlStore

    # An in-memory SQLite database is one shared connection: there is no pool to size.
    options = {} if is_memory_sqlite(normalize_url(uri)) else settings.pool_options()
    return SqlStore(
        uri,
        settings.default_artifact_root,
        truncate_long_values=settings.truncate_long_values,
        **options,
    )


class ArtifactsOnlyGuard:
    """``--artifacts-only``: tracking routes answer 503 with a plain-text explanation."""

    _BODY = (
        b"This server runs with --artifacts-only: it serves the artifact proxy"
        b" (/api/2.0/mlflow-artifacts/) only, not the tracking API."
    )

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        # server-info stays: it is how clients learn what the artifact proxy offers.
        if (
            scope["type"] == "http"
            and path.startswith(("/api/", "/ajax-api/"))
            and not path.startswith(RAW_BODY_PREFIXES)
            and not path.endswith("/mlflow/server-info")
        ):
            await PlainTextResponse(self._BODY, status_code=503)(scope, receive, send)
            return
        await self.app(scope, receive, send)


def create_app(settings: ServerSettings) -> FastAPI:
    """A Wayline tracking server for ``settings``, ready for any ASGI server.

    Example::

        import uvicorn
        from wayline.server import ServerSettings, create_app

        uvicorn.run(create_app(ServerSettings(backend_store_uri="sqlite:///runs.db")))
    """
    # Imported here: the UI brings Jinja2, which `import wayline` must not load.
    from wayline.ui import add_ui_pages

    # An artifacts-only server never touches the tracking database.
    store = None if settings.artifacts_only else build_tracking_store(settings)
    metrics = Metrics(settings.metrics_dir)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        metrics.close()
        if store is not None:
            store.close()

    # Routes come from the route table rather than from typed signatures: the handlers are plain
    # Starlette endpoints, and the OpenAPI document (with FastAPI's /docs over it) is built from
    # the same table.
    app = WaylineApp(
        title="Wayline tracking server",
        version=wayline.__version__,
        openapi_url=OPENAPI_URL,
        docs_url="/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    app.add_exception_handler(WaylineError, _wayline_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)
    app.add_route("/health", health, methods=["GET"])
    app.add_route("/version", version, methods=["GET"])
    app.add_route("/metrics", metrics.endpoint, methods=["GET"])
    if store is not None:
        add_tracking_routes(app.router, store, artifact_handlers(settings))
        add_registry_routes(app.router, store)
        add_trace_routes(app.router, store)
        add_otlp_routes(app.router, store, max_body_bytes=settings.max_request_body_bytes)
        add_ui_routes(app.router, store, settings)
        add_ui_pages(app.router, store, settings)
    add_artifact_routes(app.router, settings)
    _add_middleware(app, settings, metrics)
    return app


def _add_middleware(app: FastAPI, settings: ServerSettings, metrics: Metrics) -> None:
    # add_middleware puts each new one outside the previous ones: the last added runs first.
    if settings.artifacts_only:
        app.add_middleware(ArtifactsOnlyGuard)
    app.add_middleware(
        SecurityMiddleware,
        bound_host=settings.host,
        allowed_hosts=settings.allowed_hosts,
        cors_allowed_origins=settings.cors_allowed_origins,
        max_body_bytes=settings.max_request_body_bytes,
        x_frame_options=settings.x_frame_options,
    )
    app.add_middleware(
        ObservabilityMiddleware,
        metrics=metrics,
        routes=app.router.routes,
        access_log=settings.access_log,
        error_headers=security_headers(settings.x_frame_options),
    )


def create_app_from_env() -> FastAPI:
    """The factory uvicorn calls in each worker: settings come from ``ServerSettings.to_env``."""
    return create_app(ServerSettings.from_env())


__all__ = [
    "MLFLOW_COMPATIBLE_VERSION",
    "build_tracking_store",
    "create_app",
    "create_app_from_env",
]
