"""``Client``: the low-level tracking API, one method per store operation (MLflow's MlflowClient).

A client holds one store, resolved once from its tracking URI and shared with every other client
of the same URI, so a call costs the store's work and little else. Validation is the store's job;
the client only turns user-friendly arguments (dicts of tags, numpy scalars) into entities.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from wayline.entities import (
    DatasetInput,
    Experiment,
    ExperimentTag,
    Metric,
    ModelInput,
    PagedList,
    Param,
    Run,
    RunInfo,
    RunStatus,
    RunTag,
    ViewType,
)
from wayline.store.tracking import (
    BULK_INTERVAL_MAX_RESULTS,
    SEARCH_MAX_RESULTS_DEFAULT,
    TrackingStore,
)
from wayline.tracking import context
from wayline.tracking.async_logging import RunOperations, logger_for
from wayline.tracking.batching import chunk_batch
from wayline.tracking.client_artifacts import ArtifactsClient
from wayline.tracking.client_models import LoggedModelsClient
from wayline.tracking.client_prompts import PromptsClient
from wayline.tracking.client_registry import RegistryClient
from wayline.tracking.client_traces import TracesClient
from wayline.tracking.client_webhooks import WebhooksClient
from wayline.tracking.uri import async_logging_default, get_tracking_uri
from wayline.tracking.values import metric_value, param_value, tag_value

TagsArg = Mapping[str, Any] | Sequence[RunTag] | None


def _now_ms() -> int:
    return int(time.time() * 1000)


def _run_tags(tags: TagsArg) -> list[RunTag]:
    if not tags:
        return []
    if isinstance(tags, Mapping):
        return [RunTag(str(k), tag_value(v)) for k, v in tags.items()]
    return list(tags)


def _is_async(synchronous: bool | None) -> bool:
    if synchronous is None:
        return async_logging_default()
    return not synchronous


class Client(
    ArtifactsClient,
    LoggedModelsClient,
    RegistryClient,
    WebhooksClient,
    PromptsClient,
    TracesClient,
):
    """Low-level access to a tracking store: experiments, runs, metrics, params, tags,
    artifacts (see ``client_artifacts``), logged models (see ``client_models``), the model
    registry and prompts (see ``client_registry``, ``client_webhooks``, ``client_prompts``;
    ``registry_uri`` defaults to the tracking URI) and traces (see ``client_traces``).

    Example::

        from wayline import Client
        client = Client()                       # or Client("sqlite:///runs.db")
        exp_id = client.create_experiment("demo")
        run = client.create_run(exp_id, run_name="first")
        client.log_metric(run.info.run_id, "loss", 0.5, step=1)
        client.set_terminated(run.info.run_id)
    """

    def __init__(self, tracking_uri: str | None = None, registry_uri: str | None = None) -> None:
        from wayline.store.resolve import tracking_store  # imports SQLAlchemy: only when used

        self._tracking_uri = tracking_uri or get_tracking_uri()
        self._store: TrackingStore = tracking_store(self._tracking_uri)
        self._registry_uri = registry_uri or self._tracking_uri
        self._registry_store: TrackingStore = (
            tracking_store(registry_uri) if registry_uri else self._store
        )

    @property
    def tracking_uri(self) -> str:
        return self._tracking_uri

    @property
    def store(self) -> TrackingStore:
        return self._store

    @property
    def registry_uri(self) -> str:
        return self._registry_uri

    # ------------------------------------------------------------------ experiments
    def create_experiment(
        self,
        name: str,
        artifact_location: str | None = None,
        tags: Mapping[str, Any] | None = None,
    ) -> str:
        """Create an experiment and return its id.

        Example::

            exp_id = client.create_experiment("demo", tags={"team": "vision"})
        """
        exp_tags = [ExperimentTag(str(k), tag_value(v)) for k, v in (tags or {}).items()]
        return self._store.create_experiment(name, artifact_location, exp_tags)

    def get_experiment(self, experiment_id: str) -> Experiment:
        """The experiment with this id (NotFound if none).

        Example::

            print(client.get_experiment("0").name)  # Default
        """
        return self._store.get_experiment(str(experiment_id))

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        """The experiment with this name, active or deleted, or None.

        Example::

            exp = client.get_experiment_by_name("demo")
        """
        return self._store.get_experiment_by_name(name)

    def search_experiments(
        self,
        view_type: ViewType | int | str = ViewType.ACTIVE_ONLY,
        max_results: int | None = SEARCH_MAX_RESULTS_DEFAULT,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Experiment]:
        """One page of experiments; ``.token`` fetches the next.

        Example::

            page = client.search_experiments(filter_string="name LIKE 'demo%'", max_results=10)
        """
        return self._store.search_experiments(
            ViewType.from_string(view_type),
            max_results or SEARCH_MAX_RESULTS_DEFAULT,
            filter_string,
            order_by,
            page_token,
        )

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        """Rename an experiment.

        Example::

            client.rename_experiment(exp_id, "demo-v2")
        """
        self._store.rename_experiment(str(experiment_id), new_name)

    def delete_experiment(self, experiment_id: str) -> None:
        """Soft-delete an experiment and its runs (restore_experiment undoes it).

        Example::

            client.delete_experiment(exp_id)
        """
        self._store.delete_experiment(str(experiment_id))

    def restore_experiment(self, experiment_id: str) -> None:
        """Restore a deleted experiment and its runs.

        Example::

            client.restore_experiment(exp_id)
        """
        self._store.restore_experiment(str(experiment_id))

    def set_experiment_tag(self, experiment_id: str, key: str, value: Any) -> None:
        """Set a tag on an experiment.

        Example::

            client.set_experiment_tag(exp_id, "owner", "ana")
        """
        self._store.set_experiment_tag(str(experiment_id), ExperimentTag(key, tag_value(value)))

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        """Remove a tag from an experiment.

        Example::

            client.delete_experiment_tag(exp_id, "owner")
        """
        self._store.delete_experiment_tag(str(experiment_id), key)

    # ------------------------------------------------------------------ runs
    def create_run(
        self,
        experiment_id: str,
        start_time: int | None = None,
        tags: TagsArg = None,
        run_name: str | None = None,
    ) -> Run:
        """Start a RUNNING run; adds the ``mlflow.user`` tag unless given.

        Example::

            run = client.create_run(exp_id, tags={"stage": "dev"}, run_name="baseline")
        """
        run_tags = _run_tags(tags)
        user = next((t.value for t in run_tags if t.key == context.USER), None)
        if user is None:
            user = context.current_user()
            run_tags.append(RunTag(context.USER, user))
        return self._store.create_run(
            str(experiment_id),
            user_id=user,
            start_time=start_time if start_time is not None else _now_ms(),
            tags=run_tags,
            run_name=run_name,
        )

    def get_run(self, run_id: str) -> Run:
        """The run with its latest metrics, params, tags and inputs.

        Example::

            run = client.get_run(run_id)
            print(run.info.status, run.data.metrics)
        """
        return self._store.get_run(run_id)

    def update_run(
        self, run_id: str, status: str | RunStatus | None = None, name: str | None = None
    ) -> RunInfo:
        """Change a run's status or name.

        Example::

            client.update_run(run_id, name="better-name")
        """
        run_status = RunStatus.to_string(status) if status is not None else None
        end_time = _now_ms() if run_status and RunStatus.is_terminated(run_status) else None
        return self._store.update_run_info(run_id, run_status, end_time, name)

    def set_terminated(
        self, run_id: str, status: str | RunStatus | None = None, end_time: int | None = None
    ) -> None:
        """End a run: status FINISHED unless given, end time now unless given.

        Values still queued by ``synchronous=False`` calls are written first.

        Example::

            client.set_terminated(run_id, status="FAILED")
        """
        self.flush_async(run_id)
        self._store.update_run_info(
            run_id,
            RunStatus.to_string(status or RunStatus.FINISHED),
            end_time if end_time is not None else _now_ms(),
        )

    def delete_run(self, run_id: str) -> None:
        """Soft-delete a run.

        Example::

            client.delete_run(run_id)
        """
        self._store.delete_run(run_id)

    def restore_run(self, run_id: str) -> None:
        """Restore a deleted run.

        Example::

            client.restore_run(run_id)
        """
        self._store.restore_run(run_id)

    def search_runs(
        self,
        experiment_ids: str | Sequence[str],
        filter_string: str = "",
        run_view_type: ViewType | int | str = ViewType.ACTIVE_ONLY,
        max_results: int = SEARCH_MAX_RESULTS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Run]:
        """One page of runs matching the filter; ``.token`` fetches the next.

        Example::

            runs = client.search_runs([exp_id], "metrics.acc > 0.9", order_by=["metrics.acc DESC"])
        """
        ids = [experiment_ids] if isinstance(experiment_ids, str) else list(experiment_ids)
        return self._store.search_runs(
            [str(i) for i in ids],
            filter_string or None,
            ViewType.from_string(run_view_type),
            max_results,
            order_by,
            page_token,
        )

    # ------------------------------------------------------------------ values
    def log_metric(
        self,
        run_id: str,
        key: str,
        value: Any,
        timestamp: int | None = None,
        step: int | None = None,
        synchronous: bool | None = None,
        dataset_name: str | None = None,
        dataset_digest: str | None = None,
        model_id: str | None = None,
    ) -> RunOperations | None:
        """Append a point to a metric; ``synchronous=False`` queues it and returns at once.

        With ``model_id`` the point also belongs to that logged model's metrics, optionally
        for a dataset (``dataset_name``, ``dataset_digest``).

        Example::

            for step in range(3):
                client.log_metric(run_id, "loss", 1 / (step + 1), step=step)
        """
        if timestamp is None:
            timestamp = int(time.time() * 1000)
        extra = model_id or dataset_name or dataset_digest
        # The background queue carries plain points only; points for a model go straight out.
        if _is_async(synchronous) and not extra:
            logger = logger_for(self._store)
            logger.log_metric(run_id, key, value, timestamp, step or 0)
            return logger.operations
        metric = Metric(
            key,
            metric_value(key, value),
            timestamp,
            step or 0,
            dataset_name=dataset_name or None,
            dataset_digest=dataset_digest or None,
            model_id=model_id or None,
        )
        self._store.log_metric(run_id, metric)
        return None

    def log_param(self, run_id: str, key: str, value: Any, synchronous: bool | None = None) -> Any:
        """Record a param (immutable once set) and return ``value``.

        Example::

            client.log_param(run_id, "lr", 0.01)
        """
        if _is_async(synchronous):
            logger_for(self._store).log_param(run_id, key, value)
        else:
            self._store.log_param(run_id, Param(key, param_value(value)))
        return value

    def set_tag(
        self, run_id: str, key: str, value: Any, synchronous: bool | None = None
    ) -> RunOperations | None:
        """Set (or replace) a run tag.

        Example::

            client.set_tag(run_id, "stage", "prod")
        """
        if _is_async(synchronous):
            logger = logger_for(self._store)
            logger.set_tag(run_id, key, value)
            return logger.operations
        self._store.set_tag(run_id, RunTag(key, tag_value(value)))
        return None

    def delete_tag(self, run_id: str, key: str) -> None:
        """Remove a run tag.

        Example::

            client.delete_tag(run_id, "stage")
        """
        self._store.delete_tag(run_id, key)

    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
        synchronous: bool | None = None,
    ) -> RunOperations | None:
        """Log many values at once; split into requests within MLflow's log-batch limits.

        Example::

            from wayline.entities import Metric, Param
            client.log_batch(run_id, metrics=[Metric("acc", 0.9, ts, 0)], params=[Param("k", "3")])
        """
        if not metrics and not params and not tags:
            return None
        if _is_async(synchronous):
            logger = logger_for(self._store)
            logger.log_batch(run_id, list(metrics), list(params), list(tags))
            return logger.operations
        log_batch = self._store.log_batch
        for chunk_m, chunk_p, chunk_t in chunk_batch(metrics, params, tags):
            log_batch(run_id, metrics=chunk_m, params=chunk_p, tags=chunk_t)
        return None

    def log_inputs(
        self,
        run_id: str,
        datasets: Sequence[DatasetInput] | None = None,
        models: Sequence[ModelInput] | None = None,
    ) -> None:
        """Link datasets, and logged models the run used, to a run.

        Example::

            from wayline.entities import Dataset, DatasetInput
            ds = Dataset("train", "abc123", "local", '{"uri": "data.csv"}')
            client.log_inputs(run_id, [DatasetInput(ds)])
        """
        if datasets or models:
            self._store.log_inputs(run_id, list(datasets or ()), list(models or ()))

    def get_metric_history(self, run_id: str, key: str) -> list[Metric]:
        """Every point of a metric, by step then timestamp.

        Example::

            losses = [m.value for m in client.get_metric_history(run_id, "loss")]
        """
        points: list[Metric] = []
        token: str | None = None
        while True:
            page = self._store.get_metric_history(run_id, key, page_token=token)
            points.extend(page)
            token = page.token
            if not token:
                return points

    def get_metric_history_bulk_interval(
        self,
        run_ids: Sequence[str],
        key: str,
        max_results: int = BULK_INTERVAL_MAX_RESULTS,
        start_step: int | None = None,
        end_step: int | None = None,
    ) -> list[Metric]:
        """A metric of up to 100 runs, downsampled to at most ``max_results`` steps per run.

        Each run's first and last step in ``[start_step, end_step]`` are always included and
        the others are evenly spaced between them; each Metric names its run in ``run_id``.

        Example::

            points = client.get_metric_history_bulk_interval([run_a, run_b], "loss", 320)
            by_run = {run: [m for m in points if m.run_id == run] for run in (run_a, run_b)}
        """
        return self._store.get_metric_history_bulk_interval(
            list(run_ids), key, max_results, start_step=start_step, end_step=end_step
        )

    def flush_async(self, run_id: str | None = None) -> None:
        """Write values queued with ``synchronous=False`` (of one run, or all) and raise failures.

        Example::

            client.log_metric(run_id, "loss", 0.1, synchronous=False)
            client.flush_async(run_id)
        """
        logger = logger_for(self._store)
        logger.flush(run_id)


MlflowClient = Client
