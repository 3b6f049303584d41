"""Fluent model-registry API: ``register_model``, ``search_registered_models``,
``search_model_versions`` (MLflow's ``mlflow.register_model`` and friends).

``register_model`` works out what a model URI registers, as MLflow 3 does: a
``runs:/<run>/<path>`` whose run holds an ``MLmodel`` there registers those run artifacts;
otherwise it means the run's logged model named ``<path>`` (MLflow 3 keeps a logged model's files
under the model, not the run) and registers ``models:/m-<id>`` with its ``model_id``. A
``models:/m-<id>`` URI registers that logged model; any other URI is registered as it is. The
logged model's ``mlflow.modelVersions`` tag lists the versions made from it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from wayline.entities import LoggedModel, PagedList
from wayline.entities.registry import ModelVersion, RegisteredModel
from wayline.errors import AlreadyExists, InvalidParameter, NotFound, WaylineError
from wayline.store.registry import SEARCH_REGISTERED_MODELS_MAX_RESULTS_DEFAULT
from wayline.tracking.client import Client
from wayline.tracking.client_registry import (
    AWAIT_CREATION_DEFAULT_S,
    SEARCH_MODEL_VERSIONS_CLIENT_MAX_RESULTS,
    eprint,
)
from wayline.tracking.fluent import client

_logger = logging.getLogger(__name__)
T = TypeVar("T")

MODEL_VERSIONS_TAG = "mlflow.modelVersions"
MLMODEL = "MLmodel"


def _run_has_model(c: Client, run_id: str, path: str) -> bool:
    """Whether the run's own artifacts hold an ``MLmodel`` directly under ``path``."""
    from wayline.artifacts import list_artifacts

    try:
        listing = list_artifacts(run_id=run_id, artifact_path=path, tracking_uri=c.tracking_uri)
    except (WaylineError, OSError):  # no such folder (an MLflow 3 run often has none)
        return False
    return any(info.path.rsplit("/", 1)[-1] == MLMODEL and not info.is_dir for info in listing)


def _logged_models_of_run(c: Client, run_id: str, name: str) -> list[LoggedModel]:
    experiment_id = c.get_run(run_id).info.experiment_id
    escaped = name.replace("'", "\\'")
    found: list[LoggedModel] = []
    token: str | None = None
    while True:
        page = c.search_logged_models([experiment_id], f"name = '{escaped}'", page_token=token)
        found += [m for m in page if m.source_run_id == run_id]
        token = page.token
        if not token:
            return found


def _from_run(c: Client, run_id: str, path: str) -> tuple[str, str | None]:
    """``(source, model_id)`` for ``runs:/<run_id>/<path>``."""
    from wayline.artifacts.uris import child_uri

    run = c.get_run(run_id)
    if path and _run_has_model(c, run_id, path):
        return child_uri(run.info.artifact_uri, path), None
    models = _logged_models_of_run(c, run_id, path) if path else []
    if not models:
        raise NotFound(
            f"Unable to find a logged_model with artifact_path {path} under run {run_id}"
        )
    if len(models) == 1:
        model_id = models[0].model_id
    else:  # the one logged at the largest step, as MLflow picks
        steps = {o.model_id: o.step for o in run.outputs.model_outputs}
        if not all(m.model_id in steps for m in models):
            raise InvalidParameter(
                f"Multiple logged models found for run {run_id}. Cannot determine which model "
                "to register. Please use `models:/<model_id>` instead."
            )
        model_id = max(models, key=lambda m: steps[m.model_id]).model_id
    _logger.warning(
        "Run with id %s has no artifacts at artifact path %r, registering model based on "
        "models:/%s instead",
        run_id,
        path,
        model_id,
    )
    return f"models:/{model_id}", model_id


def registration_source(c: Client, model_uri: str) -> tuple[str, str | None, str | None]:
    """``(source, run_id, model_id)`` to register for ``model_uri`` (see the module docstring).

    Example::

        registration_source(client, f"runs:/{run_id}/model")  # ("models:/m-...", run_id, "m-...")
    """
    from wayline.artifacts.uris import parse_model_uri, uri_scheme

    scheme = uri_scheme(model_uri)
    if scheme == "runs":
        run_id, _, path = model_uri.split(":", 1)[1].lstrip("/").partition("/")
        if not run_id:
            raise InvalidParameter(f"Not a proper runs:/ URI: {model_uri!r}.")
        source, model_id = _from_run(c, run_id, path.strip("/"))
        return source, run_id, model_id
    if scheme == "models":
        parsed = parse_model_uri(model_uri)
        if parsed.model_id is not None:
            return model_uri, None, parsed.model_id
        if parsed.name is not None and parsed.version is not None:
            version = c.get_model_version(parsed.name, parsed.version)
            return model_uri, None, version.model_id or None
    return model_uri, None, None


