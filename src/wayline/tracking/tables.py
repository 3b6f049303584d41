"""Tables for ``log_table``/``load_table``: MLflow's file formats and its run tag for tables.

A table is a pandas DataFrame saved as JSON in pandas' "split" layout without the index
(``{"columns": [...], "data": [[...], ...]}``), or as Parquet for a ``.parquet`` file (needs
pyarrow). Logging to a file that exists appends the rows, and every table a run holds is listed
in its ``mlflow.loggedArtifacts`` tag (``[{"path": "...", "type": "table"}]``), which is how
``load_table`` finds the runs that have one. pandas is imported only when a table is used.
"""

from __future__ import annotations

import json
import posixpath
import uuid
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from wayline.artifacts.paths import safe_relative_path
from wayline.errors import InvalidParameter, WaylineError

if TYPE_CHECKING:
    import pandas as pd

LOGGED_ARTIFACTS_TAG = "mlflow.loggedArtifacts"
TABLE_EXTENSIONS = (".json", ".parquet")
# Characters MLflow refuses in table names: they would break the LIKE filter load_table uses.
_FORBIDDEN = ('"', "'", ",", ":", "[", "]", "{", "}")


def table_file(artifact_file: str) -> str:
    """``artifact_file`` checked as a table's file and normalised (``./t.json`` is ``t.json``).

    Example::

        table_file("eval/results.json")  # "eval/results.json"
    """
    for char in _FORBIDDEN:
        if char in artifact_file:
            raise InvalidParameter(f"The artifact_file contains forbidden character: {char}")
    if not artifact_file.endswith(TABLE_EXTENSIONS):
        raise InvalidParameter(
            f"Invalid artifact file path '{artifact_file}'. Please ensure the file you are "
            "trying to log as a table has a file name with either '.json' or '.parquet' "
            "extension."
        )
    return safe_relative_path(artifact_file)


def as_frame(data: Any) -> pd.DataFrame:
    """A DataFrame of ``data``: a copy of a DataFrame, or a dict of columns (or of scalars,
    for one row).

    Example::

        as_frame({"inputs": ["a", "b"], "score": [0.1, 0.2]})  # two rows
    """
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        return data.copy()
    if not isinstance(data, Mapping):
        raise InvalidParameter("data must be a pandas.DataFrame or a dictionary")
    try:
        return pd.DataFrame(dict(data))
    except ValueError:  # all scalars ("If using all scalar values, you must pass an index")
        return pd.DataFrame([dict(data)])


def _is_image(value: Any) -> bool:
    # MLflow's test: PIL images and mlflow.Image both pass, without importing either.
    return all(callable(getattr(value, a, None)) for a in ("save", "resize")) and hasattr(
        value, "size"
    )


def store_images(
    frame: pd.DataFrame, artifact_file: str, save: Callable[[str, Any], None]
) -> pd.DataFrame:
    """``frame`` with each column of images replaced by MLflow's image references.

    Every image is stored with ``save(artifact_path, image)`` at
    ``table_images/<table name>/<uuid>.png``, beside a 256-pixel ``.webp`` preview; its cell
    becomes ``{"type": "image", "filepath": ..., "compressed_filepath": ...}``.

    Example::

        frame = store_images(as_frame({"image": [pil_image]}), "gen.json", save)
    """
    import pandas as pd

    from wayline.tracking.images import compressed

    folder = posixpath.join("table_images", posixpath.splitext(artifact_file)[0])

    def reference(image: Any) -> dict[str, str]:
        stem = posixpath.join(folder, str(uuid.uuid4()))
        save(f"{stem}.png", image)
        save(f"{stem}.webp", compressed(image))
        return {"type": "image", "filepath": f"{stem}.png", "compressed_filepath": f"{stem}.webp"}

    image_columns = []
    for column in frame.columns:
        if frame[column].dtype.kind != "O":  # images live in object columns only
            continue
        images = [_is_image(value) for value in frame[column]]
        if any(images) and not all(images):
            raise InvalidParameter(
                f"Column `{column}` contains a mix of images and non-images. Please ensure "
                "that all elements in the column are of the same type."
            )
        if images and all(images):
            image_columns.append(column)
    # Checked first, stored after: a refused table uploads no image.
    for column in image_columns:
        references = [reference(value) for value in frame[column]]
        frame[column] = pd.Series(references, index=frame.index, dtype=object)
    return frame


def _parquet_needed(exc: ImportError) -> WaylineError:
    return WaylineError(f"Parquet tables need pyarrow: pip install pyarrow ({exc})")


def read_table(local_file: str, infer_dtypes: bool = True) -> pd.DataFrame:
    """The table in ``local_file``. ``infer_dtypes=False`` keeps JSON values as stored (so
    rewriting a table does not turn ``"02108"`` into ``2108``).

    Example::

        frame = read_table("/tmp/t/results.json")
    """
    import pandas as pd

    if local_file.endswith(".parquet"):
        try:
            return pd.read_parquet(local_file)
        except ImportError as exc:
            raise _parquet_needed(exc) from None
    if infer_dtypes:
        return pd.read_json(local_file, orient="split")
    return pd.read_json(local_file, orient="split", dtype=False)


def write_table(frame: pd.DataFrame, local_file: str) -> None:
    """Save ``frame`` in the format ``local_file``'s extension names.

    Example::

        write_table(as_frame({"a": [1, 2]}), "/tmp/t/results.json")
    """
    try:
        if local_file.endswith(".parquet"):
            frame.to_parquet(local_file, index=False)
        else:
            frame.to_json(local_file, orient="split", index=False, date_format="iso")
    except ImportError as exc:
        raise _parquet_needed(exc) from None
    except (TypeError, ValueError, OverflowError) as exc:
        raise InvalidParameter(
            f"Failed to save the table as {local_file.rsplit('.', 1)[-1]}: its values are not "
            f"serialisable ({exc})."
        ) from None


def _entries(tag: str | None) -> list[Any]:
    try:
        found = json.loads(tag or "[]")
    except json.JSONDecodeError:
        return []
    return found if isinstance(found, list) else []


def registered(tag: str | None, artifact_file: str) -> str | None:
    """The ``mlflow.loggedArtifacts`` value with the table added, or None if already listed.

    Example::

        registered(None, "t.json")  # '[{"path": "t.json", "type": "table"}]'
    """
    entries = _entries(tag)
    entry = {"path": artifact_file, "type": "table"}
    if entry in entries:
        return None
    return json.dumps([*entries, entry])


def lists_table(tag: str | None, artifact_file: str) -> bool:
    """Whether a run's ``mlflow.loggedArtifacts`` value lists this table."""
    return {"path": artifact_file, "type": "table"} in _entries(tag)


def table_filter(artifact_file: str) -> str:
    """The search filter MLflow uses for runs whose tag may list this table (a LIKE pattern:
    callers confirm each match with ``lists_table``)."""
    pattern = f'"path"%:%"{artifact_file}",%"type"%:%"table"'
    return f"tags.{LOGGED_ARTIFACTS_TAG} LIKE '%{pattern}%'"


__all__ = [
    "LOGGED_ARTIFACTS_TAG",
    "TABLE_EXTENSIONS",
    "as_frame",
    "lists_table",
    "read_table",
    "registered",
    "store_images",
    "table_file",
    "table_filter",
    "write_table",
]
