"""Multipart uploads through the artifact proxy (spec §9), resumable, checked end to end.

A client creates an upload for one target file and gets one URL per part; the URLs point back at
this server. Each part is PUT there, streamed to storage as it arrives and answered with its
CRC32 as the ``ETag`` (a part that comes with a SHA-256 ``Content-Digest`` is checked against it
too); ``complete`` checks the client's list of etags against the parts
received, joins the parts into the target in chunks (through the destination's ``open_sink``,
so local and remote destinations alike) and records the target's size and digest.

Routes, under both proxy prefixes (``/api/2.0/mlflow-artifacts`` and ``/ajax-api/...``)::

    POST mpu/create/<dir>          {path, num_parts, part_size?}      -> {upload_id, credentials}
    POST mpu/complete/<dir>        {path, upload_id, parts, sha256?}  -> {}
    POST mpu/abort/<dir>           {path, upload_id}                  -> {}
    PUT  mpu/parts/<upload_id>/<n> the part's bytes                   -> {}, ETag: "<crc32>"
    GET  mpu/parts/<upload_id>     -> {upload_id, path, num_parts, parts, credentials}

As in MLflow's wire format, the URL names the target's directory and ``path`` its file name (the
basename is taken, so MLflow clients before 3.18, which sent their local path, work too). The
parts list lets a client resume: it sends only the parts the server does not hold yet.

Staging lives in the destination's reserved folder, which no user path can reach::

    .wayline-internal/uploads/<upload_id>/upload.json       {"path", "num_parts", "part_size"}
    .wayline-internal/uploads/<upload_id>/part-00001        the part's bytes
    .wayline-internal/uploads/<upload_id>/data              or: every part, in place
    .wayline-internal/uploads/<upload_id>/digests/00001     {"size", "etag"} once it is whole

On a local destination, a client that announces its ``part_size`` (Wayline's does) gets its parts
written straight into one ``data`` file at their offsets, hashed in order by a background thread
as they arrive; ``complete`` then hashes only what that thread has not reached and renames the
file into place, so a multi-GB upload ends without a copy or a second pass over its bytes
(``upload_assembly.py``).

Upload ids are uuid4 hex and must match that form exactly before they touch a path. A part's
digest record is removed before the part is rewritten and written after it is whole, so a part
listed as held is the part received.
"""

from __future__ import annotations

import asyncio
import ntpath
import os
import re
import uuid
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from typing import Any

import anyio
import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Router

from wayline.artifacts.fsspec_repo import FsspecArtifactRepository
from wayline.artifacts.integrity import (
    DigestRecord,
    DigestRecords,
    PartRecord,
    PartRecords,
    Tally,
    expected_content,
    is_sha256_hex,
    mismatch,
)
from wayline.artifacts.paths import (
    RESERVED_FOLDER,
    invalid_path,
    join_relative,
    proxy_path,
    safe_relative_path,
)
from wayline.artifacts.repository import CHUNK_SIZE, ArtifactRepository, ArtifactSink
from wayline.errors import InvalidParameter, NotFound
from wayline.server.upload_assembly import PartWriter, PrefixHashes, join_parts

STAGING_FOLDER = join_relative(RESERVED_FOLDER, "uploads")
# S3's limit; a client with a bigger file uses bigger parts.
MAX_PARTS = 10_000
# Upload bytes are handed to storage in pieces of about this size: bounded memory, few hops
# to the thread pool.
UPLOAD_FLUSH_BYTES = 4 * CHUNK_SIZE
# The JSON bodies of create/complete/abort (the proxy's paths are exempt from the security
# middleware's body limit, since uploads are large): a complete of MAX_PARTS parts with their
# URLs is a few MB.
MAX_JSON_BODY_BYTES = 16 * 1024 * 1024
# S3's largest part.
MAX_PART_SIZE = 5 * 1024**3

_UPLOAD_ID = re.compile(r"[0-9a-f]{32}")
_PART_NUMBER = re.compile(r"[1-9][0-9]{0,4}")

Endpoint = Callable[[Request], Coroutine[Any, Any, Response]]


def _json(body: Mapping[str, Any], headers: Mapping[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), media_type="application/json", headers=headers)


