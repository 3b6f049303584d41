"""search_runs' DataFrame: MLflow's columns, dtypes and missing values."""

from __future__ import annotations

import pandas as pd

from wayline.entities import Metric, Param, Run, RunData, RunInfo, RunTag
from wayline.tracking.dataframe import INFO_COLUMNS, runs_to_dataframe


def make_run(run_id: str, end: int | None, **values: dict[str, object]) -> Run:
    info = RunInfo(run_id, "1", run_id, "u", "FINISHED", 1_700_000_000_000, end, f"/a/{run_id}")
    data = RunData(
        [Metric(k, float(str(v)), 0, 0) for k, v in values.get("metrics", {}).items()],
        [Param(k, str(v)) for k, v in values.get("params", {}).items()],
        [RunTag(k, str(v)) for k, v in values.get("tags", {}).items()],
    )
    return Run(info, data)


def test_columns_shape_and_types() -> None:
    runs = [
        make_run("a", 1_700_000_001_000, metrics={"acc": 0.5}, params={"lr": 1}, tags={"t": "x"}),
        make_run("b", None, metrics={"loss": 2.0}, params={"lr": 2, "depth": 3}),
    ]
    df = runs_to_dataframe(runs)
    assert df.shape == (2, 6 + 2 + 2 + 1)
    assert list(df.columns) == [
        *INFO_COLUMNS,
        "metrics.acc",
        "metrics.loss",
        "params.lr",
        "params.depth",
        "tags.t",
    ]
    assert str(df["start_time"].dtype).startswith("datetime64") and "UTC" in str(
        df["start_time"].dtype
    )
    assert df["start_time"][0] == pd.Timestamp(1_700_000_000_000, unit="ms", tz="UTC")
    assert pd.isna(df["end_time"][1])
    assert df["metrics.acc"].dtype == "float64" and pd.isna(df["metrics.acc"][1])
    assert df["params.lr"].tolist() == ["1", "2"]
    assert pd.isna(df["params.depth"][0]) and pd.isna(df["tags.t"][1])
    assert df["run_id"].tolist() == ["a", "b"]


def test_no_runs_gives_the_info_columns_only() -> None:
    df = runs_to_dataframe([])
    assert list(df.columns) == list(INFO_COLUMNS)
    assert len(df) == 0
