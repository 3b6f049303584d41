"""The artifact part of ``Client`` (MLflow's MlflowClient artifact methods).

A mixin, as ``client_models`` is, so that ``client.py`` keeps to experiments, runs and values.
A run is looked up once for its artifact URI; bytes move through the repository of that URI.
Figures, images and tables are encoded by ``figures``, ``images`` and ``tables``,
which import matplotlib, plotly, Pillow and pandas only when such an object is logged.
"""

from __future__ import annotations

import logging
import os
import posixpath
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from wayline.artifacts.paths import invalid_path, safe_relative_path
from wayline.entities import FileInfo, Run, RunTag, ViewType
from wayline.errors import InvalidParameter, NotFound
from wayline.store.tracking import SEARCH_MAX_RESULTS_LIMIT, TrackingStore

if TYPE_CHECKING:
    import pandas as pd

    from wayline.artifacts.repository import ArtifactRepository

_logger = logging.getLogger(__name__)
_REPOSITORY_CACHE_SIZE = 1024


def _log_through_file(
    repo: ArtifactRepository, artifact_file: str, write: Callable[[str], None]
) -> None:
    """Let ``write`` save a local file named as ``artifact_file``, then upload it there.

    Libraries pick the format from the file name (savefig, PIL's save), hence a real file.
    """
    relative = safe_relative_path(artifact_file)
    if not relative:
        raise invalid_path()
    folder, _, name = relative.rpartition("/")
    with tempfile.TemporaryDirectory() as tmp:
        local = os.path.join(tmp, name)
        write(local)
        repo.log_artifact(local, folder or None)


def _is_file(repo: ArtifactRepository, relative: str) -> bool:
    folder = posixpath.dirname(relative)
    return any(f.path == relative and not f.is_dir for f in repo.list_artifacts(folder or None))


