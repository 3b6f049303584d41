"""``spark_udf``: a pyfunc model as a Spark pandas UDF for distributed batch inference.

The model is downloaded once on the driver, zipped and shipped with ``SparkContext.addFile``;
each executor's Python worker unpacks and loads it once (kept in this module for the life of
the worker process, which Spark reuses across tasks) and predicts on every Arrow batch. Column
names come from the model's input signature when the UDF is called with unnamed columns (or
with none), or from the fields of a single ``struct(...)`` argument. Needs
``pip install 'wayline[spark]'``.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import zipfile
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from wayline.errors import InvalidParameter
from wayline.models.flavor import require
from wayline.models.model import Model

if TYPE_CHECKING:
    import pandas as pd
    from pyspark.sql import Column, SparkSession
    from pyspark.sql.types import DataType as SparkType

    from wayline.pyfunc.loading import PyFuncModel

# Models loaded in this (executor) process, by the shipped archive's name.
_LOADED: dict[str, PyFuncModel] = {}
_SCALARS = {
    "boolean": "BooleanType",
    "integer": "IntegerType",
    "long": "LongType",
    "float": "FloatType",
    "double": "DoubleType",
    "string": "StringType",
    "binary": "BinaryType",
    "datetime": "TimestampType",
}
_NUMPY_TO_SPARK = {
    "bool": "BooleanType",
    "int8": "IntegerType",
    "int16": "IntegerType",
    "int32": "IntegerType",
    "int64": "LongType",
    "float32": "FloatType",
    "float64": "DoubleType",
    "str": "StringType",
    "object": "StringType",
}


def _type_of_spec(spec: Any) -> SparkType:
    """The Spark type of one output spec of a signature (a column or a 1-2 D tensor)."""
    from pyspark.sql import types as T

    from wayline.types.schema import ColSpec

    if isinstance(spec, ColSpec):
        return _type_of(spec.type)
    name = _NUMPY_TO_SPARK.get(spec.type.name)
    if name is None or len(spec.shape) > 2:
        raise InvalidParameter(f"Model output {spec!r} has no Spark type for spark_udf.")
    element: SparkType = getattr(T, name)()
    for _ in spec.shape:
        element = T.ArrayType(element)
    return element


def _type_of(t: Any) -> SparkType:
    from pyspark.sql import types as T

    from wayline.types.composite import Array, Map, Object
    from wayline.types.datatype import DataType

    if isinstance(t, DataType):
        spark_type: SparkType = getattr(T, _SCALARS[t.name])()
        return spark_type
    if isinstance(t, Array):
        return T.ArrayType(_type_of(t.dtype))
    if isinstance(t, Map):
        return T.MapType(T.StringType(), _type_of(t.value_type))
    if isinstance(t, Object):
        return T.StructType([T.StructField(p.name, _type_of(p.dtype)) for p in t.properties])
    raise InvalidParameter(f"The model output type {t!r} has no Spark type for spark_udf.")


def _result_type(result_type: Any, meta: Model) -> SparkType:
    """The UDF's Spark type: given (a DataType or a DDL string) or read from the signature."""
    from pyspark.sql import types as T

    if result_type is None:
        outputs = meta.get_output_schema()
        if outputs is None:
            return T.DoubleType()
        specs = outputs.inputs
        if len(specs) == 1:
            return _type_of_spec(specs[0])
        return T.StructType(
            [T.StructField(str(s.name or i), _type_of_spec(s)) for i, s in enumerate(specs)]
        )
    if isinstance(result_type, str):
        text = "boolean" if result_type == "bool" else result_type
        try:
            parsed: SparkType = T._parse_datatype_string(text)
        except Exception as e:  # pyspark raises ParseException and friends
            raise InvalidParameter(f"Invalid result_type {result_type!r}: {e}") from e
        return parsed
    if not isinstance(result_type, T.DataType):
        raise InvalidParameter(
            f"result_type must be a Spark DataType or a DDL string, got {result_type!r}"
        )
    return result_type


