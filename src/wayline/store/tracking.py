"""The tracking store interface: every backend (SQL, REST) implements all of it.

An abstract base class rather than a Protocol so that a backend missing a method fails when it is
instantiated, not when a user first calls that method. Every method raises a
``wayline.errors.WaylineError`` subclass on bad input or missing entities, and every write is one
transaction: it applies whole or not at all.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any

from wayline.entities import (
    DatasetInput,
    DatasetSummary,
    Experiment,
    ExperimentTag,
    LoggedModel,
    LoggedModelDataset,
    LoggedModelOrderBy,
    LoggedModelStatus,
    LoggedModelTag,
    Metric,
    ModelInput,
    ModelOutput,
    PagedList,
    Param,
    Run,
    RunInfo,
    RunTag,
    ViewType,
)

SEARCH_MAX_RESULTS_DEFAULT = 1000
SEARCH_DATASETS_MAX_RESULTS = 1000
SEARCH_DATASETS_MAX_EXPERIMENTS = 20
SEARCH_MAX_RESULTS_LIMIT = 50000
LOGGED_MODELS_MAX_RESULTS_DEFAULT = 50
# get-history-bulk-interval: MLflow's limits (runs per request, points per run and its default).
BULK_INTERVAL_MAX_RUNS = 100
BULK_INTERVAL_MAX_RESULTS = 2500
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
    def record_logged_model(self, run_id: str, model: Mapping[str, Any]) -> None:
        """Append an MLmodel (as a dict) to the run's ``mlflow.log-model.history`` tag.

        MLflow 2's way of listing a run's models, still sent by older clients; concurrent
        appends all land.
        """

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
    def log_inputs(
        self,
        run_id: str,
        datasets: Sequence[DatasetInput] = (),
        models: Sequence[ModelInput] = (),
    ) -> None:
        """Link datasets and logged models to a run.

        A (name, digest) dataset is stored once per experiment; NotFound for an unknown model.
        """

    @abstractmethod
    def log_outputs(self, run_id: str, models: Sequence[ModelOutput]) -> None:
        """Record logged models a run produced (each at a step); NotFound for an unknown model."""

    @abstractmethod
    def search_datasets(self, experiment_ids: Sequence[str]) -> list[DatasetSummary]:
        """The datasets runs of these experiments used, each with its ``mlflow.data.context``
        (at most ``SEARCH_DATASETS_MAX_RESULTS``, ordered by experiment, name, digest)."""

    @abstractmethod
    def get_metric_history(
        self,
        run_id: str,
        metric_key: str,
        max_results: int | None = None,
        page_token: str | None = None,
    ) -> PagedList[Metric]:
        """Every point of one metric, ordered by step then timestamp, optionally paged."""

    @abstractmethod
    def get_metric_history_bulk_interval(
        self,
        run_ids: Sequence[str],
        metric_key: str,
        max_results: int = BULK_INTERVAL_MAX_RESULTS,
        start_step: int | None = None,
        end_step: int | None = None,
    ) -> list[Metric]:
        """One metric of several runs, downsampled for a chart; each Metric carries its run_id.

        For each run, up to ``max_results`` of its distinct steps within ``[start_step,
        end_step]`` (either bound optional) are chosen evenly spaced, always including the first
        and the last (a single step when ``max_results`` is 1: the last); a run with fewer steps
        keeps all of them. Every point logged at a chosen step is returned, runs in the order
        given, then by step, timestamp and value. Unknown runs contribute nothing, as in MLflow.

        InvalidParameter for no run ids or more than ``BULK_INTERVAL_MAX_RUNS``, for
        ``max_results`` outside 1..``BULK_INTERVAL_MAX_RESULTS``, and for start_step > end_step.
        """

    # ---------------------------------------------------------------- logged models
    @abstractmethod
    def create_logged_model(
        self,
        experiment_id: str,
        name: str | None = None,
        source_run_id: str | None = None,
        tags: Sequence[LoggedModelTag] = (),
        params: Sequence[Param] = (),
        model_type: str | None = None,
    ) -> LoggedModel:
        """Create a PENDING logged model in an active experiment and return it.

        ``name`` is generated (as run names are) when absent; the artifact location is
        ``<experiment artifact_location>/models/<model_id>/artifacts``. NotFound for an unknown
        experiment or source run; InvalidParameter for a deleted experiment or a bad name.
        """

    @abstractmethod
    def get_logged_model(self, model_id: str) -> LoggedModel:
        """The logged model with its tags, params and metrics; NotFound if absent or deleted."""

    @abstractmethod
    def finalize_logged_model(self, model_id: str, status: LoggedModelStatus) -> LoggedModel:
        """Set the final status (READY or UPLOAD_FAILED; others are InvalidParameter)."""

    @abstractmethod
    def delete_logged_model(self, model_id: str) -> None:
        """Soft-delete a logged model: afterwards it is NotFound and no search returns it."""

    @abstractmethod
    def search_logged_models(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        datasets: Sequence[LoggedModelDataset] | None = None,
        max_results: int = LOGGED_MODELS_MAX_RESULTS_DEFAULT,
        order_by: Sequence[LoggedModelOrderBy] | None = None,
        page_token: str | None = None,
    ) -> PagedList[LoggedModel]:
        """Active logged models of these experiments matching spec/search-syntax.md §6.

        ``datasets`` restrict which metric points the filter's metric clauses see. Default
        order: creation_timestamp DESC, model_id ASC.
        """

    @abstractmethod
    def set_logged_model_tags(self, model_id: str, tags: Sequence[LoggedModelTag]) -> None:
        """Insert or replace tags on a logged model."""

    @abstractmethod
    def delete_logged_model_tag(self, model_id: str, key: str) -> None:
        """Remove a logged model's tag; NotFound if the model has no such tag."""

    @abstractmethod
    def log_logged_model_params(self, model_id: str, params: Sequence[Param]) -> None:
        """Record params on a logged model (a different value for an existing key is invalid)."""
