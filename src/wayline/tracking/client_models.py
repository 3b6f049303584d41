"""The logged-model part of ``Client`` (MLflow 3's MlflowClient logged-model methods).

A mixin so that ``client.py`` keeps to experiments, runs and values. Arguments are the friendly
ones MLflow takes (dicts of tags and params, dicts for datasets and order_by entries); they are
turned into entities here and everything else is the store's job.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from wayline.entities import (
    LoggedModel,
    LoggedModelDataset,
    LoggedModelOrderBy,
    LoggedModelStatus,
    LoggedModelTag,
    ModelOutput,
    PagedList,
    Param,
)
from wayline.errors import InvalidParameter
from wayline.store.tracking import LOGGED_MODELS_MAX_RESULTS_DEFAULT, TrackingStore
from wayline.tracking.values import param_value, tag_value

DatasetArg = LoggedModelDataset | Mapping[str, Any]
OrderArg = LoggedModelOrderBy | Mapping[str, Any]


def model_tags(tags: Mapping[str, Any] | None) -> list[LoggedModelTag]:
    return [LoggedModelTag(str(k), tag_value(v)) for k, v in (tags or {}).items()]


def model_params(params: Mapping[str, Any] | None) -> list[Param]:
    return [Param(str(k), param_value(v)) for k, v in (params or {}).items()]


def _dataset(item: DatasetArg) -> LoggedModelDataset:
    if isinstance(item, LoggedModelDataset):
        return item
    if not isinstance(item, Mapping) or not item.get("dataset_name"):
        raise InvalidParameter(
            f"Invalid dataset {item!r}: expected {{'dataset_name': ..., 'dataset_digest': ...}}."
        )
    return LoggedModelDataset(str(item["dataset_name"]), item.get("dataset_digest") or None)


def _order(item: OrderArg) -> LoggedModelOrderBy:
    if isinstance(item, LoggedModelOrderBy):
        return item
    if not isinstance(item, Mapping) or not item.get("field_name"):
        raise InvalidParameter(
            f"Invalid order_by entry {item!r}: expected {{'field_name': ..., 'ascending': ...}}."
        )
    return LoggedModelOrderBy(
        str(item["field_name"]),
        bool(item.get("ascending", True)),
        item.get("dataset_name") or None,
        item.get("dataset_digest") or None,
    )


def search_arguments(
    datasets: Sequence[DatasetArg] | None, order_by: Sequence[OrderArg] | None
) -> tuple[list[LoggedModelDataset], list[LoggedModelOrderBy]]:
    """Datasets and order_by entries as entities (dicts are accepted, as MLflow takes them)."""
    return [_dataset(d) for d in datasets or ()], [_order(o) for o in order_by or ()]


class LoggedModelsClient:
    _store: TrackingStore

    def create_logged_model(
        self,
        experiment_id: str,
        name: str | None = None,
        source_run_id: str | None = None,
        tags: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
        model_type: str | None = None,
    ) -> LoggedModel:
        """Create a logged model (status PENDING) in an experiment.

        Example::

            model = client.create_logged_model(exp_id, name="classifier", params={"depth": 3})
            print(model.model_id, model.artifact_location)
        """
        return self._store.create_logged_model(
            str(experiment_id),
            name=name,
            source_run_id=source_run_id,
            tags=model_tags(tags),
            params=model_params(params),
            model_type=model_type,
        )

    def get_logged_model(self, model_id: str) -> LoggedModel:
        """The logged model with its tags, params and metrics (NotFound if none).

        Example::

            model = client.get_logged_model("m-0123456789abcdef0123456789abcdef")
        """
        return self._store.get_logged_model(model_id)

    def finalize_logged_model(
        self, model_id: str, status: LoggedModelStatus | str | int
    ) -> LoggedModel:
        """Mark a logged model READY (or FAILED) once its artifacts are uploaded.

        Example::

            client.finalize_logged_model(model.model_id, "READY")
        """
        return self._store.finalize_logged_model(model_id, LoggedModelStatus.from_string(status))

    def delete_logged_model(self, model_id: str) -> None:
        """Delete a logged model (it can no longer be read or found).

        Example::

            client.delete_logged_model(model.model_id)
        """
        self._store.delete_logged_model(model_id)

    def search_logged_models(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        datasets: Sequence[DatasetArg] | None = None,
        max_results: int | None = None,
        order_by: Sequence[OrderArg] | None = None,
        page_token: str | None = None,
    ) -> PagedList[LoggedModel]:
        """One page of logged models matching a filter; ``token`` of the result pages on.

        ``datasets`` (``[{"dataset_name": ..., "dataset_digest": ...}]``) restrict the metric
        clauses of the filter; ``order_by`` entries are dicts with ``field_name``,
        ``ascending`` and optionally a dataset.

        Example::

            page = client.search_logged_models(
                [exp_id],
                filter_string="metrics.accuracy > 0.9 AND params.depth = '3'",
                order_by=[{"field_name": "metrics.accuracy", "ascending": False}],
            )
        """
        if isinstance(experiment_ids, str):
            experiment_ids = [experiment_ids]
        dataset_list, order_list = search_arguments(datasets, order_by)
        return self._store.search_logged_models(
            [str(e) for e in experiment_ids],
            filter_string=filter_string,
            datasets=dataset_list,
            max_results=max_results or LOGGED_MODELS_MAX_RESULTS_DEFAULT,
            order_by=order_list,
            page_token=page_token,
        )

    def set_logged_model_tags(self, model_id: str, tags: Mapping[str, Any]) -> None:
        """Set (or replace) tags on a logged model.

        Example::

            client.set_logged_model_tags(model.model_id, {"stage": "candidate"})
        """
        self._store.set_logged_model_tags(model_id, model_tags(tags))

    def delete_logged_model_tag(self, model_id: str, key: str) -> None:
        """Remove a tag from a logged model.

        Example::

            client.delete_logged_model_tag(model.model_id, "stage")
        """
        self._store.delete_logged_model_tag(model_id, key)

    def log_model_params(self, model_id: str, params: Mapping[str, Any]) -> None:
        """Record params on a logged model (immutable once set, as run params).

        Example::

            client.log_model_params(model.model_id, {"depth": 3, "loss": "log"})
        """
        self._store.log_logged_model_params(model_id, model_params(params))

    def log_outputs(self, run_id: str, models: Sequence[ModelOutput]) -> None:
        """Record logged models a run produced.

        Example::

            from wayline.entities import LoggedModelOutput
            client.log_outputs(run_id, [LoggedModelOutput(model.model_id, step=0)])
        """
        self._store.log_outputs(run_id, list(models))


__all__ = ["LoggedModelsClient", "model_params", "model_tags", "search_arguments"]