def _check_type(t: SparkType) -> None:
    from pyspark.sql import types as T

    primitive = (T.IntegerType, T.LongType, T.FloatType, T.DoubleType, T.StringType, T.BooleanType)
    ok = isinstance(t, primitive)
    if isinstance(t, T.ArrayType):
        _check_type(t.elementType)
        ok = True
    elif isinstance(t, T.StructType):
        for f in t.fields:
            _check_type(f.dataType)
        ok = True
    elif isinstance(t, T.MapType) and isinstance(t.keyType, T.StringType):
        _check_type(t.valueType)
        ok = True
    if not ok:
        raise InvalidParameter(
            f"Invalid result_type {t.simpleString()}: spark_udf returns int, long, float, "
            "double, string, boolean, or arrays, structs and string-keyed maps of them."
        )


def _load(archive_name: str, model_config: dict[str, Any] | None) -> PyFuncModel:
    """The model of a shipped archive, unpacked and loaded once per process."""
    if (model := _LOADED.get(archive_name)) is not None:
        return model
    from pyspark import SparkFiles

    from wayline.pyfunc.loading import load_model

    target = os.path.join(
        tempfile.gettempdir(), "wayline-spark-models", archive_name, str(os.getpid())
    )
    if not os.path.isdir(target):
        with zipfile.ZipFile(SparkFiles.get(archive_name)) as z:
            z.extractall(target)
    model = load_model(target, model_config=model_config)
    _LOADED[archive_name] = model
    return model


def _frame(args: tuple[Any, ...], meta: Model) -> pd.DataFrame:
    """One batch's model input: a struct argument as it is, else the columns in order, named
    by the input signature (positions when there is none)."""
    import pandas as pd

    if len(args) == 1 and isinstance(args[0], pd.DataFrame):
        return args[0]
    schema = meta.get_input_schema()
    if schema is None or not schema.has_input_names():
        names: list[Any] = [str(i) for i in range(len(args))]
    else:
        names = schema.input_names()
        required = schema.required_input_names()
        args = args[: len(names)]
        if len(args) < len(required):
            raise InvalidParameter(
                f"Model input is missing required columns: it expects {names} (in this order, "
                f"as the columns are passed unnamed) but received only {len(args)} columns."
            )
    data = {
        names[i]: a if isinstance(a, pd.Series) else a.apply(lambda r: r.to_dict(), axis=1)
        for i, a in enumerate(args)
    }
    return pd.DataFrame(data, columns=names[: len(args)])


_NUMERIC = {
    "IntegerType": ("int32", ["int8", "uint8", "int16", "uint16", "int32"]),
    "LongType": ("int64", ["int8", "uint8", "int16", "uint16", "int32", "int64"]),
    "FloatType": ("float32", ["number"]),
    "DoubleType": ("float64", ["number"]),
    "BooleanType": ("bool", ["bool"]),
}


def _series(result: Any, t: SparkType) -> pd.Series | pd.DataFrame:
    """Predictions as the column Spark expects for the result type (MLflow's conversions)."""
    import numpy as np
    import pandas as pd
    from pyspark.sql import types as T

    if isinstance(result, dict):
        result = {k: list(v) for k, v in result.items()}
    if isinstance(t, T.StructType):
        frame = pd.DataFrame(result)
        missing = [n for n in t.fieldNames() if n not in frame.columns]
        if missing:
            raise InvalidParameter(f"The model output has no fields {missing} of the result type.")
        return frame[t.fieldNames()]
    if isinstance(t, T.MapType):
        return pd.Series(list(result))
    if isinstance(t, T.ArrayType) and isinstance(t.elementType, T.ArrayType):
        return pd.Series([np.asarray(v).tolist() for v in result])
    if not isinstance(result, pd.DataFrame):
        result = pd.DataFrame([result]) if np.isscalar(result) else pd.DataFrame(result)
    element = t.elementType if isinstance(t, T.ArrayType) else t
    kind = type(element).__name__
    if kind in _NUMERIC:
        dtype, accepted = _NUMERIC[kind]
        result = result.select_dtypes(include=accepted).astype(dtype)
    if len(result.columns) == 0:
        raise InvalidParameter(
            "The model produced no values compatible with the result type "
            f"{element.simpleString()}: ask for 'string' or 'array<string>'."
        )
    if kind == "StringType":
        result = result.map(str)
    if isinstance(t, T.ArrayType):
        return pd.Series(result.to_numpy().tolist())
    column: pd.Series = result[result.columns[0]]
    return column


