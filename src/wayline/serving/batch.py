"""Batch prediction (``wayline models predict``): input read and predictions written in chunks.

Readers yield DataFrames of at most ``chunk_size`` rows: CSV through pandas' chunked reader,
Parquet through pyarrow's record batches, JSON lines a chunk of lines at a time. A JSON document
in the ``/invocations`` format (``{"dataframe_split": ...}``) is one request, read whole, as
MLflow reads it. Writers append each chunk's predictions: ``{"predictions": [...]}`` JSON
(MLflow's output) is written element by element, CSV and Parquet as rows, JSON lines one
prediction a line. Memory holds one chunk at a time, so inputs larger than memory work.
"""

from __future__ import annotations

import io
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import IO, TYPE_CHECKING, Any, BinaryIO

import orjson

from wayline.errors import InvalidParameter, WaylineError
from wayline.serving.inputs import cast_frame, parse_json
from wayline.serving.outputs import encode, jsonable
from wayline.serving.tables import csv_dtypes

if TYPE_CHECKING:
    import pandas as pd

    from wayline.pyfunc import PyFuncModel
    from wayline.types.schema import Schema

FORMATS = ("json", "jsonl", "csv", "parquet")
_EXTENSIONS = {".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv"}
_EXTENSIONS |= {".parquet": "parquet", ".pq": "parquet"}


def format_of(path: str | None, given: str | None, default: str = "json") -> str:
    """The format named by ``given``, else by the file extension, else ``default``."""
    if given:
        return given.lower()
    if path:
        return _EXTENSIONS.get(os.path.splitext(path)[1].lower(), default)
    return default


class CountingReader(io.RawIOBase):
    """A binary file that counts the bytes read from it (the progress bar's position)."""

    def __init__(self, raw: BinaryIO, on_read: Callable[[int], None]) -> None:
        self._raw = raw
        self._on_read = on_read

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._raw.read(len(buffer))
        buffer[: len(data)] = data
        self._on_read(len(data))
        return len(data)


def _csv_chunks(source: BinaryIO, schema: Schema | None, chunk_size: int) -> Iterator[Any]:
    import pandas as pd

    dtypes = csv_dtypes(schema)
    try:
        yield from pd.read_csv(source, dtype=dtypes, chunksize=chunk_size)
    except (ValueError, pd.errors.ParserError) as e:
        raise InvalidParameter(f"Failed to read the input as CSV: {e}") from None


def _parquet_chunks(path: str, chunk_size: int) -> Iterator[Any]:
    try:
        import pyarrow.parquet as pq  # type: ignore[import-untyped, unused-ignore]
    except ImportError:
        raise WaylineError(
            "Reading Parquet needs pyarrow: pip install 'wayline[parquet]'"
        ) from None
    for batch in pq.ParquetFile(path).iter_batches(batch_size=chunk_size):
        yield batch.to_pandas()


def _jsonl_chunks(source: BinaryIO, schema: Schema | None, chunk_size: int) -> Iterator[Any]:
    import pandas as pd

    rows: list[Any] = []
    for number, line in enumerate(source, 1):
        if not line.strip():
            continue
        try:
            rows.append(orjson.loads(line))
        except orjson.JSONDecodeError as e:
            raise InvalidParameter(f"Line {number} of the input is not valid JSON: {e}") from None
        if len(rows) == chunk_size:
            yield _records_frame(rows, schema, pd)
            rows = []
    if rows:
        yield _records_frame(rows, schema, pd)


def _records_frame(rows: list[Any], schema: Schema | None, pd: Any) -> Any:
    frame = pd.DataFrame(rows)
    return cast_frame(frame, schema) if schema is not None else frame


def read_chunks(
    source: BinaryIO, path: str | None, fmt: str, schema: Schema | None, chunk_size: int
) -> Iterator[tuple[Any, dict[str, Any] | None, bool]]:
    """``(data, params, unwrapped)`` per chunk of the input in format ``fmt``."""
    if fmt == "csv":
        for frame in _csv_chunks(source, schema, chunk_size):
            yield frame, None, False
    elif fmt == "parquet":
        if path is None:
            raise InvalidParameter("Parquet input must be a file (-i PATH), not standard input.")
        for frame in _parquet_chunks(path, chunk_size):
            yield frame, None, False
    elif fmt == "jsonl":
        for frame in _jsonl_chunks(source, schema, chunk_size):
            yield frame, None, False
    else:
        parsed = parse_json(source.read(), schema)
        yield parsed.data, parsed.params, parsed.unwrapped


class PredictionWriter:
    """Appends predictions, chunk by chunk, to ``out`` in one of ``FORMATS``."""

    def __init__(self, out: IO[bytes], fmt: str) -> None:
        if fmt not in FORMATS:
            raise InvalidParameter(f"Output format must be one of {FORMATS}, not {fmt!r}")
        self.out, self.fmt = out, fmt
        self._first = True
        self._parquet: Any = None
        self._unwrapped = False

    def write(self, predictions: Any, unwrapped: bool = False) -> None:
        if self.fmt == "json":
            if unwrapped:  # a unified LLM answer is one value, written as it is
                self.out.write(encode(jsonable(predictions)))
                self._unwrapped = True
                return
            items = encode(_as_list(predictions))[1:-1]
            if not items:
                return
            self.out.write(b'{"predictions":[' if self._first else b",")
            self.out.write(items)
        elif self.fmt == "jsonl":
            for item in _as_list(predictions):
                self.out.write(encode(item) + b"\n")
        else:
            frame = _as_frame(predictions)
            if self.fmt == "csv":
                frame.to_csv(self.out, header=self._first, index=False)
            else:
                self._write_parquet(frame)
        self._first = False

    def _write_parquet(self, frame: pd.DataFrame) -> None:
        import pyarrow as pa  # type: ignore[import-untyped, unused-ignore]
        import pyarrow.parquet as pq  # type: ignore[import-untyped, unused-ignore]

        table = pa.Table.from_pandas(frame, preserve_index=False)
        if self._parquet is None:
            self._parquet = pq.ParquetWriter(self.out, table.schema)
        self._parquet.write_table(table)

    def close(self) -> None:
        if self.fmt == "json" and not self._unwrapped:
            self.out.write(b'{"predictions":[]}' if self._first else b"]}")
        if self._parquet is not None:
            self._parquet.close()


