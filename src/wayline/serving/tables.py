"""CSV and Parquet bodies of ``/invocations`` (and ``models predict`` inputs) as DataFrames.

CSV columns get the pandas dtypes of the input schema's scalar types, as MLflow reads them;
a body that does not parse is 400 ``BAD_REQUEST``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from wayline.errors import WaylineError
from wayline.serving.inputs import PANDAS_DTYPES
from wayline.types.datatype import DataType

if TYPE_CHECKING:
    import pandas as pd

    from wayline.types.schema import Schema


def csv_dtypes(schema: Schema | None) -> dict[Any, str] | None:
    """The dtypes the CSV reader gives the schema's scalar columns (MLflow reads CSV so)."""
    if schema is None or schema.is_tensor_spec():
        return None
    return {
        name: PANDAS_DTYPES[spec.type]
        for name, spec in zip(schema.input_names(), schema.inputs, strict=True)
        if isinstance(spec.type, DataType) and spec.type in PANDAS_DTYPES
    }


def parse_csv(body: bytes, schema: Schema | None) -> pd.DataFrame:
    """A DataFrame from a CSV body (header row first), with the schema's column dtypes."""
    import io

    import pandas as pd

    try:
        return pd.read_csv(io.BytesIO(body), dtype=csv_dtypes(schema), encoding="utf-8")
    except Exception as e:  # the CSV reader's errors: ParserError, ValueError, UnicodeError…
        raise WaylineError(
            "Failed to parse input as a Pandas DataFrame. Ensure that the input is a valid "
            "CSV-formatted Pandas DataFrame produced using the `pandas.DataFrame.to_csv()` "
            f"method. Error: '{e}'",
            "BAD_REQUEST",
        ) from None


def parse_parquet(body: bytes) -> pd.DataFrame:
    """A DataFrame from a Parquet body (needs pyarrow: ``pip install 'wayline[parquet]'``)."""
    import io

    import pandas as pd

    try:
        return pd.read_parquet(io.BytesIO(body))
    except ImportError:
        raise WaylineError(
            "Reading Parquet needs pyarrow: pip install 'wayline[parquet]'", "BAD_REQUEST"
        ) from None
    except Exception as e:  # pyarrow's errors for a corrupt file vary
        raise WaylineError(
            "Failed to parse input as a Pandas DataFrame. Ensure that the input is a valid "
            "Parquet Pandas DataFrame produced using the `pandas.DataFrame.to_parquet()` "
            f"method. Error: '{e}'",
            "BAD_REQUEST",
        ) from None


__all__ = ["csv_dtypes", "parse_csv", "parse_parquet"]
