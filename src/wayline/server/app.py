"""The app factory: ``create_app(settings)`` builds the stores and mounts every router.

Nothing happens at import time; each call makes an independent app around the stores its
settings name. Errors have one rendering each:

* ``WaylineError``: ``{"error_code", "message"}`` with the status of ``http_status(code)``;
* malformed requests the framework itself rejects: 400 INVALID_PARAMETER_VALUE;
* unknown paths and wrong methods: a plain-text 404/405, which MLflow's client reads as
  ENDPOINT_NOT_FOUND and uses to fall back to older APIs (a JSON body without an error_code
  would read as INTERNAL_ERROR instead);
* anything else: 500 INTERNAL_ERROR with a generic message; the traceback goes to the log only.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

import wayline
from wayline.errors import WaylineError, http_status
from wayline.server.settings import ServerSettings
from wayline.server.tracking_routes import JsonResponse, add_tracking_routes
from wayline.store.resolve import tracking_store

logger = logging.getLogger(__name__)


def error_response(error: WaylineError) -> Response:
    return JsonResponse(error.to_dict(), status_code=http_status(error.error_code))


async def _wayline_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, WaylineError)  # registered for WaylineError only
    return error_response(exc)


async def _validation_error(_: Request, exc: Exception) -> Response:
    return error_response(WaylineError(f"Invalid request: {exc}", "INVALID_PARAMETER_VALUE"))


async def _http_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return PlainTextResponse(exc.detail, status_code=exc.status_code, headers=exc.headers)


async def _unexpected_error(_: Request, exc: Exception) -> Response:
    logger.error("unhandled error", exc_info=exc)
    return error_response(WaylineError("Internal server error.", "INTERNAL_ERROR"))


async def health(_: Request) -> Response:
    return PlainTextResponse("OK")


async def version(_: Request) -> Response:
    return PlainTextResponse(wayline.__version__)


def create_app(settings: ServerSettings) -> FastAPI:
    """A Wayline tracking server for ``settings``, ready for any ASGI server.

    Example::

        import uvicorn
        from wayline.server import ServerSettings, create_app

        uvicorn.run(create_app(ServerSettings(backend_store_uri="sqlite:///runs.db")))
    """
    store = tracking_store(settings.backend_store_uri, settings.default_artifact_root)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        store.close()

    # No generated docs or OpenAPI schema: MLflow serves none, so those paths stay plain 404s.
    app = FastAPI(
        title="Wayline",
        version=wayline.__version__,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.add_exception_handler(WaylineError, _wayline_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)
    app.add_route("/health", health, methods=["GET"], include_in_schema=False)
    app.add_route("/version", version, methods=["GET"], include_in_schema=False)
    add_tracking_routes(app.router, store)
    return app


def create_app_from_env() -> FastAPI:
    """The factory uvicorn calls in each worker: settings come from ``ServerSettings.to_env``."""
    return create_app(ServerSettings.from_env())


__all__ = ["create_app", "create_app_from_env"]
