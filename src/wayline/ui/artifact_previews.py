"""What the artifact browser shows for one file: a preview chosen by the file's name, built from
at most the first bytes of the file.

=============================  ===================================================================
file                           preview
=============================  ===================================================================
png, jpg, gif, webp, svg, bmp  ``image``: an ``<img>`` of ``/get-artifact`` (an SVG in an ``<img>``
                               runs no script)
html, htm                      ``html``: a ``sandbox=""`` iframe of the page's ``frame`` route
json                           ``text``, pretty-printed when the whole file was read and parses
yaml, yml                      ``text``, re-dumped in block style likewise (aliases are refused:
                               a few bytes of them can expand to gigabytes)
csv, tsv                       ``table`` of the first ``MAX_TABLE_ROWS`` rows
parquet                        ``table`` through pyarrow (a note when it is not installed)
MLmodel, txt, log, py, md, …   ``text``: the first ``MAX_TEXT_BYTES``
anything else                  ``text`` when its first bytes are UTF-8 without NUL, else ``none``
=============================  ===================================================================

Every limit is on bytes read, never on the file: a preview of a 10 GB log reads 128 KB.
"""

from __future__ import annotations

import csv
import io
import json
import posixpath
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Literal

import yaml

from wayline.artifacts.repository import artifact_name
from wayline.server.ui_routes import TEXT_EXTENSIONS, TEXT_FILE_NAMES

MAX_TEXT_BYTES = 128 * 1024
MAX_TABLE_BYTES = 1024 * 1024
MAX_TABLE_ROWS = 100
MAX_TABLE_COLUMNS = 50
MAX_CELL_CHARS = 300
# Parquet reads whole column chunks of a row group: above this size the preview is not offered.
MAX_PARQUET_BYTES = 128 * 1024 * 1024

IMAGE_EXTENSIONS = frozenset({"png", "jpg", "jpeg", "gif", "webp", "svg", "bmp"})
HTML_EXTENSIONS = frozenset({"html", "htm"})

Kind = Literal["image", "html", "json", "yaml", "table", "parquet", "text", "unknown"]
Opener = Callable[[], BinaryIO]


@dataclass(frozen=True, slots=True)
class Preview:
    """A file's preview: ``kind`` says which fields the template shows.

    ``text`` for ``text``; ``columns``/``rows`` for ``table``; ``truncated`` when only the
    beginning of the file is shown; ``note`` says why a preview is partial or missing.
    """

    kind: Literal["image", "html", "text", "table", "none"]
    text: str = ""
    columns: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    truncated: bool = False
    note: str = ""


def _extension(path: str) -> str:
    return posixpath.splitext(artifact_name(path))[1][1:].lower()


def preview_kind(path: str) -> Kind:
    """How the file at ``path`` is previewed, by its name alone.

    Example::

        preview_kind("plots/roc.svg")  # "image"
        preview_kind("model/MLmodel")  # "text"
    """
    extension = _extension(path)
    if extension in IMAGE_EXTENSIONS:
        return "image"
    if extension in HTML_EXTENSIONS:
        return "html"
    if extension == "json":
        return "json"
    if extension in ("yaml", "yml"):
        return "yaml"
    if extension in ("csv", "tsv"):
        return "table"
    if extension == "parquet":
        return "parquet"
    if extension in TEXT_EXTENSIONS or (not extension and artifact_name(path) in TEXT_FILE_NAMES):
        return "text"
    return "unknown"


def _head(open_file: Opener, limit: int) -> tuple[bytes, bool]:
    """The first ``limit`` bytes and whether the file holds more."""
    with open_file() as source:
        chunks: list[bytes] = []
        wanted = limit + 1
        while wanted > 0 and (chunk := source.read(wanted)):
            chunks.append(chunk)
            wanted -= len(chunk)
    data = b"".join(chunks)
    return data[:limit], len(data) > limit


def _text_preview(data: bytes, truncated: bool) -> Preview:
    if b"\x00" in data:
        return Preview("none", note="This looks like a binary file: download it to open it.")
    # A cut in the middle of a UTF-8 sequence shows as one replacement character at the end.
    return Preview("text", text=data.decode("utf-8", errors="replace"), truncated=truncated)


def _pretty_json(text: str) -> str | None:
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except (ValueError, RecursionError):
        return None


def _pretty_yaml(text: str) -> str | None:
    try:
        if any(isinstance(e, yaml.AliasEvent) for e in yaml.parse(text, Loader=yaml.SafeLoader)):
            return None
        value = yaml.safe_load(text)
        dumped = yaml.safe_dump(
            value, sort_keys=False, allow_unicode=True, default_flow_style=False, width=100
        )
    except (yaml.YAMLError, RecursionError):
        return None
    return str(dumped)