# ---------------------------------------------------------------- receiving bytes
def announced_content(request: Request) -> tuple[int | None, bytes | None]:
    """``(Content-Length, SHA-256 of Content-Digest)`` of an upload; 400 when malformed."""
    try:
        return expected_content(request.headers)
    except ValueError as exc:
        raise InvalidParameter(f"Invalid Content-Length or Content-Digest header: {exc}.") from None


def _write(sink: ArtifactSink, tally: Tally, chunks: list[bytes]) -> None:
    # In the thread pool: hashing and writing release the GIL. The chunks go as they came,
    # since joining them first would copy every byte once more.
    for chunk in chunks:
        tally.update(chunk)
    if isinstance(sink, PartWriter):
        sink.write_many(chunks)
        return
    for chunk in chunks:
        sink.write(chunk)


async def receive_body(
    request: Request,
    sink: ArtifactSink,
    announced: tuple[int | None, bytes | None],
    tally: Tally | None = None,
) -> Tally:
    """Stream the request body into ``sink``, counting and hashing it into ``tally`` (by
    default a new SHA-256 one), and check it against what the headers announced
    (``announced_content``).

    The caller commits the sink; on any failure (a dropped client, a size or digest that does
    not match: InvalidParameter) the sink is discarded here and the error raised.
    """
    if tally is None:
        tally = Tally()
    # One batch is hashed and written in the thread pool while the next one arrives: at most
    # two batches in memory, and receiving overlaps storing.
    writing: asyncio.Future[None] | None = None
    try:
        pending: list[bytes] = []
        pending_bytes = 0
        async for chunk in request.stream():
            pending.append(chunk)
            pending_bytes += len(chunk)
            if pending_bytes >= UPLOAD_FLUSH_BYTES:
                if writing is not None:
                    await writing
                writing = asyncio.ensure_future(run_in_threadpool(_write, sink, tally, pending))
                pending, pending_bytes = [], 0
        if writing is not None:
            await writing
        if pending:
            await run_in_threadpool(_write, sink, tally, pending)
        problem = mismatch(tally, *announced)
        if problem is not None:
            raise InvalidParameter(f"The upload was refused and not stored: {problem}.")
    except BaseException:
        if writing is not None:
            with anyio.CancelScope(shield=True):  # not discarded under a write still running
                await asyncio.gather(writing, return_exceptions=True)
        await discard(sink)
        raise
    return tally


def store_whole(
    repo: ArtifactRepository,
    records: DigestRecords,
    relative: str,
    body: bytes,
    announced: tuple[int | None, bytes | None],
) -> None:
    """Check ``body`` against what the headers announced, then write it to ``relative`` and
    record it: a small upload in one trip to the thread pool (``receive_body`` streams big
    ones). InvalidParameter, and nothing written, when the body is not what was announced."""
    tally = Tally()
    tally.update(body)
    problem = mismatch(tally, *announced)
    if problem is not None:
        raise InvalidParameter(f"The upload was refused and not stored: {problem}.")
    sink = repo.open_sink(relative)
    try:
        sink.write(body)
    except BaseException:
        sink.discard()
        raise
    keep(sink, relative, tally, records)


async def discard(sink: ArtifactSink) -> None:
    """Discard ``sink``, even when the request is being cancelled."""
    # A dropped client or a failed write leaves nothing behind; shielded so that a cancelled
    # request still cleans up.
    with anyio.CancelScope(shield=True):
        await run_in_threadpool(sink.discard)


def keep(sink: ArtifactSink, relative: str, tally: Tally, records: DigestRecords) -> None:
    """Commit ``sink`` (the file at ``relative``) and record what it holds.

    On local disk the record is attached to the file before the commit. Elsewhere the old
    record goes first: a download in between is not checked rather than checked against the
    previous file's digest.
    """
    record = DigestRecord(tally.size, tally.hexdigest())
    try:
        attached = records.attach(sink, record)
        if not attached:
            records.forget(relative)
        sink.commit()
    except BaseException:
        sink.discard()
        raise
    if not attached:
        records.write(relative, record)


# ---------------------------------------------------------------- staging
@dataclass(frozen=True, slots=True)
class Manifest:
    """What an upload is for: the target path (under the destination) and its part count."""

    path: str
    num_parts: int
    part_size: int | None = None