def spark_udf(
    spark: SparkSession,
    model_uri: str,
    result_type: Any = None,
    env_manager: str = "local",
    params: dict[str, Any] | None = None,
    model_config: dict[str, Any] | None = None,
) -> Callable[..., Column]:
    """A Spark UDF that predicts with the model at ``model_uri`` on each Arrow batch.

    ``result_type`` is a Spark ``DataType`` or DDL string (``"double"``, ``"array<float>"``,
    ``"struct<a:double,b:string>"``); without one it is read from the output signature (a
    ``double`` when the model has none). Call the UDF with columns in the input signature's
    order, with one ``struct(...)`` column whose fields are the input names, or with no
    argument to use the signature's column names.

    Example::

        from pyspark.sql.functions import struct

        predict = wayline.pyfunc.spark_udf(spark, "models:/m-0123...", result_type="double")
        df = df.withColumn("prediction", predict("x1", "x2"))
        df = df.withColumn("prediction", predict(struct("x1", "x2")))
        df = df.withColumn("prediction", predict())  # columns named by the signature
    """
    require("pyspark", "spark")
    import typing

    import pandas as pd
    from pyspark.sql import types as T
    from pyspark.sql.pandas.functions import pandas_udf

    from wayline.pyfunc.loading import download_model

    if env_manager != "local":
        raise InvalidParameter(
            f"env_manager={env_manager!r} is not supported by spark_udf yet: use 'local' (the "
            "executors' own Python environment must have the model's requirements)."
        )
    staging = tempfile.mkdtemp(prefix="wayline-spark-udf-")
    local = download_model(model_uri, dst_path=staging)
    meta = Model.load(local)
    if "python_function" not in meta.flavors:
        raise InvalidParameter(f"The model at {model_uri} has no python_function flavor.")
    return_type = _result_type(result_type, meta)
    _check_type(return_type)
    digest = hashlib.sha1(f"{model_uri}{os.getpid()}{staging}".encode(), usedforsecurity=False)
    archive = shutil.make_archive(
        os.path.join(staging, f"model-{digest.hexdigest()}"), "zip", local
    )
    spark.sparkContext.addFile(archive)
    archive_name = os.path.basename(archive)

    def predict(batches: Any) -> Any:
        model = _load(archive_name, model_config)
        for batch in batches:
            args = (batch,) if isinstance(batch, (pd.Series, pd.DataFrame)) else tuple(batch)
            if len(args[0]) > 0:
                yield _series(model.predict(_frame(args, meta), params=params), return_type)

    # pandas_udf reads the function's type hints to pick the iterator-of-batches kind; they
    # must be typing's generics (it does not read builtin ones such as tuple[...]).
    output = pd.DataFrame if isinstance(return_type, T.StructType) else pd.Series
    batch = typing.Tuple[typing.Union[pd.Series, pd.DataFrame], ...]  # noqa: UP006, UP007
    predict.__annotations__ = {
        "batches": typing.Iterator[batch],
        "return": typing.Iterator[output],  # type: ignore[valid-type]
    }
    udf = pandas_udf(predict, returnType=return_type)  # type: ignore[call-overload]

    def call(*cols: Any) -> Column:
        if cols:
            return udf(*cols)  # type: ignore[no-any-return]
        schema = meta.get_input_schema()
        if schema is None or not schema.inputs or not schema.has_input_names():
            raise InvalidParameter(
                "Cannot apply the UDF without columns: the model signature names no input "
                "columns. Pass the columns explicitly."
            )
        if schema.optional_input_names():
            raise InvalidParameter(
                "Cannot apply the UDF without column names when the model signature has "
                "optional columns: pass the columns explicitly."
            )
        return udf(*[str(n) for n in schema.input_names()])  # type: ignore[no-any-return]

    call.metadata = meta  # type: ignore[attr-defined]
    return call


__all__ = ["spark_udf"]