class ArtifactsClient:
    _store: TrackingStore
    _tracking_uri: str

    def _repository_of(self, run: Run) -> ArtifactRepository:
        from wayline.artifacts.resolve import artifact_repository  # fsspec/httpx: when used

        return artifact_repository(run.info.artifact_uri, self._tracking_uri)

    def _run_repository(self, run_id: str) -> tuple[Run, ArtifactRepository]:
        run = self._store.get_run(run_id)
        return run, self._repository_of(run)

    def _artifact_repository(self, run_id: str) -> ArtifactRepository:
        from wayline.artifacts.resolve import artifact_repository

        # A run's artifact URI never changes, so its repository is made once per run (MLflow's
        # client caches its repositories the same way): logging many files costs one request
        # each, without reading the settings and credentials again for every file.
        cache: dict[str, ArtifactRepository] = self.__dict__.setdefault("_artifact_repos", {})
        repository = cache.get(run_id)
        if repository is None:
            uri = self._store.get_run(run_id).info.artifact_uri
            repository = artifact_repository(uri, self._tracking_uri)
            if len(cache) >= _REPOSITORY_CACHE_SIZE:
                cache.clear()
            cache[run_id] = repository
        return repository

    # ------------------------------------------------------------------ files
    def log_artifact(
        self, run_id: str, local_path: str | os.PathLike[str], artifact_path: str | None = None
    ) -> None:
        """Upload a local file into the run's artifact directory ``artifact_path``.

        Example::

            client.log_artifact(run_id, "confusion.png", artifact_path="plots")
        """
        self._artifact_repository(run_id).log_artifact(local_path, artifact_path)

    def log_artifacts(
        self, run_id: str, local_dir: str | os.PathLike[str], artifact_path: str | None = None
    ) -> None:
        """Upload every file under a local directory, keeping its layout.

        Example::

            client.log_artifacts(run_id, "outputs/", artifact_path="outputs")
        """
        self._artifact_repository(run_id).log_artifacts(local_dir, artifact_path)

    def log_text(self, run_id: str, text: str, artifact_file: str) -> None:
        """Save ``text`` (UTF-8) as the artifact ``artifact_file``.

        Example::

            client.log_text(run_id, "all good", "notes/summary.txt")
        """
        with self._artifact_repository(run_id).open_write(artifact_file) as sink:
            sink.write(text.encode("utf-8"))

    def log_dict(self, run_id: str, dictionary: Any, artifact_file: str) -> None:
        """Save a dict as JSON, or as YAML when ``artifact_file`` ends in .yaml/.yml.

        Example::

            client.log_dict(run_id, {"layers": [64, 32]}, "config.yaml")
        """
        from wayline.artifacts.codec import dict_as_text

        self.log_text(run_id, dict_as_text(dictionary, artifact_file), artifact_file)

    def list_artifacts(self, run_id: str, path: str | None = None) -> list[FileInfo]:
        """The files and directories directly under ``path`` in the run's artifacts.

        Example::

            for info in client.list_artifacts(run_id, "plots"):
                print(info.path, info.is_dir, info.file_size)
        """
        return self._artifact_repository(run_id).list_artifacts(path)

    def download_artifacts(
        self, run_id: str, path: str, dst_path: str | os.PathLike[str] | None = None
    ) -> str:
        """Download a run artifact (file or directory) and return its local path.

        Example::

            local = client.download_artifacts(run_id, "plots", dst_path="/tmp/run-plots")
        """
        return self._artifact_repository(run_id).download_artifacts(path, dst_path)

    # ------------------------------------------------------------------ figures and images
    def log_figure(
        self,
        run_id: str,
        figure: Any,
        artifact_file: str,
        *,
        save_kwargs: Mapping[str, Any] | None = None,
    ) -> None:
        """Save a matplotlib or plotly figure as the artifact ``artifact_file``.

        matplotlib figures go through ``savefig`` (format from the extension); plotly figures
        through ``write_html`` for ``.html`` (plotly.js from its CDN) or ``write_image`` for
        .png/.jpeg/.webp/.svg/.pdf (which needs kaleido). ``save_kwargs`` go to that method.

        Example::

            import matplotlib.pyplot as plt

            fig, ax = plt.subplots()
            ax.plot([0, 1], [2, 3])
            client.log_figure(run_id, fig, "plots/line.png", save_kwargs={"dpi": 150})
        """
        from wayline.tracking.figures import save_figure

        _log_through_file(
            self._artifact_repository(run_id),
            artifact_file,
            lambda local: save_figure(figure, local, artifact_file, save_kwargs),
        )

    def log_image(
        self,
        run_id: str,
        image: Any,
        artifact_file: str | None = None,
        key: str | None = None,
        step: int | None = None,
        timestamp: int | None = None,
        synchronous: bool | None = None,
    ) -> None:
        """Save a PIL image or a numpy array as an image artifact.

        Either as the file ``artifact_file`` (format from its extension), or step-indexed for
        charts: ``key`` with ``step`` (default 0) and ``timestamp`` (default now, in ms) store
        ``images/<key>+step+<step>+timestamp+<ms>+<uuid>.png`` and a 256-pixel ``.webp``
        preview, and tag the run ``mlflow.loggedImages``, as MLflow does. Arrays may hold
        bools, integers in 0..255 or floats in 0..1, shaped HxW, HxWx1, HxWx3 or HxWx4.
        Images are stored before the call returns; ``synchronous`` is accepted for MLflow's
        signature.

        Example::

            import numpy as np

            client.log_image(run_id, np.zeros((64, 64, 3), dtype=np.uint8), "black.png")
            for step in range(3):
                client.log_image(run_id, np.random.rand(64, 64), key="noise", step=step)
        """
        from wayline.tracking.images import (
            LOGGED_IMAGES_TAG,
            as_pil_image,
            compressed,
            step_image_files,
        )

        if artifact_file is not None and (key, step, timestamp) != (None, None, None):
            raise InvalidParameter(
                "The `artifact_file` parameter cannot be used in conjunction with `key`, "
                "`step`, or `timestamp` parameters. Please ensure that `artifact_file` is "
                "specified alone, without any of these conflicting parameters."
            )
        if artifact_file is None and key is None:
            raise InvalidParameter(
                "Invalid arguments: Please specify exactly one of `artifact_file` or `key`. Use "
                "`key` to log dynamic image charts or `artifact_file` for saving static images."
            )
        pil = as_pil_image(image)
        run, repo = self._run_repository(run_id)
        if artifact_file is not None:
            _log_through_file(repo, artifact_file, pil.save)
            return
        assert key is not None
        when = timestamp if timestamp is not None else int(time.time() * 1000)
        full, preview = step_image_files(key, step or 0, when)
        _log_through_file(repo, full, pil.save)
        _log_through_file(repo, preview, compressed(pil).save)
        if run.data.tags.get(LOGGED_IMAGES_TAG) != "True":
            self._store.set_tag(run_id, RunTag(LOGGED_IMAGES_TAG, "True"))

    # ------------------------------------------------------------------ tables
    def log_table(self, run_id: str, data: Any, artifact_file: str) -> None:
        """Save a table (a pandas DataFrame or a dict of columns) as a JSON artifact; logging
        to the same file again appends the rows.

        The file holds ``{"columns": [...], "data": [[...], ...]}`` (or Parquet for a
        ``.parquet`` file, with pyarrow) and the run's ``mlflow.loggedArtifacts`` tag lists it,
        as MLflow does, so ``load_table`` can find it. A column of PIL images is stored as
        image files under ``table_images/`` and referenced from the cells, as MLflow does.

        Example::

            client.log_table(run_id, {"input": ["a", "b"], "score": [0.1, 0.9]}, "eval.json")
            client.log_table(run_id, {"input": ["c"], "score": [0.5]}, "eval.json")  # 3 rows
        """
        import pandas as pd

        from wayline.tracking.tables import (
            LOGGED_ARTIFACTS_TAG,
            as_frame,
            read_table,
            registered,
            store_images,
            table_file,
            write_table,
        )

        relative = table_file(artifact_file)
        frame = as_frame(data)
        run, repo = self._run_repository(run_id)
        frame = store_images(
            frame, relative, lambda path, image: _log_through_file(repo, path, image.save)
        )
        folder, _, name = relative.rpartition("/")
        with tempfile.TemporaryDirectory() as tmp:
            if _is_file(repo, relative):
                existing = repo.download_artifacts(relative, os.path.join(tmp, "existing"))
                previous = read_table(existing, infer_dtypes=False)
                frame = pd.concat([previous, frame], ignore_index=True)
            local = os.path.join(tmp, name)
            write_table(frame, local)
            repo.log_artifact(local, folder or None)
        tag = registered(run.data.tags.get(LOGGED_ARTIFACTS_TAG), relative)
        if tag is not None:
            self._store.set_tag(run_id, RunTag(LOGGED_ARTIFACTS_TAG, tag))

    def _runs_with_table(
        self, experiment_id: str, relative: str, run_ids: Sequence[str] | None
    ) -> list[Run]:
        from wayline.tracking.tables import LOGGED_ARTIFACTS_TAG, lists_table, table_filter

        filter_string = table_filter(relative)
        if run_ids:
            if any("'" in str(r) for r in run_ids):
                raise InvalidParameter(f"Invalid run id in {list(run_ids)!r}")
            quoted = ",".join(f"'{r}'" for r in run_ids)
            filter_string += f" and attributes.run_id IN ({quoted})"
        runs: list[Run] = []
        token: str | None = None
        while True:
            page = self._store.search_runs(
                [str(experiment_id)],
                filter_string,
                ViewType.ACTIVE_ONLY,
                SEARCH_MAX_RESULTS_LIMIT,
                None,
                token,
            )
            runs.extend(page)
            token = page.token
            if not token:
                break
        # LIKE treats "_" and "%" in the file name as wildcards: keep exact listings only.
        return [r for r in runs if lists_table(r.data.tags.get(LOGGED_ARTIFACTS_TAG), relative)]

    def load_table(
        self,
        experiment_id: str,
        artifact_file: str,
        run_ids: Sequence[str] | None = None,
        extra_columns: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        """One DataFrame of the table ``artifact_file`` of every run in the experiment that
        logged it (or of ``run_ids`` only).

        ``extra_columns`` adds columns of each run's ``search_runs`` row (``"run_id"``,
        ``"tags.<key>"``, ...); a name the table already has gets a ``_`` suffix.

        Example::

            frame = client.load_table("0", "eval.json", extra_columns=["run_id"])
        """
        import pandas as pd

        from wayline.tracking.dataframe import runs_to_dataframe
        from wayline.tracking.tables import read_table, table_file

        relative = table_file(artifact_file)
        runs = self._runs_with_table(experiment_id, relative, run_ids)
        if not runs:
            raise NotFound("No runs found with the corresponding table artifact.")
        if run_ids and len(runs) != len(run_ids):
            _logger.warning(
                "Not all runs have the specified table artifact. Some runs will be skipped."
            )
        rows = runs_to_dataframe(runs)
        for column in extra_columns or ():
            if column not in rows.columns:
                raise InvalidParameter(f"Unknown extra column {column!r}: not a run column.")
        tables: list[pd.DataFrame] = []
        with tempfile.TemporaryDirectory() as tmp:
            for index, run in enumerate(runs):
                repo = self._repository_of(run)
                if not _is_file(repo, relative):
                    raise NotFound(f"Artifact {relative} not found for run {run.info.run_id}.")
                local = repo.download_artifacts(relative, os.path.join(tmp, str(index)))
                table = read_table(local)
                for column in extra_columns or ():
                    name = column
                    if column in table.columns:
                        name = f"{column}_"
                        _logger.warning(
                            "Column name %s already exists in the table. Resolving the "
                            "conflict, by appending an underscore to the column name.",
                            column,
                        )
                    value: Any = rows.at[index, column]  # one run's cell, any run column type
                    table[name] = value
                tables.append(table)
        return pd.concat(tables, ignore_index=True)


__all__ = ["ArtifactsClient"]
