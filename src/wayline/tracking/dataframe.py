"""Runs as a pandas DataFrame with MLflow's columns (imported only when a DataFrame is asked for).

Columns: ``run_id, experiment_id, status, artifact_uri, start_time, end_time`` (UTC datetimes),
then ``metrics.<key>`` (float, NaN when absent), ``params.<key>`` and ``tags.<key>`` (strings,
missing values as pandas infers them, exactly as MLflow builds its frame), each family in the
order its keys first appear.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from wayline.entities import Run

INFO_COLUMNS = ("run_id", "experiment_id", "status", "artifact_uri", "start_time", "end_time")


def runs_to_dataframe(runs: Sequence[Run]) -> pd.DataFrame:
    """One row per run, in the order given."""
    n = len(runs)
    metrics: dict[str, list[float | None]] = {}
    params: dict[str, list[str | None]] = {}
    tags: dict[str, list[str | None]] = {}
    for i, run in enumerate(runs):
        data = run.data
        for m in data.latest_metrics:
            metrics.setdefault(m.key, [None] * n)[i] = m.value
        for p in data.param_list:
            params.setdefault(p.key, [None] * n)[i] = p.value
        for t in data.tag_list:
            tags.setdefault(t.key, [None] * n)[i] = t.value
    infos = [run.info for run in runs]
    columns: dict[str, object] = {
        "run_id": [r.run_id for r in infos],
        "experiment_id": [r.experiment_id for r in infos],
        "status": [str(r.status) for r in infos],
        "artifact_uri": [r.artifact_uri for r in infos],
        "start_time": _times([r.start_time for r in infos]),
        "end_time": _times([r.end_time for r in infos]),
    }
    for key, floats in metrics.items():
        columns["metrics." + key] = pd.Series(floats, dtype="float64")
    for prefix, family in (("params.", params), ("tags.", tags)):
        for key, strings in family.items():
            columns[prefix + key] = strings
    return pd.DataFrame(columns, index=pd.RangeIndex(n))


def _times(ms: list[int | None]) -> pd.Series:
    values = pd.Series([float("nan") if t is None else t for t in ms], dtype="float64")
    return pd.to_datetime(values, unit="ms", utc=True)