class Staging:
    """The staged parts of unfinished uploads, in the destination's reserved folder."""

    def __init__(self, storage: ArtifactRepository) -> None:
        self._storage = storage

    @staticmethod
    def folder(upload_id: str) -> str:
        # Only ids of the exact uuid4-hex form reach here (upload_id_from).
        return f"{STAGING_FOLDER}/{upload_id}"

    def part_path(self, upload_id: str, number: int) -> str:
        return f"{self.folder(upload_id)}/part-{number:05d}"

    def data_path(self, upload_id: str) -> str:
        """The file that holds every part in place (uploads with a ``part_size``)."""
        return f"{self.folder(upload_id)}/data"

    def _records(self, upload_id: str) -> PartRecords:
        return PartRecords(self._storage, f"{self.folder(upload_id)}/digests")

    def create(self, target: str, num_parts: int, part_size: int | None = None) -> str:
        """A new upload of ``num_parts`` parts for ``target``; returns its id."""
        upload_id = uuid.uuid4().hex
        body = orjson.dumps({"path": target, "num_parts": num_parts, "part_size": part_size})
        with self._storage.open_write(f"{self.folder(upload_id)}/upload.json") as sink:
            sink.write(body)
        return upload_id

    def manifest(self, upload_id: str) -> Manifest:
        """The upload's manifest; NotFound when there is no such upload (or no longer)."""
        try:
            with self._storage.open_artifact(f"{self.folder(upload_id)}/upload.json") as stream:
                data = orjson.loads(stream.read(65536))
            part_size = data.get("part_size")
            return Manifest(
                str(data["path"]),
                int(data["num_parts"]),
                None if part_size is None else int(part_size),
            )
        except (NotFound, orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            raise NotFound(
                f"No multipart upload {upload_id}: it was completed or aborted, or never created."
            ) from None

    def held(self, upload_id: str) -> dict[int, PartRecord]:
        """The parts received whole so far, by part number."""
        records = self._records(upload_id)
        found: dict[int, PartRecord] = {}
        for info in self._storage.list_artifacts(f"{self.folder(upload_id)}/digests"):
            name = info.path.rsplit("/", 1)[-1]
            if info.is_dir or not name.isdigit():
                continue
            record = records.read(name)
            if record is not None:
                found[int(name)] = record
        return found

    def forget_part(self, upload_id: str, number: int) -> None:
        self._records(upload_id).forget(f"{number:05d}")

    def keep_part(
        self, upload_id: str, number: int, sink: ArtifactSink, record: PartRecord
    ) -> None:
        """Commit a received part, then record it."""
        try:
            sink.commit()
        except BaseException:
            sink.discard()
            raise
        self._records(upload_id).write(f"{number:05d}", record)

    def remove(self, upload_id: str) -> None:
        self._storage.delete_artifacts(self.folder(upload_id))


# ---------------------------------------------------------------- request values
def upload_id_from(value: object) -> str:
    """A well-formed upload id (32 lowercase hex digits), or 400."""
    if not isinstance(value, str) or not _UPLOAD_ID.fullmatch(value):
        raise InvalidParameter("Invalid upload_id: expected the id that mpu/create answered.")
    return value


def _file_name(value: object) -> str:
    # The file's name, as MLflow's server reads it: the last segment, whichever separator.
    if not isinstance(value, str):
        raise InvalidParameter("'path' must be the name of the file being uploaded.")
    name = safe_relative_path(ntpath.basename(value))
    if not name or "/" in name:
        raise invalid_path()
    return name


def _num_parts(value: object) -> int:
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_PARTS:
        raise InvalidParameter(f"'num_parts' must be an integer from 1 to {MAX_PARTS}.")
    return value


def _part_size(value: object) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_PART_SIZE:
        raise InvalidParameter(f"'part_size' must be an integer from 1 to {MAX_PART_SIZE}.")
    return value


def _etag(value: object) -> str:
    # ETags come back as the part PUT answered them: quoted, maybe weak-prefixed.
    text = value.strip() if isinstance(value, str) else ""
    return text.removeprefix("W/").strip('"').lower()


def _parts(value: object, num_parts: int) -> dict[int, str]:
    """``{part_number: etag}`` of a complete request, which must name every part once."""
    if not isinstance(value, list):
        raise InvalidParameter("'parts' must be a list of {part_number, etag}.")
    parts: dict[int, str] = {}
    for entry in value:
        number = entry.get("part_number") if isinstance(entry, dict) else None
        if not isinstance(number, int) or isinstance(number, bool) or number in parts:
            raise InvalidParameter("Each part needs a distinct integer 'part_number'.")
        parts[number] = _etag(entry.get("etag"))
    if sorted(parts) != list(range(1, num_parts + 1)):
        raise InvalidParameter(f"'parts' must list parts 1 to {num_parts}, each once.")
    return parts


async def json_body(request: Request) -> dict[str, Any]:
    """The request's JSON object (``{}`` for an empty body); 400 when it is anything else."""
    body = bytearray()
    try:
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_JSON_BODY_BYTES:
                raise InvalidParameter("The request body is too large.")
    except ClientDisconnect:
        raise InvalidParameter("The client went away before its request body ended.") from None
    if not body.strip():
        return {}
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise InvalidParameter("The request body is not valid JSON.") from None
    if not isinstance(value, dict):
        raise InvalidParameter("The request body must be a JSON object.")
    return value


# ---------------------------------------------------------------- the endpoints
class MultipartUploads:
    """The multipart endpoints over one destination (module docstring)."""

    def __init__(self, storage: ArtifactRepository, records: DigestRecords) -> None:
        self._storage = storage
        self._records = records
        self._staging = Staging(storage)
        # Parts go in place only on local disk, where a file can be written at any offset.
        self._local = (
            storage if isinstance(storage, FsspecArtifactRepository) and storage.is_local else None
        )
        self._hashes = PrefixHashes()

    # -------------------------------------------------------- create / complete / abort
    async def _target(self, request: Request) -> tuple[str, dict[str, Any]]:
        """``(target path, JSON body)``: the URL names the directory, ``path`` the file."""
        directory = proxy_path(request.path_params.get("path"))
        body = await json_body(request)
        return proxy_path(join_relative(directory, _file_name(body.get("path")))), body

    async def _manifest_for(self, upload_id: str, target: str) -> Manifest:
        manifest = await run_in_threadpool(self._staging.manifest, upload_id)
        if manifest.path != target:
            raise InvalidParameter(f"Upload {upload_id} is for another file.")
        return manifest

    def create(self, prefix: str) -> Endpoint:
        """``mpu/create``: a new upload; its part URLs use ``prefix`` (the request's API)."""

        async def endpoint(request: Request) -> Response:
            target, body = await self._target(request)
            num_parts = _num_parts(body.get("num_parts"))
            part_size = _part_size(body.get("part_size")) if self._local is not None else None
            if await run_in_threadpool(self._storage.is_dir, target):
                raise InvalidParameter(f"Cannot overwrite directory {target!r} with a file.")
            upload_id = await run_in_threadpool(self._staging.create, target, num_parts, part_size)
            credentials = _credentials(request, prefix, upload_id, num_parts)
            return _json({"upload_id": upload_id, "credentials": credentials})

        return endpoint

    async def complete(self, request: Request) -> Response:
        """``mpu/complete``: check every part's etag, join the parts into the target."""
        target, body = await self._target(request)
        upload_id = upload_id_from(body.get("upload_id"))
        expected = body.get("sha256")
        if expected is not None and not is_sha256_hex(expected):
            raise InvalidParameter("'sha256' must be the file's SHA-256 in hex.")
        manifest = await self._manifest_for(upload_id, target)
        etags = _parts(body.get("parts"), manifest.num_parts)
        held = await run_in_threadpool(self._staging.held, upload_id)
        for number, etag in etags.items():
            record = held.get(number)
            if record is None:
                raise InvalidParameter(f"Part {number} of upload {upload_id} was not received.")
            if etag != record.etag:
                raise InvalidParameter(
                    f"Part {number} of upload {upload_id}: the etag {etag!r} is not the one "
                    "its upload answered."
                )
        sha256 = expected.lower() if isinstance(expected, str) else None
        await run_in_threadpool(self._assemble, upload_id, manifest, held, sha256)
        return _json({})

    def _assemble(
        self, upload_id: str, manifest: Manifest, held: dict[int, PartRecord], sha256: str | None
    ) -> None:
        """Join the parts into the target; a file that is not the one announced is not kept."""
        if manifest.part_size is not None and self._local is not None:
            self._assemble_in_place(upload_id, manifest, manifest.part_size, held, sha256)
            return
        sink = self._storage.open_sink(manifest.path)
        parts = [self._staging.part_path(upload_id, n) for n in range(1, manifest.num_parts + 1)]
        try:
            tally, sizes = join_parts(self._storage, parts, sink)
            for number, size in enumerate(sizes, start=1):
                if size != held[number].size:
                    raise InvalidParameter(f"Part {number} changed after it was received.")
            if sha256 is not None and tally.hexdigest() != sha256:
                raise InvalidParameter(
                    f"The parts of upload {upload_id} make a file whose SHA-256 is "
                    f"{tally.hexdigest()}, not {sha256}: it was not stored."
                )
        except InvalidParameter:
            # These parts will never make the announced file: the upload is over.
            sink.discard()
            self._staging.remove(upload_id)
            raise
        except BaseException:
            sink.discard()
            raise
        keep(sink, manifest.path, tally, self._records)
        self._staging.remove(upload_id)

    def _assemble_in_place(
        self,
        upload_id: str,
        manifest: Manifest,
        part_size: int,
        held: dict[int, PartRecord],
        sha256: str | None,
    ) -> None:
        assert self._local is not None
        for number in range(1, manifest.num_parts):
            if held[number].size != part_size:
                self._abandon(upload_id)
                raise InvalidParameter(
                    f"Part {number} of upload {upload_id} holds {held[number].size} bytes, "
                    f"not the announced part size {part_size}."
                )
        data = self._local.local_target(self._staging.data_path(upload_id))
        assert data is not None  # a local destination
        tally = self._hashes.finish(upload_id, held, data, part_size)
        if sha256 is not None and tally.hexdigest() != sha256:
            self._abandon(upload_id)
            raise InvalidParameter(
                f"The parts of upload {upload_id} make a file whose SHA-256 is "
                f"{tally.hexdigest()}, not {sha256}: it was not stored."
            )
        os.truncate(data, tally.size)  # a longer last part from an earlier attempt
        sink = self._storage.open_sink(manifest.path)
        try:
            sink.adopt(data)  # type: ignore[attr-defined]  # local sinks can
        except BaseException:
            sink.discard()
            raise
        keep(sink, manifest.path, tally, self._records)
        self._staging.remove(upload_id)

    def _abandon(self, upload_id: str) -> None:
        # These parts will never make the announced file: the upload is over.
        self._hashes.drop(upload_id)
        self._staging.remove(upload_id)

    async def abort(self, request: Request) -> Response:
        """``mpu/abort``: drop the staged parts (``{}`` too when they are gone already)."""
        target, body = await self._target(request)
        upload_id = upload_id_from(body.get("upload_id"))
        try:
            await self._manifest_for(upload_id, target)
        except NotFound:
            return _json({})
        await run_in_threadpool(self._abandon, upload_id)
        return _json({})

    # -------------------------------------------------------- parts
    def parts(self, prefix: str) -> Endpoint:
        """``mpu/parts/<id>/<n>`` (PUT: one part) and ``mpu/parts/<id>`` (GET: what is held)."""

        async def endpoint(request: Request) -> Response:
            segments = request.path_params["rest"].split("/")
            upload_id = upload_id_from(segments[0])
            if request.method == "GET" and len(segments) == 1:
                return await self._list_parts(request, prefix, upload_id)
            if request.method == "PUT" and len(segments) == 2:
                if not _PART_NUMBER.fullmatch(segments[1]):
                    raise InvalidParameter("Invalid part number.")
                return await self._put_part(request, upload_id, int(segments[1]))
            raise invalid_path()

        return endpoint

    async def _list_parts(self, request: Request, prefix: str, upload_id: str) -> Response:
        manifest = await run_in_threadpool(self._staging.manifest, upload_id)
        held = await run_in_threadpool(self._staging.held, upload_id)
        parts = [
            {"part_number": number, "etag": f'"{record.etag}"', "size": record.size}
            for number, record in sorted(held.items())
            if number <= manifest.num_parts
        ]
        return _json(
            {
                "upload_id": upload_id,
                "path": manifest.path,
                "num_parts": manifest.num_parts,
                "parts": parts,
                "credentials": _credentials(request, prefix, upload_id, manifest.num_parts),
            }
        )

    async def _put_part(self, request: Request, upload_id: str, number: int) -> Response:
        manifest = await run_in_threadpool(self._staging.manifest, upload_id)
        if number > manifest.num_parts:
            raise InvalidParameter(f"Upload {upload_id} has {manifest.num_parts} parts.")
        announced = announced_content(request)
        self._hashes.forget_part(upload_id, number)
        await run_in_threadpool(self._staging.forget_part, upload_id, number)
        in_place = manifest.part_size is not None and self._local is not None
        sink: ArtifactSink
        if in_place:
            data, sink = await run_in_threadpool(
                self._part_writer, upload_id, manifest, number, announced[0]
            )
        else:
            path = self._staging.part_path(upload_id, number)
            sink = await run_in_threadpool(self._storage.open_sink, path)
        # SHA-256 only when the client sent one to check; the file's comes at complete.
        tally = Tally(sha256=announced[1] is not None, crc32=True)
        try:
            await receive_body(request, sink, announced, tally)
        except ClientDisconnect:
            return Response(status_code=400)  # nobody is left to read it
        record = PartRecord(tally.size, tally.part_etag())
        await run_in_threadpool(self._staging.keep_part, upload_id, number, sink, record)
        if in_place and manifest.part_size is not None:
            self._hashes.part_kept(upload_id, number, record, data, manifest.part_size)
        return _json({}, headers={"ETag": f'"{record.etag}"'})

    def _part_writer(
        self, upload_id: str, manifest: Manifest, number: int, size: int | None
    ) -> tuple[str, PartWriter]:
        """``(data file, writer of part number's region)``: every part but the last fills
        exactly ``part_size`` bytes, announced by Content-Length."""
        assert self._local is not None and manifest.part_size is not None
        last = number == manifest.num_parts
        if size is None or not (
            0 < size <= manifest.part_size if last else size == manifest.part_size
        ):
            raise InvalidParameter(
                f"Part {number} of upload {upload_id} must come with a Content-Length of "
                + ("at most " if last else "")
                + f"{manifest.part_size} bytes, the part size announced at create."
            )
        data = self._local.local_target(self._staging.data_path(upload_id))
        assert data is not None
        return data, PartWriter(data, (number - 1) * manifest.part_size, size)


def _credentials(
    request: Request, prefix: str, upload_id: str, num_parts: int
) -> list[dict[str, Any]]:
    # Absolute URLs back to this server, as the client reached it (root path included).
    base = str(request.base_url).rstrip("/")
    return [
        {
            "url": f"{base}{prefix}/mpu/parts/{upload_id}/{number}",
            "part_number": number,
            "headers": {},
        }
        for number in range(1, num_parts + 1)
    ]


def add_multipart_routes(
    router: Router, prefixes: tuple[str, ...], storage: ArtifactRepository, records: DigestRecords
) -> None:
    """Mount the multipart endpoints under each proxy prefix (module docstring)."""
    uploads = MultipartUploads(storage, records)
    add = router.add_route
    for prefix in prefixes:
        actions: dict[str, Endpoint] = {
            "create": uploads.create(prefix),
            "complete": uploads.complete,
            "abort": uploads.abort,
        }
        for action, endpoint in actions.items():
            # Without a directory (the destination's root) the URL may end at the action.
            add(f"{prefix}/mpu/{action}", endpoint, methods=["POST"])
            add(f"{prefix}/mpu/{action}/{{path:path}}", endpoint, methods=["POST"])
        add(f"{prefix}/mpu/parts/{{rest:path}}", uploads.parts(prefix), methods=["GET", "PUT"])


__all__ = [
    "MAX_PARTS",
    "STAGING_FOLDER",
    "Manifest",
    "MultipartUploads",
    "Staging",
    "add_multipart_routes",
    "announced_content",
    "discard",
    "json_body",
    "keep",
    "receive_body",
    "upload_id_from",
]
