"""The model-registry and webhook RPCs (spec rest-registry.md §2, §4), mounted from the tables.

Same shape as the tracking handlers: decoded request fields in, a JSON-ready dict out, with
paths, methods and field kinds from ``REGISTRY_ROUTES``/``WEBHOOK_ROUTES`` and JSON shapes from
``protocol.registry``. Two things differ:

* MLflow's server reads an empty string in a required field as missing ("Missing value for
  required parameter 'name'"), so these routes do too; a tag's ``value`` may be empty.
* Every request names who acts, for the audit trail: ``acting_user`` is set from the HTTP Basic
  user name, else the ``X-Wayline-User`` header (which Wayline's REST store sends), else
  ``anonymous``. The store runs in the thread pool, which copies the request's context, so it
  sees the value set here.
"""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import unquote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Router

from wayline.entities.registry import ModelVersionTag, RegisteredModelTag, WebhookStatus
from wayline.errors import WaylineError
from wayline.protocol import (
    REGISTRY_ROUTES,
    WEBHOOK_ROUTES,
    JsonDict,
    Route,
    encode_model_version,
    encode_page,
    encode_registered_model,
    encode_registry_change,
    encode_webhook,
    encode_webhook_delivery,
    encode_webhook_test_result,
    missing_parameter,
    urls,
)
from wayline.server.tracking_routes import JsonResponse, read_values
from wayline.store.backend import Store
from wayline.store.registry import (
    HISTORY_MAX_RESULTS_DEFAULT,
    SEARCH_MODEL_VERSIONS_MAX_RESULTS_DEFAULT,
    SEARCH_REGISTERED_MODELS_MAX_RESULTS_DEFAULT,
    WEBHOOKS_MAX_RESULTS_DEFAULT,
    acting_user,
)

logger = logging.getLogger(__name__)

Values = Mapping[str, Any]
RegistryHandler = Callable[[Store, Values], JsonDict]

USER_HEADER = "X-Wayline-User"
ANONYMOUS = "anonymous"
# Longer names are cut: the audit trail stores a bounded string.
MAX_USER_LENGTH = 255


# ---------------------------------------------------------------- registered models
def _model(store: Store, name: str) -> JsonDict:
    return {"registered_model": encode_registered_model(store.get_registered_model(name))}


def create_registered_model(store: Store, v: Values) -> JsonDict:
    model = store.create_registered_model(
        v["name"], tags=v.get("tags", ()), description=v.get("description") or None
    )
    return {"registered_model": encode_registered_model(model)}


def get_registered_model(store: Store, v: Values) -> JsonDict:
    return _model(store, v["name"])


def rename_registered_model(store: Store, v: Values) -> JsonDict:
    if not v.get("new_name"):
        raise missing_parameter("new_name")  # as MLflow's server answers an empty one
    model = store.rename_registered_model(v["name"], v["new_name"])
    return {"registered_model": encode_registered_model(model)}


def update_registered_model(store: Store, v: Values) -> JsonDict:
    model = store.update_registered_model(v["name"], v.get("description"))
    return {"registered_model": encode_registered_model(model)}


def delete_registered_model(store: Store, v: Values) -> JsonDict:
    store.delete_registered_model(v["name"])
    return {}


def search_registered_models(store: Store, v: Values) -> JsonDict:
    page = store.search_registered_models(
        filter_string=v.get("filter") or None,
        max_results=v.get("max_results", SEARCH_REGISTERED_MODELS_MAX_RESULTS_DEFAULT),
        order_by=v.get("order_by") or None,
        page_token=v.get("page_token") or None,
    )
    return encode_page("registered_models", page, encode_registered_model)


def get_latest_versions(store: Store, v: Values) -> JsonDict:
    versions = store.get_latest_versions(v["name"], v.get("stages") or None)
    return encode_page("model_versions", versions, encode_model_version)


def set_registered_model_tag(store: Store, v: Values) -> JsonDict:
    store.set_registered_model_tag(v["name"], RegisteredModelTag(v["key"], v["value"]))
    return {}


def delete_registered_model_tag(store: Store, v: Values) -> JsonDict:
    store.delete_registered_model_tag(v["name"], v["key"])
    return {}


def set_registered_model_alias(store: Store, v: Values) -> JsonDict:
    store.set_registered_model_alias(v["name"], v["alias"], v["version"])
    return {}


def delete_registered_model_alias(store: Store, v: Values) -> JsonDict:
    store.delete_registered_model_alias(v["name"], v["alias"])
    return {}


