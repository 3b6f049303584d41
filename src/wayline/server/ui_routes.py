"""Routes the MLflow web UI calls outside the REST API: artifact files of runs and of registered
model versions.

The UI shows a run's artifacts through ``GET /get-artifact?path=<p>&run_uuid=<id>`` (``run_id``
is accepted too): images as ``<img src>``, text fetched and displayed, anything else downloaded.
Its bundle also builds ``/ajax-api/2.0/mlflow/get-artifact`` with the same query, which MLflow
3.18's server does not answer; this one serves both, identically.

The file streams from wherever the run's artifact root is: a local path, remote storage
(``s3://``, ``gs://``, …) or ``mlflow-artifacts:/``, which resolves inside this server's proxy
destination as the ListArtifacts RPC does. Responses reuse the artifact proxy's download headers
(an attachment with a sandboxing CSP; ``nosniff`` comes with every response), and the content
type follows MLflow's rule: source and config files (``.js``, ``.json``, ``.py``, ``MLmodel``…)
are ``text/plain``, so with ``nosniff`` a browser never runs one as a script. A missing file (or a
directory) is a 404 ``RESOURCE_DOES_NOT_EXIST``; the path is checked by
``wayline.artifacts.paths`` like every other.

``/model-versions/get-artifact?name=&version=&path=`` does the same for a registered model
version (its model page shows the MLmodel and files): the version's download URI is resolved as
``models:/<name>/<version>`` is everywhere (``wayline.artifacts.uris``), then served with the same
path checks, content types and headers. It too answers on the plain and the ``/ajax-api/2.0/mlflow``
prefixes.
"""

from __future__ import annotations

import posixpath
from collections.abc import Awaitable, Callable

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Router

from wayline.artifacts.fsspec_repo import FsspecArtifactRepository
from wayline.artifacts.paths import join_relative, proxy_path, safe_relative_path
from wayline.artifacts.repository import ArtifactRepository, artifact_name
from wayline.artifacts.uris import version_location
from wayline.errors import WaylineError
from wayline.protocol import missing_parameter, run_id_of
from wayline.server.artifact_routes import (
    ArtifactFileResponse,
    _download_headers,
    _media_type,
    _stream,
    destination_repository,
    run_location,
)
from wayline.server.settings import ServerSettings
from wayline.store.registry import RegistryStore
from wayline.store.tracking import TrackingStore

UI_ARTIFACT_URLS = ("/get-artifact", "/ajax-api/2.0/mlflow/get-artifact")
MODEL_VERSION_ARTIFACT_URLS = (
    "/model-versions/get-artifact",
    "/ajax-api/2.0/mlflow/model-versions/get-artifact",
)

# MLflow's list (mlflow.utils.mime_type_utils): served as text/plain whatever mimetypes says.
TEXT_EXTENSIONS = frozenset(
    {
        *("txt", "log", "err", "cfg", "conf", "cnf", "cf", "ini", "properties", "prop", "hocon"),
        *(
            "toml",
            "yaml",
            "yml",
            "xml",
            "json",
            "js",
            "py",
            "py3",
            "csv",
            "tsv",
            "md",
            "rst",
            "ipynb",
        ),
    }
)
TEXT_FILE_NAMES = frozenset({"MLmodel", "MLproject"})


def ui_media_type(path: str) -> str:
    """The content type the UI gets for artifact ``path``.

    Example::

        ui_media_type("model/MLmodel")  # "text/plain"
        ui_media_type("plots/roc.png")  # "image/png"
    """
    name = artifact_name(path)
    extension = posixpath.splitext(name)[1][1:].lower()
    if extension in TEXT_EXTENSIONS or (not extension and name in TEXT_FILE_NAMES):
        return "text/plain"
    return _media_type(path)


async def _send(repo: ArtifactRepository, relative: str) -> Response:
    headers = _download_headers(artifact_name(relative))
    media_type = ui_media_type(relative)
    if isinstance(repo, FsspecArtifactRepository):
        local = await run_in_threadpool(repo.local_path, relative)
        if local is not None:
            return ArtifactFileResponse(local, media_type=media_type, headers=headers)
    source = await run_in_threadpool(repo.open_artifact, relative)
    return StreamingResponse(_stream(source), media_type=media_type, headers=headers)


def artifact_endpoint(
    store: TrackingStore, destination: ArtifactRepository | None
) -> Callable[[Request], Awaitable[Response]]:
    """``GET /get-artifact?path=&run_uuid=`` over ``store``; ``destination`` is the proxy's
    storage (None when this server does not proxy artifacts)."""

    async def get_artifact(request: Request) -> Response:
        values = request.query_params
        run_id = run_id_of(values)
        if "path" not in values:
            raise missing_parameter("path")
        path = safe_relative_path(values["path"])
        run = await run_in_threadpool(store.get_run, run_id)
        return await send_artifact(run.info.artifact_uri, path, destination)

    return get_artifact


async def send_artifact(
    root_uri: str, relative: str, destination: ArtifactRepository | None
) -> Response:
    """The file ``relative`` under the artifact root ``root_uri``."""
    repo, prefix = await run_in_threadpool(run_location, root_uri, destination)
    full = join_relative(prefix, relative)
    if repo is destination:  # the proxy's own files (digest records…) belong to nobody
        full = proxy_path(full)
    return await _send(repo, full)


def model_version_artifact_endpoint(
    store: TrackingStore, destination: ArtifactRepository | None
) -> Callable[[Request], Awaitable[Response]]:
    """``GET /model-versions/get-artifact?name=&version=&path=`` over ``store`` (which must
    also be a registry store); ``destination`` as for ``artifact_endpoint``."""

    async def get_model_version_artifact(request: Request) -> Response:
        values = request.query_params
        for required in ("name", "version"):
            if not values.get(required):
                raise missing_parameter(required)
        if "path" not in values:
            raise missing_parameter("path")
        path = safe_relative_path(values["path"])
        if not isinstance(store, RegistryStore):
            raise WaylineError("This server's store has no model registry.", "NOT_IMPLEMENTED")
        root, prefix = await run_in_threadpool(
            version_location, values["name"], values["version"], store
        )
        return await send_artifact(root, join_relative(prefix, path), destination)

    return get_model_version_artifact


def add_ui_routes(router: Router, store: TrackingStore, settings: ServerSettings) -> None:
    """Mount the UI's artifact routes (``UI_ARTIFACT_URLS``) on ``router``."""
    destination = (
        destination_repository(settings.artifacts_destination) if settings.serve_artifacts else None
    )
    endpoint = artifact_endpoint(store, destination)
    for url in UI_ARTIFACT_URLS:
        router.add_route(url, endpoint, methods=["GET"])
    version_endpoint = model_version_artifact_endpoint(store, destination)
    for url in MODEL_VERSION_ARTIFACT_URLS:
        router.add_route(url, version_endpoint, methods=["GET"])


__all__ = [
    "MODEL_VERSION_ARTIFACT_URLS",
    "UI_ARTIFACT_URLS",
    "add_ui_routes",
    "artifact_endpoint",
    "model_version_artifact_endpoint",
    "send_artifact",
    "ui_media_type",
]
