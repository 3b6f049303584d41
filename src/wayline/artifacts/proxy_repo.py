"""``ProxyArtifactRepository``: artifacts through a tracking server's artifact proxy (spec §9).

``mlflow-artifacts:/<path>`` resolves against the tracking server
(``<tracking_uri>/api/2.0/mlflow-artifacts/artifacts/<path>``); ``mlflow-artifacts://host:port/``
names the server itself; an ``http(s)://…/api/2.0/mlflow-artifacts/artifacts/<path>`` URI is used
as it is. Uploads stream the local file as the PUT body and downloads stream the GET body to disk,
so memory stays bounded whatever the size. Requests carry the REST store's headers (the client's
identification and its credentials: ``MLFLOW_TRACKING_USERNAME``/``PASSWORD`` or
``~/.mlflow/credentials``, ``..._TOKEN``) and use its TLS settings (``..._INSECURE_TLS``,
``..._CERT_PATH``), so an authenticated server serves artifacts as it serves the tracking API.

Integrity: an upload carries the file's SHA-256 as ``Content-Digest`` (RFC 9530), which the
server checks before it keeps the file (a part of a multipart upload is checked by its CRC32,
``integrity.py``); a download is checked against the ``Content-Length`` and
``Content-Digest`` the server sends, and a file that does not match them is not kept (WaylineError
``DATA_LOSS``).

Large files (``MultipartSettings.minimum_file_size``, 500 MiB by default) go in parts when the
server's ``server-info`` advertises multipart uploads and its part URLs lead back to it (a
Wayline server): a few parts at a time, each read from disk in chunks and retried like any
request. An unfinished upload is remembered in the user's cache directory
(``~/.cache/wayline/uploads/<sha256 of the target URL>.json``), so logging the same file again
sends only the parts the server does not hold. Any other server gets the single streamed PUT.
"""

from __future__ import annotations

import contextlib
import io
import mimetypes
import os
import posixpath
import random
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextvars import copy_context
from typing import BinaryIO
from urllib.parse import quote, urlparse

import httpx