def get_model_version_by_alias(store: Store, v: Values) -> JsonDict:
    version = store.get_model_version_by_alias(v["name"], v["alias"])
    return {"model_version": encode_model_version(version)}


def get_registry_history(store: Store, v: Values) -> JsonDict:
    page = store.get_registry_history(
        v["name"],
        max_results=v.get("max_results", HISTORY_MAX_RESULTS_DEFAULT),
        page_token=v.get("page_token") or None,
    )
    return encode_page("changes", page, encode_registry_change)


# ---------------------------------------------------------------- model versions
def create_model_version(store: Store, v: Values) -> JsonDict:
    version = store.create_model_version(
        v["name"],
        v["source"],
        run_id=v.get("run_id") or None,
        tags=v.get("tags", ()),
        run_link=v.get("run_link") or None,
        description=v.get("description") or None,
        model_id=v.get("model_id") or None,
    )
    return {"model_version": encode_model_version(version)}


def get_model_version(store: Store, v: Values) -> JsonDict:
    version = store.get_model_version(v["name"], v["version"])
    return {"model_version": encode_model_version(version)}


def update_model_version(store: Store, v: Values) -> JsonDict:
    version = store.update_model_version(v["name"], v["version"], v.get("description"))
    return {"model_version": encode_model_version(version)}


def transition_model_version_stage(store: Store, v: Values) -> JsonDict:
    version = store.transition_model_version_stage(
        v["name"], v["version"], v["stage"], v["archive_existing_versions"]
    )
    return {"model_version": encode_model_version(version)}


def delete_model_version(store: Store, v: Values) -> JsonDict:
    store.delete_model_version(v["name"], v["version"])
    return {}


def search_model_versions(store: Store, v: Values) -> JsonDict:
    page = store.search_model_versions(
        filter_string=v.get("filter") or None,
        max_results=v.get("max_results", SEARCH_MODEL_VERSIONS_MAX_RESULTS_DEFAULT),
        order_by=v.get("order_by") or None,
        page_token=v.get("page_token") or None,
    )
    return encode_page("model_versions", page, encode_model_version)


def get_model_version_download_uri(store: Store, v: Values) -> JsonDict:
    return {"artifact_uri": store.get_model_version_download_uri(v["name"], v["version"])}


def set_model_version_tag(store: Store, v: Values) -> JsonDict:
    tag = ModelVersionTag(v["key"], v["value"])
    store.set_model_version_tag(v["name"], v["version"], tag)
    return {}


def delete_model_version_tag(store: Store, v: Values) -> JsonDict:
    store.delete_model_version_tag(v["name"], v["version"], v["key"])
    return {}


# ---------------------------------------------------------------- webhooks
def create_webhook(store: Store, v: Values) -> JsonDict:
    webhook = store.create_webhook(
        v["name"],
        v["url"],
        v["events"],
        description=v.get("description") or None,
        secret=v.get("secret") or None,
        status=v.get("status", WebhookStatus.ACTIVE),
    )
    return {"webhook": encode_webhook(webhook)}


def list_webhooks(store: Store, v: Values) -> JsonDict:
    page = store.list_webhooks(
        max_results=v.get("max_results", WEBHOOKS_MAX_RESULTS_DEFAULT),
        page_token=v.get("page_token") or None,
    )
    return encode_page("webhooks", page, encode_webhook)


def get_webhook(store: Store, v: Values) -> JsonDict:
    return {"webhook": encode_webhook(store.get_webhook(v["webhook_id"]))}


def update_webhook(store: Store, v: Values) -> JsonDict:
    # As MLflow's server: an empty name, URL or event list means "unchanged"; an empty
    # description or secret clears it.
    webhook = store.update_webhook(
        v["webhook_id"],
        name=v.get("name") or None,
        description=v.get("description"),
        url=v.get("url") or None,
        events=v.get("events") or None,
        secret=v.get("secret"),
        status=v.get("status"),
    )
    return {"webhook": encode_webhook(webhook)}


def delete_webhook(store: Store, v: Values) -> JsonDict:
    store.delete_webhook(v["webhook_id"])
    return {}


def run_webhook_test(store: Store, v: Values) -> JsonDict:
    result = store.test_webhook(v["webhook_id"], v.get("event"))
    return {"result": encode_webhook_test_result(result)}


