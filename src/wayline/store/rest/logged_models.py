"""The logged-model part of ``RestStore`` (spec rest-tracking.md §6), one request per method.

A mixin so that the store module keeps to runs and experiments; it only needs ``_call``.
"""

from __future__ import annotations

from collections.abc import Sequence
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
from wayline.errors import WaylineError
from wayline.protocol import JsonDict, decode_logged_model, decode_page
from wayline.store.tracking import LOGGED_MODELS_MAX_RESULTS_DEFAULT


def _model(body: JsonDict, rpc: str) -> LoggedModel:
    if body.get("model") is None:
        raise WaylineError(f"The server answered {rpc} without a model: {body!r}")
    return decode_logged_model(body["model"])


class LoggedModelsRest:
    def _call(self, rpc: str, /, **values: Any) -> JsonDict:
        raise NotImplementedError  # RestStore sends the request

    def create_logged_model(
        self,
        experiment_id: str,
        name: str | None = None,
        source_run_id: str | None = None,
        tags: Sequence[LoggedModelTag] = (),
        params: Sequence[Param] = (),
        model_type: str | None = None,
    ) -> LoggedModel:
        body = self._call(
            "CreateLoggedModel",
            experiment_id=experiment_id,
            name=name or None,
            source_run_id=source_run_id or None,
            tags=list(tags),
            params=list(params),
            model_type=model_type,
        )
        return _model(body, "CreateLoggedModel")

    def get_logged_model(self, model_id: str) -> LoggedModel:
        return _model(self._call("GetLoggedModel", model_id=model_id), "GetLoggedModel")

    def finalize_logged_model(self, model_id: str, status: LoggedModelStatus) -> LoggedModel:
        body = self._call("FinalizeLoggedModel", model_id=model_id, status=status)
        return _model(body, "FinalizeLoggedModel")

    def delete_logged_model(self, model_id: str) -> None:
        self._call("DeleteLoggedModel", model_id=model_id)

    def search_logged_models(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        datasets: Sequence[LoggedModelDataset] | None = None,
        max_results: int = LOGGED_MODELS_MAX_RESULTS_DEFAULT,
        order_by: Sequence[LoggedModelOrderBy] | None = None,
        page_token: str | None = None,
    ) -> PagedList[LoggedModel]:
        if isinstance(experiment_ids, str):
            experiment_ids = [experiment_ids]
        body = self._call(
            "SearchLoggedModels",
            experiment_ids=list(experiment_ids),
            filter=filter_string or None,
            datasets=list(datasets) if datasets else None,
            max_results=max_results,
            order_by=list(order_by) if order_by else None,
            page_token=page_token or None,
        )
        return decode_page(body, "models", decode_logged_model)

    def set_logged_model_tags(self, model_id: str, tags: Sequence[LoggedModelTag]) -> None:
        self._call("SetLoggedModelTags", model_id=model_id, tags=list(tags))

    def delete_logged_model_tag(self, model_id: str, key: str) -> None:
        self._call("DeleteLoggedModelTag", model_id=model_id, tag_key=key)

    def log_logged_model_params(self, model_id: str, params: Sequence[Param]) -> None:
        self._call("LogLoggedModelParams", model_id=model_id, params=list(params))

    def log_outputs(self, run_id: str, models: Sequence[ModelOutput]) -> None:
        self._call("LogOutputs", run_id=run_id, models=list(models))


__all__ = ["LoggedModelsRest"]
