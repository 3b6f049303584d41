"""wayline.pyfunc.spark_udf in a local Spark session (local[2]) on a few thousand rows."""

from __future__ import annotations

import os
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression  # type: ignore[import-untyped]

import wayline.pyfunc
import wayline.sklearn
from wayline.errors import InvalidParameter

pyspark = pytest.importorskip("pyspark")
from pyspark.sql import DataFrame, SparkSession  # noqa: E402
from pyspark.sql.functions import col, struct  # noqa: E402

pytestmark = [
    pytest.mark.slow,
    # pyspark 4.x warns on every pandas UDF that it is not yet tested with pandas 3.
    pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas:FutureWarning"),
]
ROWS = 3000

# A models-from-code file: executors run it rather than unpickling a class from this test module
# (which their Python could not import).
MULTI_OUTPUT = """
import pandas as pd
from wayline.models import set_model
from wayline.pyfunc import PythonModel

class Multi(PythonModel):
    def predict(self, context, model_input, params=None):
        if params and params.get("shape") == "array":
            return [[float(v), float(v) * 2] for v in model_input["a"]]
        return pd.DataFrame({
            "doubled": model_input["a"] * 2,
            "label": ["pos" if v > 0 else "neg" for v in model_input["a"]],
        })

set_model(Multi())
"""


@pytest.fixture(scope="module")
def spark() -> Iterator[SparkSession]:
    # Workers must run this interpreter (with pandas, pyarrow and wayline), not `python3`.
    saved = {k: os.environ.get(k) for k in ("PYSPARK_PYTHON", "PYSPARK_DRIVER_PYTHON")}
    os.environ["PYSPARK_PYTHON"] = os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    session = (
        SparkSession.builder.master("local[2]")
        .appName("wayline-spark-udf-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.execution.arrow.maxRecordsPerBatch", "1000")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    try:
        yield session
    finally:
        session.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _collect(df: DataFrame) -> pd.DataFrame:
    # Not toPandas(): pyspark's Arrow conversion trips pandas 3's deprecation warnings.
    rows = df.orderBy("a").collect()
    return pd.DataFrame([r.asDict() for r in rows], columns=df.columns)


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    return pd.DataFrame(rng.normal(size=(ROWS, 3)), columns=["a", "b", "c"])


@pytest.fixture(scope="module")
def regressor(data: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Any]:
    target = data["a"] * 2 - data["b"] + 0.5 * data["c"]
    model = LinearRegression().fit(data, target)
    path = tmp_path_factory.mktemp("spark") / "regressor"
    wayline.sklearn.save_model(model, path, input_example=data[:5])
    return str(path), model


def test_double_udf_with_columns_struct_and_signature_names(
    spark: SparkSession, data: pd.DataFrame, regressor: tuple[str, Any]
) -> None:
    path, model = regressor
    df = spark.createDataFrame(data)
    predict = wayline.pyfunc.spark_udf(spark, path, result_type="double")
    out = _collect(
        df.withColumn("by_cols", predict("a", "b", "c"))
        .withColumn("by_struct", predict(struct("c", "a", "b")))
        .withColumn("by_signature", predict())
    )
    assert len(out) == ROWS
    expected = model.predict(out[["a", "b", "c"]])
    for column in ("by_cols", "by_struct", "by_signature"):
        np.testing.assert_allclose(out[column], expected, rtol=1e-9)


def test_result_types(spark: SparkSession, data: pd.DataFrame, tmp_path: Path) -> None:
    code = tmp_path / "multi.py"
    code.write_text(textwrap.dedent(MULTI_OUTPUT))
    path = str(tmp_path / "multi")
    example = (data[["a"]].head(3), {"shape": "frame"})  # names the column, declares the param
    wayline.pyfunc.save_model(path, python_model=str(code), input_example=example)
    df = spark.createDataFrame(data[["a"]].head(500))
    as_struct = wayline.pyfunc.spark_udf(spark, path, "struct<doubled:double,label:string>")
    as_array = wayline.pyfunc.spark_udf(spark, path, "array<double>", params={"shape": "array"})
    out = _collect(
        df.withColumn("s", as_struct("a"))
        .withColumn("arr", as_array("a"))
        .select("a", col("s.doubled"), col("s.label"), "arr")
    )
    np.testing.assert_allclose(out["doubled"], out["a"] * 2)
    assert set(out["label"]) == {"pos", "neg"}
    assert (out["label"] == np.where(out["a"] > 0, "pos", "neg")).all()
    assert [list(v) for v in out["arr"][:2]] == [[a, a * 2] for a in out["a"][:2]]


def test_bad_arguments(spark: SparkSession, regressor: tuple[str, Any]) -> None:
    path, _ = regressor
    with pytest.raises(InvalidParameter, match="result_type"):
        wayline.pyfunc.spark_udf(spark, path, result_type="date")
    with pytest.raises(InvalidParameter, match="env_manager"):
        wayline.pyfunc.spark_udf(spark, path, env_manager="conda")