def list_webhook_deliveries(store: Store, v: Values) -> JsonDict:
    page = store.list_webhook_deliveries(
        v["webhook_id"],
        max_results=v.get("max_results", WEBHOOKS_MAX_RESULTS_DEFAULT),
        page_token=v.get("page_token") or None,
    )
    return encode_page("deliveries", page, encode_webhook_delivery)


REGISTRY_HANDLERS: dict[str, RegistryHandler] = {
    "CreateRegisteredModel": create_registered_model,
    "GetRegisteredModel": get_registered_model,
    "RenameRegisteredModel": rename_registered_model,
    "UpdateRegisteredModel": update_registered_model,
    "DeleteRegisteredModel": delete_registered_model,
    "SearchRegisteredModels": search_registered_models,
    "GetLatestVersions": get_latest_versions,
    "SetRegisteredModelTag": set_registered_model_tag,
    "DeleteRegisteredModelTag": delete_registered_model_tag,
    "SetRegisteredModelAlias": set_registered_model_alias,
    "DeleteRegisteredModelAlias": delete_registered_model_alias,
    "GetModelVersionByAlias": get_model_version_by_alias,
    "CreateModelVersion": create_model_version,
    "GetModelVersion": get_model_version,
    "UpdateModelVersion": update_model_version,
    "TransitionModelVersionStage": transition_model_version_stage,
    "DeleteModelVersion": delete_model_version,
    "SearchModelVersions": search_model_versions,
    "GetModelVersionDownloadUri": get_model_version_download_uri,
    "SetModelVersionTag": set_model_version_tag,
    "DeleteModelVersionTag": delete_model_version_tag,
    "GetRegistryHistory": get_registry_history,
    "CreateWebhook": create_webhook,
    "ListWebhooks": list_webhooks,
    "GetWebhook": get_webhook,
    "UpdateWebhook": update_webhook,
    "DeleteWebhook": delete_webhook,
    "TestWebhook": run_webhook_test,
    "ListWebhookDeliveries": list_webhook_deliveries,
}


# ---------------------------------------------------------------- wiring
def request_user(request: Request) -> str:
    """Who the request acts as: the Basic-auth user, else ``X-Wayline-User``, else anonymous.

    The header is percent-decoded: Wayline's client encodes names that are not ASCII.
    """
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "basic" and credentials.strip():
        try:
            decoded = base64.b64decode(credentials.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            decoded = ""
        user = decoded.partition(":")[0]
        if user:
            return user[:MAX_USER_LENGTH]
    header = unquote(request.headers.get(USER_HEADER, "")).strip()
    return header[:MAX_USER_LENGTH] if header else ANONYMOUS


def _check_required(route: Route, values: Values) -> None:
    for field in route.request:
        if field.required and field.name != "value" and values.get(field.name) in ("", []):
            raise missing_parameter(field.name)


def _call(handler: RegistryHandler, store: Store, values: Values) -> JsonDict:
    try:
        return handler(store, values)
    except WaylineError:
        raise
    except Exception:
        # Log the traceback here, answer with a generic message: internals never reach clients.
        logger.exception("unexpected error in a registry request")
        raise WaylineError("Internal server error.", "INTERNAL_ERROR") from None


def registry_endpoint(
    route: Route, handler: RegistryHandler, store: Store
) -> Callable[[Request], Awaitable[Response]]:
    """The ASGI endpoint of one route: fields read and checked, the store called in the thread
    pool with ``acting_user`` set for the request."""

    async def answer(request: Request) -> Response:
        values = await read_values(route, request)
        _check_required(route, values)
        token = acting_user.set(request_user(request))
        try:
            # run_in_threadpool copies this context, acting_user included, into the worker.
            body = await run_in_threadpool(_call, handler, store, values)
        finally:
            acting_user.reset(token)
        return JsonResponse(body)

    answer.__name__ = route.name
    return answer


def add_registry_routes(router: Router, store: Store) -> None:
    """Mount every route of ``REGISTRY_ROUTES`` and ``WEBHOOK_ROUTES`` at both prefixes."""
    for route in (*REGISTRY_ROUTES, *WEBHOOK_ROUTES):
        answer = registry_endpoint(route, REGISTRY_HANDLERS[route.name], store)
        for url in urls(route):
            router.add_route(url, answer, methods=list(route.methods))


__all__ = [
    "ANONYMOUS",
    "REGISTRY_HANDLERS",
    "USER_HEADER",
    "add_registry_routes",
    "registry_endpoint",
    "request_user",
]