def _link_version(c: Client, model_id: str, version: ModelVersion) -> None:
    """Record ``{name, version}`` in the logged model's ``mlflow.modelVersions`` tag, unless
    the store already did."""
    try:
        model = c.get_logged_model(model_id)
    except NotFound:
        _logger.warning(
            "Unable to update logged model tags for model ID '%s': the logged model does not "
            "exist. No model version link will be recorded on the logged model.",
            model_id,
        )
        return
    try:
        entries = json.loads(model.tags.get(MODEL_VERSIONS_TAG) or "[]")
    except json.JSONDecodeError:
        entries = []
    if not isinstance(entries, list):
        entries = []
    recorded = {(e.get("name"), str(e.get("version"))) for e in entries if isinstance(e, dict)}
    if (version.name, str(version.version)) in recorded:
        return
    entries.append({"name": version.name, "version": int(version.version)})
    c.set_logged_model_tags(model_id, {MODEL_VERSIONS_TAG: json.dumps(entries)})


def register_model(
    model_uri: str,
    name: str,
    await_registration_for: int = AWAIT_CREATION_DEFAULT_S,
    *,
    tags: Mapping[str, Any] | None = None,
) -> ModelVersion:
    """Register the model at ``model_uri`` as a new version of ``name`` (created if missing).

    ``model_uri`` is ``runs:/<run_id>/<path>`` (the run's artifacts, or its logged model of
    that name), ``models:/m-<model_id>``, ``models:/<name>/<version>`` or any artifact URI.

    Example::

        with wayline.start_run():
            info = wayline.sklearn.log_model(clf, name="model")
        mv = wayline.register_model(info.model_uri, "churn", tags={"data": "2024-05"})
        wayline.MlflowClient().set_registered_model_alias("churn", "champion", mv.version)
    """
    c = client()
    try:
        c.create_registered_model(name)
        eprint(f"Successfully registered model '{name}'.")
    except AlreadyExists:
        eprint(f"Registered model '{name}' already exists. Creating a new version of this model...")
    source, run_id, model_id = registration_source(c, model_uri)
    version = c.create_model_version(
        name,
        source,
        run_id=run_id,
        tags=tags,
        await_creation_for=await_registration_for,
        model_id=model_id,
    )
    eprint(f"Created version '{version.version}' of model '{version.name}'.")
    if model_id:
        _link_version(c, model_id, version)
    return version


def _all_pages(
    fetch: Callable[[int, str | None], PagedList[T]], page_size: int, max_results: int | None
) -> list[T]:
    """Every result of a paged search, up to ``max_results`` (None: all)."""
    found: list[T] = []
    token: str | None = None
    while max_results is None or len(found) < max_results:
        want = page_size if max_results is None else min(page_size, max_results - len(found))
        page = fetch(want, token)
        found.extend(page)
        token = page.token
        if not token:
            break
    return found if max_results is None else found[:max_results]


def search_registered_models(
    max_results: int | None = None,
    filter_string: str | None = None,
    order_by: Sequence[str] | None = None,
) -> list[RegisteredModel]:
    """Registered models matching a filter (every page, up to ``max_results``); prompts are
    left out.

    Example::

        for model in wayline.search_registered_models(filter_string="name LIKE 'churn%'"):
            print(model.name, model.aliases)
    """
    c = client()
    return _all_pages(
        lambda n, token: c.search_registered_models(filter_string, n, order_by, token),
        SEARCH_REGISTERED_MODELS_MAX_RESULTS_DEFAULT,
        max_results,
    )


def search_model_versions(
    max_results: int | None = None,
    filter_string: str | None = None,
    order_by: Sequence[str] | None = None,
) -> list[ModelVersion]:
    """Model versions matching a filter (every page, up to ``max_results``); prompt versions
    are left out.

    Example::

        versions = wayline.search_model_versions(
            filter_string="name = 'churn'", order_by=["version_number DESC"]
        )
    """
    c = client()
    return _all_pages(
        lambda n, token: c.search_model_versions(filter_string, n, order_by, token),
        SEARCH_MODEL_VERSIONS_CLIENT_MAX_RESULTS,
        max_results,
    )


__all__ = [
    "register_model",
    "registration_source",
    "search_model_versions",
    "search_registered_models",
]
