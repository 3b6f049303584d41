"""Fluent artifact logging: ``log_artifact(s)``, ``log_text``, ``log_dict``, ``log_figure``,
``log_image``, ``log_table`` and ``load_table``.

Each call resolves the active run (starting one if there is none, as MLflow does) and hands the
work to the cached Client, which picks the run's artifact repository; storage libraries load
only then, so ``import wayline`` stays light.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from wayline.tracking.fluent import active_run_id, client, default_experiment_id

if TYPE_CHECKING:
    import pandas as pd


def log_artifact(
    local_path: str | os.PathLike[str], artifact_path: str | None = None, run_id: str | None = None
) -> None:
    """Upload a local file to the active run (or ``run_id``), into directory ``artifact_path``.

    Example::

        with wayline.start_run():
            wayline.log_artifact("model.pkl", artifact_path="model")
    """
    client().log_artifact(run_id or active_run_id(), local_path, artifact_path)


def log_artifacts(
    local_dir: str | os.PathLike[str], artifact_path: str | None = None, run_id: str | None = None
) -> None:
    """Upload every file under a local directory to the active run, keeping its layout.

    Example::

        wayline.log_artifacts("outputs/", artifact_path="outputs")
    """
    client().log_artifacts(run_id or active_run_id(), local_dir, artifact_path)


def log_text(text: str, artifact_file: str, run_id: str | None = None) -> None:
    """Save ``text`` as the artifact ``artifact_file`` (a path relative to the run's root).

    Example::

        wayline.log_text("accuracy went up", "notes/summary.txt")
    """
    client().log_text(run_id or active_run_id(), text, artifact_file)


def log_dict(dictionary: Any, artifact_file: str, run_id: str | None = None) -> None:
    """Save a dict as JSON, or as YAML when ``artifact_file`` ends in ``.yaml``/``.yml``.

    Example::

        wayline.log_dict({"lr": 0.01, "layers": [64, 32]}, "config.json")
    """
    client().log_dict(run_id or active_run_id(), dictionary, artifact_file)


def log_figure(
    figure: Any, artifact_file: str, *, save_kwargs: Mapping[str, Any] | None = None
) -> None:
    """Save a matplotlib or plotly figure to the active run as ``artifact_file``.

    matplotlib figures are saved with ``savefig``; plotly figures with ``write_html`` for
    ``.html`` or ``write_image`` for image formats (which needs kaleido).

    Example::

        import matplotlib.pyplot as plt

        fig, ax = plt.subplots()
        ax.plot([0, 1], [2, 3])
        with wayline.start_run():
            wayline.log_figure(fig, "plots/line.png")
    """
    client().log_figure(active_run_id(), figure, artifact_file, save_kwargs=save_kwargs)


def log_image(
    image: Any,
    artifact_file: str | None = None,
    key: str | None = None,
    step: int | None = None,
    timestamp: int | None = None,
    synchronous: bool | None = None,
) -> None:
    """Save a PIL image or numpy array to the active run: as ``artifact_file``, or
    step-indexed under ``images/`` with ``key`` and ``step`` (see ``Client.log_image``).

    Example::

        import numpy as np

        with wayline.start_run():
            wayline.log_image(np.zeros((32, 32, 3), dtype=np.uint8), "black.png")
            for step in range(3):
                wayline.log_image(np.random.rand(32, 32), key="noise", step=step)
    """
    client().log_image(active_run_id(), image, artifact_file, key, step, timestamp, synchronous)


def log_table(data: Any, artifact_file: str, run_id: str | None = None) -> None:
    """Save a pandas DataFrame or a dict of columns as a JSON table of the active run (or
    ``run_id``); logging to the same file again appends the rows.

    Example::

        with wayline.start_run():
            wayline.log_table({"question": ["2+2?"], "answer": ["4"]}, "eval/qa.json")
    """
    client().log_table(run_id or active_run_id(), data, artifact_file)


def load_table(
    artifact_file: str,
    run_ids: Sequence[str] | None = None,
    extra_columns: Sequence[str] | None = None,
) -> pd.DataFrame:
    """The table ``artifact_file`` of every run of the active experiment that logged it (or
    of ``run_ids``), as one DataFrame; ``extra_columns`` adds run columns such as "run_id".

    Example::

        frame = wayline.load_table("eval/qa.json", extra_columns=["run_id"])
    """
    c = client()
    return c.load_table(default_experiment_id(c), artifact_file, run_ids, extra_columns)


def get_artifact_uri(artifact_path: str | None = None) -> str:
    """The URI of the active run's artifact root, or of ``artifact_path`` under it.

    Example::

        with wayline.start_run():
            print(wayline.get_artifact_uri("model"))  # .../<run_id>/artifacts/model
    """
    from wayline.artifacts.paths import safe_relative_path

    root = client().get_run(active_run_id()).info.artifact_uri
    path = safe_relative_path(artifact_path)
    return f"{root.rstrip('/')}/{path}" if path else root


__all__ = [
    "get_artifact_uri",
    "load_table",
    "log_artifact",
    "log_artifacts",
    "log_dict",
    "log_figure",
    "log_image",
    "log_table",
    "log_text",
]
