"""``ProxyArtifactRepository``: artifacts through a tracking server's artifact proxy (spec §9).

``mlflow-artifacts:/<path>`` resolves against the tracking server
(``<tracking_uri>/api/2.0/mlflow-artifacts/artifacts/<path>``); ``mlflow-artifacts://host:port/``
names the server itself; an ``http(s)://…/api/2.0/mlflow-artifacts/artifacts/<path>`` URI is used
as it is. Uploads stream the local file as the PUT body and downloads stream the GET body to disk,
so memory stays bounded whatever the size. Requests carry the REST store's headers (the client's
identification and its credentials: ``MLFLOW_TRACKING_USERNAME``/``PASSWORD`` or
``~/.mlflow/credentials``, ``..._TOKEN``) and use its TLS settings (``..._INSECURE_TLS``,
``..._CERT_PATH``), so an authenticated server serves artifacts as it serves the tracking API.
"""

from __future__ import annotations

import io
import mimetypes
import os
import random
import threading
import time
from collections.abc import Callable, Iterator
from typing import BinaryIO
from urllib.parse import quote, urlparse

import httpx

from wayline.artifacts.codec import decode_file_info
from wayline.artifacts.paths import invalid_path, join_relative, safe_relative_path
from wayline.artifacts.repository import (
    CHUNK_SIZE,
    ArtifactRepository,
    ArtifactSink,
    LocalPath,
    upload_target,
)
from wayline.entities import FileInfo
from wayline.errors import InvalidParameter, NotFound, WaylineError
from wayline.store.rest.client import (
    RestSettings,
    client_headers,
    error_from_response,
    rest_settings_from_env,
    tls_verify,
)

ARTIFACTS_API = "/api/2.0/mlflow-artifacts/artifacts"
PROXY_SCHEME = "mlflow-artifacts"

# Statuses that mean "not processed, try again"; every proxy call is idempotent (PUT overwrites).
_RETRY_STATUSES = frozenset({408, 429, 502, 503, 504})
_MAX_BACKOFF_S = 30.0

_clients: dict[tuple[str, RestSettings], httpx.Client] = {}
_clients_lock = threading.Lock()


def split_proxy_uri(uri: str, tracking_uri: str | None) -> tuple[str, str]:
    """``(server base URL, root path inside the proxy)`` for a proxy or http(s) artifact URI."""
    parsed = urlparse(uri)
    if parsed.scheme == PROXY_SCHEME:
        root = parsed.path
        if parsed.netloc:
            tracking_scheme = urlparse(tracking_uri or "").scheme
            scheme = tracking_scheme if tracking_scheme in ("http", "https") else "http"
            base = f"{scheme}://{parsed.netloc}"
        elif tracking_uri and urlparse(tracking_uri).scheme in ("http", "https"):
            base = tracking_uri.rstrip("/")
        else:
            raise WaylineError(
                f"Artifact URI {uri!r} is served by a tracking server, but the tracking URI "
                f"{tracking_uri!r} is not one: set it to http(s)://host:port."
            )
    elif parsed.scheme in ("http", "https"):
        prefix, marker, root = parsed.path.partition(ARTIFACTS_API)
        if not marker:
            raise InvalidParameter(
                f"{uri!r} is not an artifact proxy URL (its path lacks {ARTIFACTS_API})."
            )
        base = f"{parsed.scheme}://{parsed.netloc}{prefix}"
    else:
        raise InvalidParameter(f"Not an artifact proxy URI: {uri!r}")
    return base, safe_relative_path(root.lstrip("/"))


def _http_client(base: str, settings: RestSettings) -> httpx.Client:
    # One keep-alive pool per server, shared by every repository pointing at it.
    key = (base, settings)
    client = _clients.get(key)
    if client is None:
        with _clients_lock:
            client = _clients.get(key)
            if client is None:
                client = httpx.Client(
                    timeout=httpx.Timeout(settings.timeout),
                    headers=client_headers(settings),
                    verify=tls_verify(base, settings),
                )
                _clients[key] = client
    return client


def _file_chunks(local_file: str) -> Iterator[bytes]:
    with open(local_file, "rb") as source:
        while chunk := source.read(CHUNK_SIZE):
            yield chunk


class _ResponseReader(io.RawIOBase):
    """A raw stream over an httpx streaming response; closing it closes the response."""

    def __init__(self, response: httpx.Response) -> None:
        self._response = response
        self._chunks = response.iter_bytes(CHUNK_SIZE)
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        while not self._pending:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._pending = chunk
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size

    def close(self) -> None:
        if not self.closed:
            self._response.close()
        super().close()


class _SpooledSink:
    """Buffers a write in a spooled temporary file (memory up to a bound, then disk); the
    upload happens at ``commit``, streamed from that file."""

    def __init__(self, upload: Callable[[BinaryIO], None]) -> None:
        import tempfile

        self._upload = upload
        # The sink owns the file: it is closed by commit or discard.
        self._file = tempfile.SpooledTemporaryFile(max_size=8 * CHUNK_SIZE)  # noqa: SIM115

    def write(self, data: bytes | bytearray | memoryview, /) -> int:
        return self._file.write(data)

    def commit(self) -> None:
        try:
            self._file.seek(0)
            self._upload(self._file)  # type: ignore[arg-type]
        finally:
            self._file.close()

    def discard(self) -> None:
        self._file.close()


