"""Handlers of the logged-model RPCs (spec rest-tracking.md §6), merged into ``HANDLERS``.

Same shape as every tracking handler: decoded request fields in (path parameters such as
``model_id`` and ``tag_key`` already among them), a JSON-ready dict out.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from wayline.protocol import JsonDict, encode_logged_model, encode_page
from wayline.store.tracking import LOGGED_MODELS_MAX_RESULTS_DEFAULT, TrackingStore

Values = Mapping[str, Any]


def create_logged_model(store: TrackingStore, v: Values) -> JsonDict:
    model = store.create_logged_model(
        v["experiment_id"],
        name=v.get("name") or None,
        source_run_id=v.get("source_run_id") or None,
        tags=v.get("tags", ()),
        params=v.get("params", ()),
        model_type=v.get("model_type") or None,
    )
    return {"model": encode_logged_model(model)}


def get_logged_model(store: TrackingStore, v: Values) -> JsonDict:
    return {"model": encode_logged_model(store.get_logged_model(v["model_id"]))}


def finalize_logged_model(store: TrackingStore, v: Values) -> JsonDict:
    model = store.finalize_logged_model(v["model_id"], v["status"])
    return {"model": encode_logged_model(model)}


def delete_logged_model(store: TrackingStore, v: Values) -> JsonDict:
    store.delete_logged_model(v["model_id"])
    return {}


def search_logged_models(store: TrackingStore, v: Values) -> JsonDict:
    # No match answers {}: MLflow's client issues this search even for plain artifact downloads.
    page = store.search_logged_models(
        v.get("experiment_ids", []),
        filter_string=v.get("filter") or None,
        datasets=v.get("datasets") or None,
        max_results=v.get("max_results", LOGGED_MODELS_MAX_RESULTS_DEFAULT),
        order_by=v.get("order_by") or None,
        page_token=v.get("page_token") or None,
    )
    return encode_page("models", page, encode_logged_model)


def set_logged_model_tags(store: TrackingStore, v: Values) -> JsonDict:
    store.set_logged_model_tags(v["model_id"], v.get("tags", ()))
    return {}


def delete_logged_model_tag(store: TrackingStore, v: Values) -> JsonDict:
    store.delete_logged_model_tag(v["model_id"], v["tag_key"])
    return {}


def log_logged_model_params(store: TrackingStore, v: Values) -> JsonDict:
    store.log_logged_model_params(v["model_id"], v.get("params", ()))
    return {}


LOGGED_MODEL_HANDLERS: dict[str, Callable[[TrackingStore, Values], JsonDict]] = {
    "CreateLoggedModel": create_logged_model,
    "GetLoggedModel": get_logged_model,
    "FinalizeLoggedModel": finalize_logged_model,
    "DeleteLoggedModel": delete_logged_model,
    "SearchLoggedModels": search_logged_models,
    "SetLoggedModelTags": set_logged_model_tags,
    "DeleteLoggedModelTag": delete_logged_model_tag,
    "LogLoggedModelParams": log_logged_model_params,
}

__all__ = ["LOGGED_MODEL_HANDLERS"]
