"""The tracking store interface: every backend (SQL, REST) implements all of it.

An abstract base class rather than a Protocol so that a backend missing a method fails when it is
instantiated, not when a user first calls that method. Every method raises a
``wayline.errors.WaylineError`` subclass on bad input or missing entities, and every write is one
transaction: it applies whole or not at all.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

from wayline.entities import (
    DatasetInput,
    Experiment,
    ExperimentTag,
    Metric,
    PagedList,
    Param,
    Run,
    RunInfo,
    RunTag,
    ViewType,
)

SEARCH_MAX_RESULTS_DEFAULT = 1000
SEARCH_MAX_RESULTS_LIMIT = 50000
DEFAULT_EXPERIMENT_ID = "0"
DEFAULT_EXPERIMENT_NAME = "Default"


class TrackingStore(ABC):
    @abstractmethod
    def close(self) -> None:
        """Release connections; the store stays usable and reconnects on demand."""

    # ---------------------------------------------------------------- experiments
    @abstractmethod
    def create_experiment(
        self,
        name: str,
        artifact_location: str | None = None,
        tags: Sequence[ExperimentTag] = (),
    ) -> str:
        """Create an experiment and return its id.

        Raises AlreadyExists if any experiment, even a deleted one, has ``name``;
        InvalidParameter for an empty name or one over 500 characters.
        ``artifact_location`` defaults to ``<store artifact root>/<experiment_id>``.
        """

    @abstractmethod
    def get_experiment(self, experiment_id: str) -> Experiment:
        """The experiment with this id (active or deleted); NotFound otherwise."""

    @abstractmethod
    def get_experiment_by_name(self, name: str) -> Experiment | None:
        """The experiment with this name (active or deleted), or None."""

    @abstractmethod
    def search_experiments(
        self,
        view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = SEARCH_MAX_RESULTS_DEFAULT,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Experiment]:
        """Experiments matching the filter grammar of spec/search-syntax.md §3, one page.

        Default order: creation_time DESC, experiment_id ASC. ``token`` of the result is set
        only when more rows exist.
        """

    @abstractmethod
    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        """Rename an active experiment; AlreadyExists if the name is taken."""

    @abstractmethod
    def delete_experiment(self, experiment_id: str) -> None:
        """Soft-delete an experiment and its runs; its name stays taken."""

    @abstractmethod
    def restore_experiment(self, experiment_id: str) -> None:
        """Restore a deleted experiment and the runs deleted with it."""

    @abstractmethod
    def set_experiment_tag(self, experiment_id: str, tag: ExperimentTag) -> None:
        """Insert or replace a tag on an active experiment."""

    @abstractmethod
    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        """Remove a tag; NotFound if the experiment has no such tag."""

    # ---------------------------------------------------------------- runs
    @abstractmethod
    def create_run(
        self,
        experiment_id: str,
        user_id: str | None = None,
        start_time: int | None = None,
        tags: Sequence[RunTag] = (),
        run_name: str | None = None,
    ) -> Run:
        """Start a RUNNING run in an active experiment.

        The name comes from ``run_name``, else the ``mlflow.runName`` tag, else is generated;
        the ``mlflow.runName`` tag always equals it (a different one is InvalidParameter).
        """

    @abstractmethod
    def get_run(self, run_id: str) -> Run:
        """The run with its latest metrics, params, tags and inputs; NotFound otherwise."""

    @abstractmethod
    def update_run_info(
        self,
        run_id: str,
        run_status: str | None = None,
        end_time: int | None = None,
        run_name: str | None = None,
    ) -> RunInfo:
        """Change status, end time or name (which also updates the ``mlflow.runName`` tag)."""

    @abstractmethod
    def delete_run(self, run_id: str) -> None:
        """Soft-delete a run."""

    @abstractmethod
    def restore_run(self, run_id: str) -> None:
        """Restore a soft-deleted run."""

    @abstractmethod
    def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        run_view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = SEARCH_MAX_RESULTS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Run]:
        """Runs of these experiments matching spec/search-syntax.md §2, one page.

        Default order: start_time DESC, run_id ASC; runs lacking a sort key come last.
        """

    # ---------------------------------------------------------------- values
    @abstractmethod
    def log_metric(self, run_id: str, metric: Metric) -> None:
        """Append one point to a metric's history (replaying the same point is harmless)."""

    @abstractmethod
    def log_param(self, run_id: str, param: Param) -> None:
        """Record a param; logging a different value for an existing key is InvalidParameter."""

    @abstractmethod
    def set_tag(self, run_id: str, tag: RunTag) -> None:
        """Insert or replace a run tag (``mlflow.runName`` also renames the run)."""

    @abstractmethod
    def delete_tag(self, run_id: str, key: str) -> None:
        """Remove a run tag; NotFound if absent."""

    @abstractmethod
    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
    ) -> None:
        """Log many values in one transaction, within MLflow's log-batch limits."""

    @abstractmethod
    def log_inputs(self, run_id: str, datasets: Sequence[DatasetInput] = ()) -> None:
        """Link datasets to a run; a (name, digest) dataset is stored once per experiment."""

    @abstractmethod
    def get_metric_history(
        self,
        run_id: str,
        metric_key: str,
        max_results: int | None = None,
        page_token: str | None = None,
    ) -> PagedList[Metric]:
        """Every point of one metric, ordered by step then timestamp, optionally paged."""