class ProxyArtifactRepository(ArtifactRepository):
    """Artifacts served by a Wayline (or MLflow) tracking server's artifact proxy.

    Example::

        repo = ProxyArtifactRepository(
            "mlflow-artifacts:/1/abc/artifacts", tracking_uri="http://127.0.0.1:5000"
        )
        repo.log_artifact("plot.png", "plots")
    """

    def __init__(
        self,
        artifact_uri: str,
        tracking_uri: str | None = None,
        settings: RestSettings | None = None,
    ) -> None:
        super().__init__(artifact_uri)
        self._base, self._root = split_proxy_uri(artifact_uri, tracking_uri)
        self._settings = settings or rest_settings_from_env(os.environ)

    @property
    def _http(self) -> httpx.Client:
        return _http_client(self._base, self._settings)

    def _url(self, relative: str) -> str:
        full = join_relative(self._root, relative)
        return f"{self._base}{ARTIFACTS_API}/{quote(full, safe='/')}"

    def _send(self, build: Callable[[], httpx.Request], *, stream: bool = False) -> httpx.Response:
        """Send a request (rebuilt per attempt, so a streamed body restarts), retrying
        transient failures; raises the WaylineError an error response stands for."""
        attempt = 0
        while True:
            try:
                response = self._http.send(build(), stream=stream)
            except httpx.TransportError as exc:
                if attempt >= self._settings.max_retries:
                    raise WaylineError(f"Artifact request failed: {exc}") from exc
            else:
                retry = response.status_code in _RETRY_STATUSES
                if not retry or attempt >= self._settings.max_retries:
                    if response.status_code >= 300:
                        if stream:
                            response.read()
                            response.close()
                        raise error_from_response(response)
                    return response
                response.close()
            attempt += 1
            delay = self._settings.backoff_factor * (2 ** (attempt - 1)) if attempt > 1 else 0.0
            time.sleep(
                min(delay + random.uniform(0, self._settings.backoff_jitter), _MAX_BACKOFF_S)
            )

    # ------------------------------------------------------------------ writing
    def log_artifact(self, local_file: LocalPath, artifact_path: str | None = None) -> None:
        local, target = upload_target(local_file, artifact_path)
        self._put(target, lambda: _file_chunks(local), os.path.getsize(local))

    def _put(self, relative: str, body: Callable[[], Iterator[bytes]], size: int) -> None:
        content_type = mimetypes.guess_type(relative)[0] or "application/octet-stream"
        headers = {"Content-Type": content_type, "Content-Length": str(size)}
        url = self._url(relative)
        self._send(lambda: self._http.build_request("PUT", url, content=body(), headers=headers))

    def open_sink(self, path: str) -> ArtifactSink:
        relative = safe_relative_path(path)
        if not relative:
            raise invalid_path()

        def upload(spool: BinaryIO) -> None:
            size = spool.seek(0, os.SEEK_END)

            def chunks() -> Iterator[bytes]:
                spool.seek(0)
                while chunk := spool.read(CHUNK_SIZE):
                    yield chunk

            self._put(relative, chunks, size)

        return _SpooledSink(upload)

    # ------------------------------------------------------------------ reading
    def list_artifacts(self, path: str | None = None) -> list[FileInfo]:
        relative = safe_relative_path(path)
        url = f"{self._base}{ARTIFACTS_API}"
        params = {"path": join_relative(self._root, relative)}
        response = self._send(lambda: self._http.build_request("GET", url, params=params))
        files = response.json().get("files") or []
        found: list[FileInfo] = []
        for entry in files:
            info = decode_file_info(entry)
            # Names come from the server: each must be one safe segment.
            name = safe_relative_path(info.path)
            if not name or "/" in name:
                raise InvalidParameter(f"The artifact server listed an invalid name {name!r}")
            found.append(FileInfo(join_relative(relative, name), info.is_dir, info.file_size))
        found.sort(key=lambda info: info.path)
        return found

    def open_artifact(self, path: str) -> BinaryIO:
        relative = safe_relative_path(path)
        if not relative:
            raise NotFound("No such artifact: ''")
        url = self._url(relative)
        response = self._send(lambda: self._http.build_request("GET", url), stream=True)
        return io.BufferedReader(_ResponseReader(response), CHUNK_SIZE)

    # ------------------------------------------------------------------ deleting
    def delete_artifacts(self, path: str | None = None) -> None:
        relative = safe_relative_path(path)
        if not relative and not self._root:
            raise InvalidParameter("Refusing to delete the whole artifact store.")
        url = self._url(relative)
        self._send(lambda: self._http.build_request("DELETE", url))


def close_clients() -> None:
    """Close the pooled HTTP connections (tests, fork)."""
    with _clients_lock:
        clients = list(_clients.values())
        _clients.clear()
    for client in clients:
        client.close()


__all__ = ["ARTIFACTS_API", "PROXY_SCHEME", "ProxyArtifactRepository", "close_clients"]
