"""The artifact proxy (spec rest-tracking.md §9), ``server-info`` and the ListArtifacts RPC.

The proxy stores under ``ServerSettings.artifacts_destination`` through an
``FsspecArtifactRepository``, so every path is checked by ``wayline.artifacts.paths`` (and, for a
local destination, must resolve inside it); ``proxy_path`` also keeps user paths out of the
destination's reserved folder, where the proxy stages multipart uploads (``multipart.py``) and
keeps digest records, and listings never show it. Bytes stream both ways: a PUT body goes to
storage in bounded chunks as it arrives (the body is never read whole), and a GET streams the
file back as an attachment, with ``nosniff`` and a sandboxing CSP, so an HTML, SVG or JS artifact
is never rendered in the server's origin.

Integrity (``wayline.artifacts.integrity``): a PUT is hashed as it streams and kept only when
its size and SHA-256 match ``Content-Length`` and ``Content-Digest`` (when sent; else 400 and
nothing is stored); every stored file gets a ``{size, sha256}`` record, sent back as
``Content-Digest`` on GET and removed with the file.

ListArtifacts and ListLoggedModelArtifacts live in the tracking route table, whose handlers
see only the store and the request values; ``listing_handlers(destination)`` binds the proxy's
storage when the app is built, and ``artifact_handlers(settings)`` is what the app factory
hands to the tracking router.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Callable, Iterator, Mapping
from typing import Any, BinaryIO
from urllib.parse import quote, urlparse

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import FileResponse, Response, StreamingResponse
from starlette.routing import Router

from wayline.artifacts.codec import encode_file_info
from wayline.artifacts.fsspec_repo import FsspecArtifactRepository, is_local_uri, local_root
from wayline.artifacts.integrity import DIGEST_HEADER, DigestRecords, content_digest
from wayline.artifacts.paths import (
    RESERVED_FOLDER,
    invalid_path,
    join_relative,
    proxy_path,
    safe_relative_path,
)
from wayline.artifacts.repository import CHUNK_SIZE, ArtifactRepository, artifact_name
from wayline.artifacts.resolve import artifact_repository
from wayline.entities import FileInfo
from wayline.errors import InvalidParameter, WaylineError
from wayline.protocol import JsonDict, run_id_of
from wayline.server.multipart import (
    add_multipart_routes,
    announced_content,
    keep,
    receive_body,
    store_whole,
)
from wayline.server.settings import ServerSettings
from wayline.store.tracking import TrackingStore

Handler = Callable[[TrackingStore, Mapping[str, Any]], JsonDict]

PROXY_PREFIXES = ("/api/2.0/mlflow-artifacts", "/ajax-api/2.0/mlflow-artifacts")
SERVER_INFO_URLS = ("/api/3.0/mlflow/server-info", "/ajax-api/3.0/mlflow/server-info")

# Sent with every download: even opened directly, an artifact runs no script in the server's
# origin. (``X-Content-Type-Options: nosniff`` is on every response: SecurityMiddleware.)
DOWNLOAD_HEADERS = {"Content-Security-Policy": "default-src 'none'; sandbox"}
# Uploads announcing at most this many bytes are read whole, then checked, written and recorded
# in one trip to the thread pool: logging many small files costs one hop each, not three.
SMALL_UPLOAD_BYTES = 1024 * 1024


def _json(body: JsonDict, status_code: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status_code, media_type="application/json")


def destination_repository(destination: str) -> FsspecArtifactRepository:
    """The repository the proxy stores in; a relative local destination is fixed now, so a
    later change of working directory cannot move it."""
    if is_local_uri(destination):
        destination = local_root(destination)
    repo = artifact_repository(destination)
    if not isinstance(repo, FsspecArtifactRepository):
        raise InvalidParameter(f"The artifact destination must be storage, not {destination!r}")
    return repo


# ---------------------------------------------------------------- proxy endpoints
def _media_type(path: str) -> str:
    return mimetypes.guess_type(artifact_name(path))[0] or "application/octet-stream"


def _stream(source: BinaryIO) -> Iterator[bytes]:
    # Starlette runs a sync iterator in the thread pool, chunk by chunk.
    with source:
        while chunk := source.read(CHUNK_SIZE):
            yield chunk


class ArtifactFileResponse(FileResponse):
    # Starlette reads 64 KiB per trip to the thread pool; a GiB then costs 16,000 trips.
    chunk_size = CHUNK_SIZE


def _download_headers(name: str) -> dict[str, str]:
    quoted = quote(name)
    # RFC 6266: a plain quoted name when it is safe ASCII, else the UTF-8 ``filename*`` form.
    disposition = (
        f'attachment; filename="{name}"'
        if quoted == name
        else f"attachment; filename*=utf-8''{quoted}"
    )
    return {**DOWNLOAD_HEADERS, "Content-Disposition": disposition}


async def _download(
    repo: FsspecArtifactRepository, records: DigestRecords, relative: str, request: Request
) -> Response:
    headers = _download_headers(artifact_name(relative))
    record = await run_in_threadpool(records.read, relative)
    # A range answers part of the file, which the whole file's digest does not describe.
    if record is not None and "range" not in request.headers:
        headers[DIGEST_HEADER] = content_digest(record.digest)
    local = await run_in_threadpool(repo.local_path, relative)
    if local is not None:
        return ArtifactFileResponse(local, media_type=_media_type(relative), headers=headers)
    source = await run_in_threadpool(repo.open_artifact, relative)
    # fsspec's remote files know their size; without it the record's is the best we have.
    size = getattr(source, "size", None)
    if isinstance(size, int):
        headers["Content-Length"] = str(size)
    elif record is not None:
        headers["Content-Length"] = str(record.size)
    return StreamingResponse(_stream(source), media_type=_media_type(relative), headers=headers)


async def _upload(
    repo: ArtifactRepository, records: DigestRecords, relative: str, request: Request
) -> Response:
    if not relative:
        raise invalid_path()
    announced = announced_content(request)  # a malformed header is refused before any write
    length = announced[0]
    if length is not None and length <= SMALL_UPLOAD_BYTES:
        try:
            body = await request.body()
        except ClientDisconnect:
            return Response(status_code=400)
        await run_in_threadpool(store_whole, repo, records, relative, body, announced)
        return _json({})
    sink = await run_in_threadpool(repo.open_sink, relative)
    try:
        tally = await receive_body(request, sink, announced)
    except ClientDisconnect:
        return Response(status_code=400)  # nobody is left to read it; no error to log either
    await run_in_threadpool(keep, sink, relative, tally, records)
    return _json({})


def _visible(infos: list[FileInfo]) -> list[FileInfo]:
    """A listing without the reserved folder (which only the destination's root holds)."""
    return [info for info in infos if info.path != RESERVED_FOLDER]


def proxy_endpoints(
    repo: FsspecArtifactRepository, records: DigestRecords | None = None
) -> tuple[Callable[[Request], Any], Callable[[Request], Any]]:
    """``(one artifact: GET/HEAD/PUT/DELETE, listing: GET ?path=)`` over ``repo``, keeping
    digest records in ``records`` (by default in ``repo``'s reserved folder)."""
    records = records or DigestRecords(repo)

    async def artifact(request: Request) -> Response:
        relative = proxy_path(request.path_params["path"])
        if request.method in ("GET", "HEAD"):
            return await _download(repo, records, relative, request)
        if request.method == "PUT":
            return await _upload(repo, records, relative, request)
        if not relative:
            raise invalid_path()  # DELETE of the root would wipe every experiment's artifacts
        await run_in_threadpool(records.forget, relative)
        await run_in_threadpool(repo.delete_artifacts, relative)
        return _json({})

    async def listing(request: Request) -> Response:
        path = proxy_path(request.query_params.get("path"))
        infos = _visible(await run_in_threadpool(repo.list_artifacts, path or None))
        if not infos:
            return _json({})  # a file, a missing path or an empty directory (spec §9)
        return _json({"files": [encode_file_info(i, artifact_name(i.path)) for i in infos]})

    return artifact, listing


async def _not_implemented(request: Request) -> Response:
    error = WaylineError(
        "Presigned URLs are not supported by this server's artifact storage.", "NOT_IMPLEMENTED"
    )
    return _json(error.to_dict(), status_code=error.http_status)


def server_info(settings: ServerSettings) -> JsonDict:
    """The capability object MLflow's client reads before moving artifacts (spec §1.5)."""
    scheme = urlparse(settings.backend_store_uri).scheme.split("+", 1)[0]
    store_type = "SqlStore" if scheme in ("sqlite", "postgresql", "mysql") else None
    return {
        "store_type": store_type,
        "workspaces_enabled": False,
        "trace_archival_enabled": False,
        # Parts go to this server (mpu/parts), which MLflow's client handles like presigned
        # URLs: any destination can take them.
        "multipart_uploads_enabled": settings.serve_artifacts,
        "multipart_downloads_enabled": False,
        "artifact_serving_enabled": settings.serve_artifacts,
        "presigned_upload_run_id_supported": False,
        "presigned_upload_model_id_supported": False,
        "model_artifact_presigned_downloads_supported": False,
        "features_enabled": {"gateway": False, "scheduled_issue_detection": False},
        "tracking_auth": "",
        "artifacts_presigned_only": False,
    }


def add_artifact_routes(router: Router, settings: ServerSettings) -> None:
    """Mount ``server-info`` and, when ``settings.serve_artifacts``, the artifact proxy."""
    info = server_info(settings)

    async def answer_server_info(_: Request) -> Response:
        return _json(info)

    for url in SERVER_INFO_URLS:
        router.add_route(url, answer_server_info, methods=["GET"])
    if not settings.serve_artifacts:
        return
    destination = destination_repository(settings.artifacts_destination)
    records = DigestRecords(destination)
    artifact, listing = proxy_endpoints(destination, records)
    methods = ["GET", "HEAD", "PUT", "DELETE"]
    for prefix in PROXY_PREFIXES:
        add = router.add_route
        add(f"{prefix}/artifacts", listing, methods=["GET"])
        add(f"{prefix}/artifacts/{{path:path}}", artifact, methods=methods)
        add(f"{prefix}/presigned/{{path:path}}", _not_implemented, methods=["GET"])
    add_multipart_routes(router, PROXY_PREFIXES, destination, records)


# ---------------------------------------------------------------- ListArtifacts RPC
def run_location(
    root_uri: str, destination: ArtifactRepository | None
) -> tuple[ArtifactRepository, str]:
    """The repository holding a run's artifacts and the run root's path inside it."""
    parsed = urlparse(root_uri)
    if parsed.scheme != "mlflow-artifacts":
        return artifact_repository(root_uri), ""
    if destination is None:
        raise InvalidParameter(
            f"Artifacts at {root_uri!r} are served by the artifact proxy, which this server "
            "does not run (start it with --serve-artifacts)."
        )
    return destination, proxy_path(parsed.path.lstrip("/"))


def artifact_listing(
    root_uri: str, path: str | None, proxy_repo: ArtifactRepository | None
) -> JsonDict:
    """``{root_uri, files}`` for the directory ``path`` under an artifact root."""
    repo, prefix = run_location(root_uri, proxy_repo)
    full = join_relative(prefix, safe_relative_path(path or None))
    if repo is not proxy_repo:
        infos = repo.list_artifacts(full or None)
    else:
        infos = _visible(repo.list_artifacts(proxy_path(full) or None))
    body: JsonDict = {"root_uri": root_uri}
    if infos:
        # Paths are relative to the artifact root (spec §4), not to the storage root.
        cut = len(prefix) + 1 if prefix else 0
        body["files"] = [encode_file_info(i, i.path[cut:]) for i in infos]
    return body


def listing_handlers(destination: str | None) -> dict[str, Handler]:
    """ListArtifacts (a run's files) and ListLoggedModelArtifacts (a logged model's);
    ``mlflow-artifacts:/`` roots resolve against ``destination`` (None: this server does not
    proxy artifacts)."""
    proxy_repo = None if destination is None else destination_repository(destination)

    def list_artifacts(store: TrackingStore, values: Mapping[str, Any]) -> JsonDict:
        root_uri = store.get_run(run_id_of(values)).info.artifact_uri
        return artifact_listing(root_uri, values.get("path"), proxy_repo)

    def list_logged_model_artifacts(store: TrackingStore, values: Mapping[str, Any]) -> JsonDict:
        root_uri = store.get_logged_model(values["model_id"]).artifact_uri
        return artifact_listing(root_uri, values.get("artifact_directory_path"), proxy_repo)

    return {
        "ListArtifacts": list_artifacts,
        "ListLoggedModelArtifacts": list_logged_model_artifacts,
    }


# Without the proxy's settings: roots on local paths, file:// or s3:// still list.
LISTING_HANDLERS = listing_handlers(None)


def artifact_handlers(settings: ServerSettings) -> dict[str, Handler]:
    """Tracking-route handlers that need the artifact settings, bound to them."""
    return listing_handlers(settings.artifacts_destination if settings.serve_artifacts else None)


__all__ = [
    "LISTING_HANDLERS",
    "ArtifactFileResponse",
    "add_artifact_routes",
    "artifact_handlers",
    "artifact_listing",
    "destination_repository",
    "listing_handlers",
    "run_location",
    "server_info",
]