def _document_preview(kind: Kind, open_file: Opener) -> Preview:
    data, truncated = _head(open_file, MAX_TEXT_BYTES)
    preview = _text_preview(data, truncated)
    if preview.kind != "text" or truncated:
        return preview  # a cut document does not parse: shown as the text it is
    pretty = _pretty_json(preview.text) if kind == "json" else _pretty_yaml(preview.text)
    if pretty is None:
        label = "JSON" if kind == "json" else "YAML"
        return Preview("text", text=preview.text, note=f"Not valid {label}: shown as text.")
    return Preview("text", text=pretty)


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= MAX_CELL_CHARS else text[:MAX_CELL_CHARS] + "…"


def _table(columns: list[str], rows: list[list[Any]], truncated: bool, note: str = "") -> Preview:
    if len(columns) > MAX_TABLE_COLUMNS:
        note = f"The first {MAX_TABLE_COLUMNS} of {len(columns)} columns. {note}".strip()
    width = min(len(columns), MAX_TABLE_COLUMNS)
    cells = [[_cell(v) for v in (row + [""] * width)[:width]] for row in rows]
    return Preview(
        "table",
        columns=[_cell(c) for c in columns[:width]],
        rows=cells,
        truncated=truncated,
        note=note,
    )


def _csv_preview(path: str, open_file: Opener) -> Preview:
    data, cut = _head(open_file, MAX_TABLE_BYTES)
    if b"\x00" in data:
        return Preview("none", note="This looks like a binary file: download it to open it.")
    text = data.decode("utf-8", errors="replace")
    if cut:
        text = text[: text.rfind("\n") + 1] or text  # the last line read may be incomplete
    delimiter = "\t" if _extension(path) == "tsv" else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        header = next(reader, [])
        rows: list[list[str]] = []
        for row in reader:
            if len(rows) == MAX_TABLE_ROWS:
                cut = True
                break
            rows.append(row)
    except csv.Error:
        return Preview("text", text=text, truncated=cut, note="Not valid CSV: shown as text.")
    width = max([len(header), *(len(row) for row in rows)])
    header += [""] * (width - len(header))
    return _table(header, rows, cut)


def _parquet_preview(size: int | None, open_file: Opener) -> Preview:
    try:
        import pyarrow.parquet as pq  # type: ignore[import-untyped, unused-ignore]
    except ImportError:
        return Preview("none", note="Parquet previews need pyarrow: pip install 'wayline[parquet]'")
    if size is not None and size > MAX_PARQUET_BYTES:
        return Preview("none", note="This Parquet file is too large to preview: download it.")
    try:
        with open_file() as source:
            parquet = pq.ParquetFile(source)
            names = parquet.schema_arrow.names
            total = parquet.metadata.num_rows
            batches = parquet.iter_batches(
                batch_size=MAX_TABLE_ROWS, columns=names[:MAX_TABLE_COLUMNS]
            )
            batch = next(batches, None)
            records = batch.to_pylist() if batch is not None else []
    except Exception:  # pyarrow raises its own zoo (ArrowInvalid, OSError…) on a bad file
        return Preview("none", note="This file could not be read as Parquet.")
    rows = [[record.get(name) for name in names[:MAX_TABLE_COLUMNS]] for record in records]
    more = total > len(rows)
    return _table(names, rows, more, f"{total} rows in all." if more else "")


def build_preview(path: str, size: int | None, open_file: Opener) -> Preview:
    """The preview of the file ``path`` (``size`` bytes, None if unknown); ``open_file`` opens
    it for reading and is called only for kinds shown from the file's bytes."""
    kind = preview_kind(path)
    if kind in ("image", "html"):
        return Preview(kind)
    if kind in ("json", "yaml"):
        return _document_preview(kind, open_file)
    if kind == "table":
        return _csv_preview(path, open_file)
    if kind == "parquet":
        return _parquet_preview(size, open_file)
    data, truncated = _head(open_file, MAX_TEXT_BYTES)
    if kind == "unknown" and not _is_utf8(data, truncated):
        return Preview("none", note="No preview for this kind of file: download it.")
    return _text_preview(data, truncated)


def _is_utf8(data: bytes, truncated: bool) -> bool:
    """Whether ``data`` is UTF-8 text; a sequence cut by the end of a partial read counts."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return truncated and exc.reason == "unexpected end of data"
    return True


__all__ = [
    "MAX_TABLE_ROWS",
    "MAX_TEXT_BYTES",
    "Preview",
    "build_preview",
    "preview_kind",
]
