"""``RestStore``: the store (tracking, model registry and traces) over HTTP, against a Wayline
or MLflow tracking server.

Every method is one request built from the protocol's route table and answered through the
protocol's decoders, so the JSON this store sends is exactly what the server's routes read.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import httpx

from wayline.entities import (
    DatasetInput,
    DatasetSummary,
    Experiment,
    ExperimentTag,
    Metric,
    ModelInput,
    PagedList,
    Param,
    Run,
    RunInfo,
    RunTag,
    ViewType,
)
from wayline.errors import NotFound, WaylineError
from wayline.protocol import (
    JsonDict,
    decode_dataset_summary,
    decode_experiment,
    decode_metric,
    decode_page,
    decode_run,
    decode_run_info,
    route,
)
from wayline.store.backend import Store
from wayline.store.rest.client import RestClient, RestSettings
from wayline.store.rest.logged_models import LoggedModelsRest
from wayline.store.rest.registry import RegistryRest
from wayline.store.rest.traces import TracesRest
from wayline.store.tracking import BULK_INTERVAL_MAX_RESULTS, SEARCH_MAX_RESULTS_DEFAULT
from wayline.validation import validate_experiment_name

# Page size used to walk a whole metric history, as MLflow's client does.
METRIC_HISTORY_PAGE = 25000


class RestStore(LoggedModelsRest, RegistryRest, TracesRest, Store):
    """Store that forwards every call to a tracking server at ``base_url``.

    Every request names the acting user (``X-Wayline-User``, from ``current_user()``), which a
    Wayline server records in the registry's audit trail.

    Example::

        store = RestStore("http://127.0.0.1:5000")
        run = store.create_run(store.create_experiment("demo"))
        store.log_metric(run.info.run_id, Metric("loss", 0.5, timestamp=0, step=1))
        store.close()
    """

    def __init__(
        self,
        base_url: str,
        settings: RestSettings | None = None,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = base_url
        self._client = RestClient(base_url, settings, transport=transport, sleep=sleep)

    @property
    def settings(self) -> RestSettings:
        return self._client.settings

    def close(self) -> None:
        self._client.close()

    def _call(self, rpc: str, /, **values: Any) -> JsonDict:
        return self._client.call(route(rpc), values)

    # ---------------------------------------------------------------- experiments
    def create_experiment(
        self,
        name: str,
        artifact_location: str | None = None,
        tags: Sequence[ExperimentTag] = (),
    ) -> str:
        body = self._call(
            "CreateExperiment", name=name, artifact_location=artifact_location, tags=list(tags)
        )
        experiment_id = body.get("experiment_id")
        if experiment_id is None:
            raise WaylineError(f"The server answered CreateExperiment without an id: {body!r}")
        return str(experiment_id)

    def get_experiment(self, experiment_id: str) -> Experiment:
        body = self._call("GetExperiment", experiment_id=experiment_id)
        return decode_experiment(body.get("experiment"))

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        try:
            body = self._call("GetExperimentByName", experiment_name=name)
        except NotFound:
            return None
        return decode_experiment(body.get("experiment"))

    def search_experiments(
        self,
        view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = SEARCH_MAX_RESULTS_DEFAULT,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Experiment]:
        body = self._call(
            "SearchExperiments",
            view_type=view_type,
            max_results=max_results,
            filter=filter_string or None,
            order_by=list(order_by) if order_by else None,
            page_token=page_token or None,
        )
        return decode_page(body, "experiments", decode_experiment)

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        # Checked here because the wire cannot say it: servers read an empty new_name as "no
        # rename" (MLflow's does), so renaming to "" would quietly succeed.
        validate_experiment_name(new_name)
        self._call("UpdateExperiment", experiment_id=experiment_id, new_name=new_name)

    def delete_experiment(self, experiment_id: str) -> None:
        self._call("DeleteExperiment", experiment_id=experiment_id)

    def restore_experiment(self, experiment_id: str) -> None:
        self._call("RestoreExperiment", experiment_id=experiment_id)

    def set_experiment_tag(self, experiment_id: str, tag: ExperimentTag) -> None:
        self._call("SetExperimentTag", experiment_id=experiment_id, key=tag.key, value=tag.value)

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        self._call("DeleteExperimentTag", experiment_id=experiment_id, key=key)

    # ---------------------------------------------------------------- runs
    def create_run(
        self,
        experiment_id: str,
        user_id: str | None = None,
        start_time: int | None = None,
        tags: Sequence[RunTag] = (),
        run_name: str | None = None,
    ) -> Run:
        # MLflow's server stores an absent start_time as 0, so the client stamps it, as SqlStore.
        body = self._call(
            "CreateRun",
            experiment_id=experiment_id,
            user_id=user_id,
            start_time=int(time.time() * 1000) if start_time is None else start_time,
            tags=list(tags),
            run_name=run_name,
        )
        return decode_run(body.get("run"))

    def get_run(self, run_id: str) -> Run:
        return decode_run(self._call("GetRun", run_id=run_id).get("run"))

    def update_run_info(
        self,
        run_id: str,
        run_status: str | None = None,
        end_time: int | None = None,
        run_name: str | None = None,
    ) -> RunInfo:
        body = self._call(
            "UpdateRun", run_id=run_id, status=run_status, end_time=end_time, run_name=run_name
        )
        return decode_run_info(body.get("run_info"))

    def delete_run(self, run_id: str) -> None:
        self._call("DeleteRun", run_id=run_id)

    def restore_run(self, run_id: str) -> None:
        self._call("RestoreRun", run_id=run_id)

    def record_logged_model(self, run_id: str, model: Mapping[str, Any]) -> None:
        self._call("LogModel", run_id=run_id, model_json=json.dumps(dict(model)))

    def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        run_view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = SEARCH_MAX_RESULTS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Run]:
        body = self._call(
            "SearchRuns",
            experiment_ids=list(experiment_ids),
            filter=filter_string or None,
            run_view_type=run_view_type,
            max_results=max_results,
            order_by=list(order_by) if order_by else None,
            page_token=page_token or None,
        )
        return decode_page(body, "runs", decode_run)

    # ---------------------------------------------------------------- values
    def log_metric(self, run_id: str, metric: Metric) -> None:
        self._call(
            "LogMetric",
            run_id=run_id,
            key=metric.key,
            value=metric.value,
            timestamp=metric.timestamp,
            step=metric.step,
            model_id=metric.model_id,
            dataset_name=metric.dataset_name,
            dataset_digest=metric.dataset_digest,
        )

    def log_param(self, run_id: str, param: Param) -> None:
        self._call("LogParam", run_id=run_id, key=param.key, value=param.value)

    def set_tag(self, run_id: str, tag: RunTag) -> None:
        self._call("SetTag", run_id=run_id, key=tag.key, value=tag.value)

    def delete_tag(self, run_id: str, key: str) -> None:
        self._call("DeleteTag", run_id=run_id, key=key)

    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
    ) -> None:
        self._call(
            "LogBatch", run_id=run_id, metrics=list(metrics), params=list(params), tags=list(tags)
        )

    def log_inputs(
        self,
        run_id: str,
        datasets: Sequence[DatasetInput] = (),
        models: Sequence[ModelInput] = (),
    ) -> None:
        self._call("LogInputs", run_id=run_id, datasets=list(datasets), models=list(models) or None)

    def search_datasets(self, experiment_ids: Sequence[str]) -> list[DatasetSummary]:
        body = self._call("SearchDatasets", experiment_ids=list(experiment_ids))
        return [decode_dataset_summary(item) for item in body.get("dataset_summaries", [])]

    def get_metric_history(
        self,
        run_id: str,
        metric_key: str,
        max_results: int | None = None,
        page_token: str | None = None,
    ) -> PagedList[Metric]:
        if max_results is not None:
            return self._metric_page(run_id, metric_key, max_results, page_token)
        # No page size asked for: walk every page, in bounded responses, and return them all.
        points: list[Metric] = []
        token = page_token
        while True:
            page = self._metric_page(run_id, metric_key, METRIC_HISTORY_PAGE, token)
            points.extend(page)
            if not page.token:
                return PagedList(points)
            token = page.token

    def get_metric_history_bulk_interval(
        self,
        run_ids: Sequence[str],
        metric_key: str,
        max_results: int = BULK_INTERVAL_MAX_RESULTS,
        start_step: int | None = None,
        end_step: int | None = None,
    ) -> list[Metric]:
        body = self._call(
            "GetMetricHistoryBulkInterval",
            run_ids=list(run_ids),
            metric_key=metric_key,
            max_results=max_results,
            start_step=start_step,
            end_step=end_step,
        )
        return list(decode_page(body, "metrics", decode_metric))

    def _metric_page(
        self, run_id: str, metric_key: str, max_results: int, page_token: str | None
    ) -> PagedList[Metric]:
        body = self._call(
            "GetMetricHistory",
            run_id=run_id,
            metric_key=metric_key,
            max_results=max_results,
            page_token=page_token or None,
        )
        return decode_page(body, "metrics", decode_metric)


__all__ = ["METRIC_HISTORY_PAGE", "RestStore"]