from wayline.artifacts.background_writer import BackgroundWriter
from wayline.artifacts.codec import decode_file_info
from wayline.artifacts.integrity import (
    DIGEST_HEADER,
    Tally,
    content_digest,
    expected_content,
    file_part_etag,
    file_sha256,
    mismatch,
    parse_content_digest,
)
from wayline.artifacts.paths import invalid_path, join_relative, safe_relative_path
from wayline.artifacts.progress import report
from wayline.artifacts.proxy_uploads import (
    MultipartSettings,
    UploadMemory,
    UploadPlan,
    UploadState,
    multipart_settings_from_env,
    normalize_etag,
    read_plan,
    same_origin,
)
from wayline.artifacts.repository import (
    CHUNK_SIZE,
    ArtifactRepository,
    ArtifactSink,
    LocalPath,
    read_chunks,
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
MULTIPART_API = "/api/2.0/mlflow-artifacts/mpu"
SERVER_INFO_API = "/api/3.0/mlflow/server-info"
PROXY_SCHEME = "mlflow-artifacts"
# The server's limit on parts (S3's); a bigger file gets bigger parts.
MAX_PARTS = 10_000
# How fast a server is assumed to join parts at least, to give complete a long enough timeout.
_JOIN_BYTES_PER_S = 20 * 1024 * 1024

# Statuses that mean "not processed, try again". Every proxy call may be repeated: a PUT
# overwrites, a repeated mpu/create leaves an unused upload, a repeated complete is recognised.
_RETRY_STATUSES = frozenset({408, 429, 502, 503, 504})
_MAX_BACKOFF_S = 30.0

_clients: dict[tuple[str, RestSettings], httpx.Client] = {}
_clients_lock = threading.Lock()
# server base URL -> whether it takes multipart uploads (asked once per process)
_multipart_servers: dict[str, bool] = {}


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


def _file_chunks(local_file: str, offset: int = 0, length: int | None = None) -> Iterator[bytes]:
    """``read_chunks``, each chunk reported as moved once it is handed on."""
    for chunk in read_chunks(local_file, offset, length):
        yield chunk
        report(len(chunk))


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
    """Buffers a write in a spooled temporary file (memory up to a bound, then disk), hashing
    it; the upload happens at ``commit``, streamed from that file."""

    def __init__(self, upload: Callable[[BinaryIO, Tally], None]) -> None:
        import tempfile

        self._upload = upload
        self._tally = Tally()
        # The sink owns the file: it is closed by commit or discard.
        self._file = tempfile.SpooledTemporaryFile(max_size=8 * CHUNK_SIZE)  # noqa: SIM115

    def write(self, data: bytes | bytearray | memoryview, /) -> int:
        self._tally.update(data)
        return self._file.write(data)

    def commit(self) -> None:
        try:
            self._file.seek(0)
            self._upload(self._file, self._tally)  # type: ignore[arg-type]
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
        multipart: MultipartSettings | None = None,
    ) -> None:
        super().__init__(artifact_uri)
        self._base, self._root = split_proxy_uri(artifact_uri, tracking_uri)
        self._settings = settings or rest_settings_from_env(os.environ)
        self._multipart = multipart or multipart_settings_from_env(os.environ)
        self._memory = UploadMemory(self._multipart.state_dir)

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
        size = os.path.getsize(local)
        if (
            size >= self._multipart.minimum_file_size
            and self._takes_multipart()
            and self._upload_in_parts(local, target, size)
        ):
            return
        digest = file_sha256(local)
        self._put(target, lambda: _file_chunks(local), size, digest)

    def _put(
        self, relative: str, body: Callable[[], Iterator[bytes]], size: int, digest: bytes
    ) -> None:
        content_type = mimetypes.guess_type(relative)[0] or "application/octet-stream"
        headers = {
            "Content-Type": content_type,
            "Content-Length": str(size),
            DIGEST_HEADER: content_digest(digest),
        }
        url = self._url(relative)
        self._send(lambda: self._http.build_request("PUT", url, content=body(), headers=headers))

    def open_sink(self, path: str) -> ArtifactSink:
        relative = safe_relative_path(path)
        if not relative:
            raise invalid_path()

        def upload(spool: BinaryIO, tally: Tally) -> None:
            def chunks() -> Iterator[bytes]:
                spool.seek(0)
                while chunk := spool.read(CHUNK_SIZE):
                    yield chunk
                    report(len(chunk))

            self._put(relative, chunks, tally.size, tally.digest())

        return _SpooledSink(upload)

    # ------------------------------------------------------------------ multipart uploads
    def _takes_multipart(self) -> bool:
        """Whether the server advertises multipart uploads (asked once per server)."""
        known = _multipart_servers.get(self._base)
        if known is None:
            url = f"{self._base}{SERVER_INFO_API}"
            try:
                info = self._send(lambda: self._http.build_request("GET", url)).json()
            except (WaylineError, ValueError):
                return False  # a server without server-info (or unreachable): no multipart
            known = isinstance(info, dict) and info.get("multipart_uploads_enabled") is True
            _multipart_servers[self._base] = known
        return known

    def _mpu_url(self, action: str, target: str) -> tuple[str, str]:
        """``(URL of mpu/<action> for target's directory, target's file name)``."""
        directory, name = posixpath.split(join_relative(self._root, target))
        return f"{self._base}{MULTIPART_API}/{action}/{quote(directory, safe='/')}", name

    def _upload_in_parts(self, local: str, target: str, size: int) -> bool:
        """Upload ``local`` in parts, resuming an unfinished upload of the same file; False
        when the server cannot take this upload in parts (the caller PUTs it whole).

        No pass over the file precedes the transfer: each part's CRC32 is computed while it is
        sent and compared with the ETag the server answers (a part the server already holds is
        checked the same way, and skipped). ``complete`` names those ETags, and the server
        hashes the joined file itself, so the whole file is not hashed here.
        """
        part_size = max(self._multipart.part_size, -(-size // MAX_PARTS))
        num_parts = max(1, -(-size // part_size))
        url = self._url(target)
        # The file is known by size and modification time; a part whose bytes differ from the
        # held one is sent again whatever the memory says.
        state = UploadState("", size, os.stat(local).st_mtime_ns, part_size, "")
        remembered = self._memory.recall(url)
        plan = None
        if remembered is not None and remembered == state.with_id(remembered.upload_id):
            plan = self._resume(remembered.upload_id, num_parts)
        elif remembered is not None:
            self._abort(target, remembered.upload_id)  # of another file: its parts are no use
        if plan is None:
            plan = self._create(target, num_parts, part_size)
            if plan is None:
                return False
            self._memory.remember(url, state.with_id(plan.upload_id))
        etags = self._upload_parts(local, size, part_size, plan)
        self._complete(target, plan, etags, local, size)
        self._memory.forget(url)
        return True

    def _create(self, target: str, num_parts: int, part_size: int) -> UploadPlan | None:
        url, name = self._mpu_url("create", target)
        # part_size lets a Wayline server with local storage write parts in place.
        body = {"path": name, "num_parts": num_parts, "part_size": part_size}
        try:
            response = self._send(lambda: self._http.build_request("POST", url, json=body))
        except WaylineError as exc:
            if exc.error_code in ("NOT_IMPLEMENTED", "ENDPOINT_NOT_FOUND"):
                return None
            raise
        plan = read_plan(response.json(), num_parts)
        if not all(same_origin(u, self._base) for u, _ in plan.credentials.values()):
            # Parts bound for other hosts (an MLflow server's presigned storage URLs) would
            # not take our credentials, digests or resumption: PUT the file whole instead.
            self._abort(target, plan.upload_id)
            return None
        return plan

    def _resume(self, upload_id: str, num_parts: int) -> UploadPlan | None:
        """The remembered upload with the parts the server holds; None when it is gone."""
        url = f"{self._base}{MULTIPART_API}/parts/{upload_id}"
        try:
            body = self._send(lambda: self._http.build_request("GET", url)).json()
        except (NotFound, InvalidParameter):
            return None  # completed, aborted or never known: start afresh
        except WaylineError as exc:
            if exc.error_code == "ENDPOINT_NOT_FOUND":
                return None
            raise
        if not isinstance(body, dict) or body.get("num_parts") != num_parts:
            return None
        return read_plan(body, num_parts)

    def _upload_parts(self, local: str, size: int, part_size: int, plan: UploadPlan) -> list[str]:
        """Send the parts the server lacks, a few at a time (the first failure stops the
        rest); the ETag of every part, in order."""
        numbers = sorted(plan.credentials)
        workers = min(self._multipart.max_workers, len(numbers))
        with ThreadPoolExecutor(workers, thread_name_prefix="wayline-upload") as pool:
            # Each task runs in a copy of this context, so that progress reaches our listener.
            futures = [
                pool.submit(
                    copy_context().run,
                    self._upload_part,
                    local,
                    (n - 1) * part_size,
                    min(part_size, size - (n - 1) * part_size),
                    plan.credentials[n],
                    plan.held.get(n),
                )
                for n in numbers
            ]
            try:
                for future in as_completed(futures):
                    future.result()
            except BaseException:
                for future in futures:
                    future.cancel()
                raise
        return [future.result() for future in futures]

    def _upload_part(
        self,
        local: str,
        offset: int,
        length: int,
        credential: tuple[str, dict[str, str]],
        held: str | None,
    ) -> str:
        if held is not None and held == file_part_etag(local, offset, length):
            return held  # the server has these bytes from an earlier attempt
        url, extra = credential
        headers = {
            **extra,
            "Content-Type": "application/octet-stream",
            "Content-Length": str(length),
        }
        tally = Tally(sha256=False, crc32=True)

        def body() -> Iterator[bytes]:
            nonlocal tally
            tally = Tally(sha256=False, crc32=True)  # afresh for each attempt
            for chunk in _file_chunks(local, offset, length):
                tally.update(chunk)
                yield chunk

        response = self._send(
            lambda: self._http.build_request("PUT", url, content=body(), headers=headers)
        )
        etag = tally.part_etag()
        if normalize_etag(response.headers.get("ETag")) != etag:
            raise WaylineError(f"The server stored a part of {local} as other bytes than sent.")
        return etag

    def _complete(
        self, target: str, plan: UploadPlan, etags: list[str], local: str, size: int
    ) -> None:
        url, name = self._mpu_url("complete", target)
        parts = [
            {"part_number": n, "etag": f'"{etags[n - 1]}"', "url": plan.credentials[n][0]}
            for n in sorted(plan.credentials)
        ]
        body = {"path": name, "upload_id": plan.upload_id, "parts": parts}
        # The server joins the parts before it answers: give it time for a big file.
        timeout = httpx.Timeout(
            self._settings.timeout, read=max(self._settings.timeout, size / _JOIN_BYTES_PER_S)
        )
        try:
            self._send(lambda: self._http.build_request("POST", url, json=body, timeout=timeout))
        except NotFound:
            # A retried complete finds the upload gone if the first attempt did finish.
            if self._stored_digest(target) != file_sha256(local):
                raise
        except InvalidParameter:
            self._memory.forget(self._url(target))  # these parts will never make the file
            self._abort(target, plan.upload_id)
            raise

    def _abort(self, target: str, upload_id: str) -> None:
        url, name = self._mpu_url("abort", target)
        body = {"path": name, "upload_id": upload_id}
        # Best effort: what is left is the server's to clean.
        with contextlib.suppress(WaylineError):
            self._send(lambda: self._http.build_request("POST", url, json=body))

    def _stored_digest(self, target: str) -> bytes | None:
        url = self._url(target)
        try:
            response = self._send(lambda: self._http.build_request("HEAD", url))
        except WaylineError:
            return None
        value = response.headers.get(DIGEST_HEADER)
        try:
            return parse_content_digest(value) if value else None
        except ValueError:
            return None

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

    def _download_file(self, path: str, local_file: str) -> None:
        """Stream the artifact to ``local_file``, checking it against the size and digest the
        server sent (the caller removes the file when this raises)."""
        relative = safe_relative_path(path)
        if not relative:
            raise NotFound("No such artifact: ''")
        url = self._url(relative)
        response = self._send(lambda: self._http.build_request("GET", url), stream=True)
        tally = Tally()
        try:
            expected = _expected_download(response.headers)
            with open(local_file, "wb") as target, BackgroundWriter(target) as writer:
                # Chunks as they arrive: re-chunking to a fixed size copies every byte again.
                for chunk in response.iter_bytes():
                    writer.write(chunk)
                    tally.update(chunk)
                    report(len(chunk))
        except httpx.HTTPError as exc:
            raise WaylineError(f"Downloading artifact {relative!r} failed: {exc}") from exc
        finally:
            response.close()
        problem = mismatch(tally, *expected)
        if problem is not None:
            raise WaylineError(
                f"Artifact {relative!r} arrived corrupt ({problem}); it was not kept.", "DATA_LOSS"
            )

    # ------------------------------------------------------------------ deleting
    def delete_artifacts(self, path: str | None = None) -> None:
        relative = safe_relative_path(path)
        if not relative and not self._root:
            raise InvalidParameter("Refusing to delete the whole artifact store.")
        url = self._url(relative)
        self._send(lambda: self._http.build_request("DELETE", url))


def _expected_download(headers: httpx.Headers) -> tuple[int | None, bytes | None]:
    """``(size, SHA-256)`` a download response announces. A transformed body (a proxy's gzip)
    is not the one they describe: then nothing is checked."""
    if headers.get("content-encoding", "identity").lower() != "identity":
        return None, None
    try:
        return expected_content(headers)
    except ValueError as exc:
        raise WaylineError(f"The artifact server sent a malformed header: {exc}") from None


def close_clients() -> None:
    """Close the pooled HTTP connections and forget what servers said they offer (tests,
    fork)."""
    with _clients_lock:
        clients = list(_clients.values())
        _clients.clear()
        _multipart_servers.clear()
    for client in clients:
        client.close()


__all__ = [
    "ARTIFACTS_API",
    "MULTIPART_API",
    "PROXY_SCHEME",
    "MultipartSettings",
    "ProxyArtifactRepository",
    "close_clients",
    "multipart_settings_from_env",
]
