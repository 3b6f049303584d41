"""End-to-end integrity of artifact transfers: SHA-256 digests, the ``Content-Digest`` header
and the digest records the artifact proxy keeps beside the files it stores.

Both ends hash what they move. The client hashes a file before uploading it and sends the digest
as ``Content-Digest: sha-256=:<base64>:`` (RFC 9530); the proxy hashes the body while it streams
it to storage and keeps the file only when size and digest agree. The proxy then records
``{size, sha256}`` of the stored file (``DigestRecords``: an extended attribute of the file on
local disk, a small file in the reserved folder of other destinations) and sends the digest
with every download, which the client checks while it writes the file to disk.

Multipart uploads check each part with CRC32 instead, as S3 does: the client computes it while
it sends the part and compares it with the ``ETag`` the proxy answers (the CRC32 the proxy
computed), and ``complete`` joins only parts whose ETags the client names (``PartRecords``).
The joined file gets its SHA-256 record like any other.

A record is the proxy's word on what a file holds: when the bytes on storage change behind its
back (bit rot, a truncated copy, a write that bypassed the proxy), downloads fail the check
instead of handing out different bytes silently. (On local disk, a file *replaced* behind its
back has no record, and is served unchecked.)
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
import os
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from wayline.artifacts.fsspec_repo import FsspecArtifactRepository
from wayline.artifacts.paths import RESERVED_FOLDER, join_relative
from wayline.artifacts.repository import ArtifactRepository, ArtifactSink, read_chunks
from wayline.errors import NotFound, WaylineError

DIGEST_HEADER = "Content-Digest"
_ALGORITHM = "sha-256"
_SHA256_BYTES = 32

logger = logging.getLogger(__name__)


class Tally:
    """Counts bytes as they pass, and hashes them: SHA-256 unless ``sha256`` is False, and
    CRC32 (the checksum of a multipart upload's parts) when ``crc32`` is True."""

    __slots__ = ("_crc32", "_hash", "size")

    def __init__(self, *, sha256: bool = True, crc32: bool = False) -> None:
        self._hash = hashlib.sha256() if sha256 else None
        self._crc32 = 0 if crc32 else None
        self.size = 0

    def update(self, data: bytes | bytearray | memoryview) -> None:
        if self._hash is not None:
            self._hash.update(data)
        if self._crc32 is not None:
            self._crc32 = zlib.crc32(data, self._crc32)
        self.size += len(data)

    def digest(self) -> bytes:
        assert self._hash is not None, "a Tally without SHA-256"
        return self._hash.digest()

    def hexdigest(self) -> str:
        return self.digest().hex()

    def part_etag(self) -> str:
        assert self._crc32 is not None, "a Tally without CRC32"
        return part_etag(self._crc32)


def part_etag(crc32: int) -> str:
    """The ETag of a multipart upload's part: its CRC32 in 8 hex digits.

    Parts are checked with CRC32, as S3 checks them, rather than SHA-256: it finds the damage a
    transfer does at a fifth of the cost, and the whole file still gets its SHA-256.
    """
    return f"{crc32:08x}"


def is_part_etag(value: object) -> bool:
    return isinstance(value, str) and len(value) == 8 and _is_hex(value)


def content_digest(digest: bytes) -> str:
    """The ``Content-Digest`` value for a SHA-256 digest: ``sha-256=:<base64>:``."""
    return f"{_ALGORITHM}=:{base64.b64encode(digest).decode('ascii')}:"


def parse_content_digest(value: str) -> bytes | None:
    """The SHA-256 digest a ``Content-Digest`` value carries; None when it names only other
    algorithms (which we cannot check). ValueError when the value is malformed.

    Example::

        parse_content_digest("sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:")  # 32 bytes
    """
    for member in value.split(","):
        key, equals, rest = member.strip().partition("=")
        if not equals:
            raise ValueError("a Content-Digest member has no value")
        if key.strip().lower() != _ALGORITHM:
            continue
        encoded = rest.split(";", 1)[0].strip()  # parameters after ';' carry nothing for us
        if len(encoded) < 2 or encoded[0] != ":" or encoded[-1] != ":":
            raise ValueError("the sha-256 value is not a byte sequence (:base64:)")
        try:
            digest = base64.b64decode(encoded[1:-1], validate=True)
        except binascii.Error:
            raise ValueError("the sha-256 value is not valid base64") from None
        if len(digest) != _SHA256_BYTES:
            raise ValueError("the sha-256 value is not 32 bytes long")
        return digest
    return None


def _is_hex(value: str) -> bool:
    try:
        bytes.fromhex(value)
    except ValueError:
        return False
    return True


def is_sha256_hex(value: object) -> bool:
    """Whether ``value`` is a SHA-256 digest in lowercase or uppercase hex."""
    return isinstance(value, str) and len(value) == 2 * _SHA256_BYTES and _is_hex(value)


def file_sha256(local_file: str) -> bytes:
    digest = hashlib.sha256()
    for chunk in read_chunks(local_file):
        digest.update(chunk)
    return digest.digest()


def file_part_etag(local_file: str, offset: int, length: int) -> str:
    """The ETag of ``length`` bytes of a file from ``offset`` (a part)."""
    crc32 = 0
    for chunk in read_chunks(local_file, offset, length):
        crc32 = zlib.crc32(chunk, crc32)
    return part_etag(crc32)


@dataclass(frozen=True, slots=True)
class DigestRecord:
    """What the proxy stored at a path: its size and SHA-256 (hex)."""

    size: int
    sha256: str

    @property
    def digest(self) -> bytes:
        return bytes.fromhex(self.sha256)


@dataclass(frozen=True, slots=True)
class PartRecord:
    """A part of a multipart upload the proxy received whole: its size and ETag (``part_etag``)."""

    size: int
    etag: str


RECORDS_FOLDER = join_relative(RESERVED_FOLDER, "records")


class _JsonRecords:
    """Small JSON records kept in ``folder`` of a storage, at relative paths."""

    def __init__(self, storage: ArtifactRepository, folder: str) -> None:
        self._storage = storage
        self._folder = folder

    def _path(self, relative: str) -> str:
        return join_relative(self._folder, relative)

    def _read(self, relative: str) -> dict[str, Any] | None:
        try:
            with self._storage.open_artifact(self._path(relative)) as stream:
                raw = stream.read(4096)
        except NotFound:
            return None
        try:
            data = json.loads(raw)
        except ValueError:
            return None
        return data if isinstance(data, dict) else None

    def _write(self, relative: str, data: dict[str, Any]) -> None:
        try:
            with self._storage.open_write(self._path(relative)) as sink:
                sink.write(json.dumps(data).encode())
        except (OSError, WaylineError):
            # The file is stored already; without a record its downloads go unchecked (or
            # the part is sent again). A record of a file removed behind the proxy's back
            # can be in the way, say.
            logger.warning("could not record the digest of an artifact", exc_info=True)

    def forget(self, relative: str) -> None:
        """Remove the record at ``relative``, or every record under it."""
        if relative:
            self._storage.delete_artifacts(self._path(relative))


class DigestRecords(_JsonRecords):
    """``DigestRecord``s of the files under a storage root.

    On local disk a record rides on its file, as the extended attribute ``user.wayline.digest``:
    set before the file is renamed into place, so that file and record appear together, and
    gone with the file (a file replaced behind the proxy's back has no record: it is served
    unchecked; one changed in place fails the check). Elsewhere, and on filesystems without
    user attributes, records are small JSON files in ``folder`` (by default
    ``.wayline-internal/records``) at the same relative paths: they mirror the artifact tree,
    so those of a deleted directory go with one recursive delete.
    """

    def __init__(self, storage: ArtifactRepository, folder: str = RECORDS_FOLDER) -> None:
        super().__init__(storage, folder)
        self._local = (
            storage if isinstance(storage, FsspecArtifactRepository) and storage.is_local else None
        )

    def read(self, relative: str) -> DigestRecord | None:
        """The record of the file at ``relative``; None when there is none (or it is unreadable)."""
        local = self._local.local_path(relative) if self._local is not None else None
        if local is not None:
            try:
                return _digest_record(json.loads(os.getxattr(local, RECORD_ATTRIBUTE)))
            except ValueError:
                return None
            except OSError:
                pass  # no attribute: recorded in a file, if at all
        return _digest_record(self._read(relative))

    def attach(self, sink: ArtifactSink, record: DigestRecord) -> bool:
        """Record ``record`` on the file ``sink`` is writing, before it is committed; False
        when this storage cannot (the caller then ``forget``s, commits and ``write``s)."""
        fileno = getattr(sink, "fileno", None)  # local sinks have one
        if self._local is None or fileno is None:
            return False
        try:
            os.setxattr(fileno(), RECORD_ATTRIBUTE, _encode(record))
        except OSError:  # a filesystem (or container) without user attributes
            return False
        return True

    def write(self, relative: str, record: DigestRecord) -> None:
        """Record ``record`` for the file at ``relative`` (call ``forget`` before the file is
        replaced, so that a failure here leaves no record rather than a wrong one)."""
        self._write(relative, {"size": record.size, "sha256": record.sha256})


RECORD_ATTRIBUTE = "user.wayline.digest"


def _encode(record: DigestRecord) -> bytes:
    return json.dumps({"size": record.size, "sha256": record.sha256}).encode()


def _digest_record(data: object) -> DigestRecord | None:
    if not isinstance(data, dict):
        return None
    try:
        record = DigestRecord(int(data["size"]), str(data["sha256"]))
    except (ValueError, TypeError, KeyError):
        return None
    return record if record.size >= 0 and is_sha256_hex(record.sha256) else None


class PartRecords(_JsonRecords):
    """``PartRecord``s of an upload's parts, by part name."""

    def read(self, name: str) -> PartRecord | None:
        data = self._read(name)
        if data is None:
            return None
        try:
            record = PartRecord(int(data["size"]), str(data["etag"]))
        except (ValueError, TypeError, KeyError):
            return None
        return record if record.size >= 0 and is_part_etag(record.etag) else None

    def write(self, name: str, record: PartRecord) -> None:
        self._write(name, {"size": record.size, "etag": record.etag})


def expected_content(headers: Mapping[str, str]) -> tuple[int | None, bytes | None]:
    """``(Content-Length, SHA-256 from Content-Digest)`` announced by ``headers``, each None when
    absent; ValueError when one is malformed."""
    length_text = headers.get("content-length")
    length = None
    if length_text is not None:
        if not length_text.strip().isdigit():
            raise ValueError("Content-Length is not a number")
        length = int(length_text)
    digest_text = headers.get(DIGEST_HEADER.lower())
    digest = parse_content_digest(digest_text) if digest_text is not None else None
    return length, digest


def mismatch(tally: Tally, length: int | None, digest: bytes | None) -> str | None:
    """Why the bytes counted by ``tally`` are not the ones announced; None when they are."""
    if length is not None and tally.size != length:
        return f"received {tally.size} bytes where {length} were announced"
    if digest is not None and tally.digest() != digest:
        return f"the SHA-256 of the received bytes is {tally.hexdigest()}, not {digest.hex()}"
    return None


__all__ = [
    "DIGEST_HEADER",
    "RECORDS_FOLDER",
    "RECORD_ATTRIBUTE",
    "DigestRecord",
    "DigestRecords",
    "PartRecord",
    "PartRecords",
    "Tally",
    "content_digest",
    "expected_content",
    "file_part_etag",
    "file_sha256",
    "is_part_etag",
    "is_sha256_hex",
    "mismatch",
    "parse_content_digest",
    "part_etag",
]