def _as_list(predictions: Any) -> list[Any]:
    value = jsonable(predictions)
    if hasattr(value, "tolist"):
        value = value.tolist()
    if isinstance(value, dict):  # a dict of columns: one record per row
        frame = _as_frame(value)
        return list(jsonable(frame))
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _as_frame(predictions: Any) -> pd.DataFrame:
    import numpy as np
    import pandas as pd

    if isinstance(predictions, pd.DataFrame):
        return predictions
    if isinstance(predictions, pd.Series):
        return predictions.to_frame(
            predictions.name if predictions.name is not None else "prediction"
        )
    if isinstance(predictions, dict):
        return pd.DataFrame(
            {k: list(np.asarray(v)) if np.ndim(v) > 1 else v for k, v in predictions.items()}
        )
    values = np.asarray(predictions)
    if values.ndim == 2:
        return pd.DataFrame(values, columns=[f"prediction_{i}" for i in range(values.shape[1])])
    if values.ndim > 2:
        return pd.DataFrame({"prediction": list(values)})
    return pd.DataFrame({"prediction": values.reshape(-1)})


def predict_stream(
    model: PyFuncModel,
    source: BinaryIO,
    out: IO[bytes],
    *,
    path: str | None,
    input_format: str,
    output_format: str,
    chunk_size: int,
    params: dict[str, Any] | None = None,
    on_rows: Callable[[int], None] | None = None,
) -> int:
    """Predict every chunk of ``source`` and write it to ``out``; returns the rows predicted.

    Example::

        with open("in.csv", "rb") as src, open("out.csv", "wb") as dst:
            predict_stream(model, src, dst, path="in.csv", input_format="csv",
                           output_format="csv", chunk_size=10_000)
    """
    schema = model.metadata.get_input_schema()
    writer = PredictionWriter(out, output_format)
    rows = 0
    for data, chunk_params, unwrapped in read_chunks(
        source, path, input_format, schema, chunk_size
    ):
        predictions = model.predict(data, params=chunk_params if chunk_params else params)
        writer.write(predictions, unwrapped)
        count = len(data) if hasattr(data, "__len__") else 1
        rows += count
        if on_rows is not None:
            on_rows(count)
    writer.close()
    return rows


def predict_file(
    model_uri: str,
    input_path: str | None,
    output_path: str | None,
    in_format: str,
    out_format: str,
    chunk_size: int,
    params: dict[str, Any] | None,
) -> None:
    """Predict the file at ``input_path`` (standard input when None) into ``output_path``
    (standard output when None), chunk by chunk, with a progress bar on standard error.

    Example::

        predict_file("runs:/<run_id>/model", "in.csv", "out.parquet", "csv", "parquet",
                     chunk_size=10_000, params=None)
    """
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn

    from wayline.pyfunc import load_model

    model = load_model(model_uri)
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TextColumn("{task.fields[rows]} rows"),
        TimeElapsedColumn(),
    )
    progress = Progress(*columns, console=Console(stderr=True))
    total = os.path.getsize(input_path) if input_path else None
    task = progress.add_task("Predicting", total=total, rows=0)
    rows = 0

    def advance_rows(count: int) -> None:
        nonlocal rows
        rows += count
        progress.update(task, rows=rows)

    with ExitStack() as stack:
        raw = stack.enter_context(open(input_path, "rb")) if input_path else sys.stdin.buffer
        # Parquet is read by pyarrow from the path: its progress counts rows only.
        counting = CountingReader(raw, lambda n: progress.advance(task, n))
        source = io.BufferedReader(counting, buffer_size=1 << 20)
        out = stack.enter_context(_output(output_path))
        stack.enter_context(progress)
        predict_stream(
            model,
            source,
            out,
            path=input_path,
            input_format=in_format,
            output_format=out_format,
            chunk_size=chunk_size,
            params=params,
            on_rows=advance_rows,
        )
        if total is not None:
            progress.update(task, completed=total)


@contextmanager
def _output(path: str | None) -> Iterator[IO[bytes]]:
    """Standard output, or a file written beside ``path`` and renamed over it at the end, so
    a failed run leaves no half-written output behind."""
    if path is None:
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    fd, partial = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(path)), prefix=".wayline-")
    try:
        with os.fdopen(fd, "wb") as out:
            yield out
        os.replace(partial, path)
    except BaseException:
        os.unlink(partial)
        raise


__all__ = [
    "FORMATS",
    "CountingReader",
    "PredictionWriter",
    "format_of",
    "predict_file",
    "predict_stream",
]
