"""``from_pandas``: a DataFrame as a Dataset (digest, schema, profile) for ``log_input``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from wayline.entities import Dataset

if TYPE_CHECKING:
    import pandas as pd

_DIGEST_ROWS = 10_000  # hash at most this many rows: big frames stay cheap to describe


def from_pandas(df: pd.DataFrame, source: str | None = None, name: str | None = None) -> Dataset:
    """A Dataset for ``df``: an 8-character content digest, MLflow-style column schema, profile.

    ``source`` is where the data came from (a URI or path); ``name`` defaults to ``dataset``.

    Example::

        import pandas as pd, wayline
        df = pd.DataFrame({"x": [1, 2, 3], "y": [0.1, 0.2, 0.3]})
        with wayline.start_run():
            wayline.log_input(wayline.data.from_pandas(df, source="data.csv"), context="training")
    """
    import hashlib
    import json

    import pandas as pd

    sample = df.head(_DIGEST_ROWS)
    hashed = pd.util.hash_pandas_object(sample, index=False).to_numpy()
    md5 = hashlib.md5(usedforsecurity=False)
    md5.update(hashed.tobytes())
    md5.update(str(len(df)).encode())
    md5.update(",".join(map(str, df.columns)).encode())
    colspec = [
        {"type": _column_type(str(dtype)), "name": str(col), "required": True}
        for col, dtype in df.dtypes.items()
    ]
    return Dataset(
        name=name or "dataset",
        digest=md5.hexdigest()[:8],
        source_type=_source_type(source),
        source=json.dumps({"uri": source} if source is not None else {}),
        schema=json.dumps({"mlflow_colspec": colspec}),
        profile=json.dumps({"num_rows": len(df), "num_elements": int(df.size)}),
    )


def _column_type(dtype: str) -> str:
    if dtype.startswith(("int", "uint", "Int", "UInt")):
        return "long"
    if dtype.startswith(("float", "Float")):
        return "double"
    if dtype in ("bool", "boolean"):
        return "boolean"
    if dtype.startswith("datetime"):
        return "datetime"
    return "string"


def _source_type(source: str | None) -> str:
    if source is None:
        return "code"
    scheme = source.split("://", 1)[0] if "://" in source else "local"
    return {"https": "http", "file": "local"}.get(scheme, scheme)
