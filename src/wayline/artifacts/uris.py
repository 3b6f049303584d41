"""Artifact URIs a user may hand us, turned into a storage URI and a path under it.

=====================================  ==================================================
URI                                    where its bytes are
=====================================  ==================================================
``runs:/<run_id>[/<path>]``            under the run's ``artifact_uri`` (from the store)
``models:/m-<model_id>[/<path>]``      under the logged model's ``artifact_location``
``models:/<name>/<version>[/<path>]``  the registered version's download URI, resolved
``models:/<name>/<stage>``             the highest version in that stage
``models:/<name>/latest``              the highest version of the model
``models:/<name>@<alias>[/<path>]``    the version the alias points at
anything else                          the URI itself (local path, file://, s3://,
                                       mlflow-artifacts:/, an http(s) proxy URL)
=====================================  ==================================================

``resolve_artifact_uri`` answers as MLflow splits an artifact URI: the URI of the directory
holding the artifact, and the artifact's last segment. A file downloaded from
``runs:/<id>/plots/loss.png`` therefore lands at ``<dst>/loss.png``, and a listing of
``s3://bucket/run/artifacts`` names ``artifacts/...``, as with MLflow. The store is asked only
for ``runs:/`` and ``models:/`` URIs, through a ``Client`` of the given tracking URI (whose
registry methods refuse prompts), or through any ``ModelSource`` (the server hands its store).

A registered version's download URI is the logged model's location for versions made from one,
else the version's ``source`` as registered: a storage URI, or itself a ``runs:/`` or
``models:/`` URI (``copy_model_version`` registers ``models:/<name>/<version>``), resolved in
turn. A ``runs:/<run_id>/<name>`` there means the run's MLflow 3 logged model ``<name>`` when the
run has one, as MLflow's runs repository reads it, else the run's own artifacts.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from wayline.artifacts.paths import join_relative, safe_relative_path
from wayline.errors import InvalidParameter, NotFound

if TYPE_CHECKING:
    from wayline.entities import LoggedModel, PagedList, Run
    from wayline.entities.registry import ModelVersion
    from wayline.tracking.client import Client

# MLflow's and our logged-model ids: "m-" and a uuid4 in hex.
_MODEL_ID = re.compile(r"m-[0-9a-f]{32}")
_VERSION = re.compile(r"[0-9]+")
_RUNS_FORM = "runs:/<run_id>/<path>"
_LATEST = "latest"
# A version's source may itself be a models:/ URI (a copied version); a chain this long is a
# cycle, not a history of copies.
_MAX_HOPS = 16


class RegistrySource(Protocol):
    """What naming a registered version asks of: a ``Client`` or a registry store."""

    def get_latest_versions(
        self, name: str, stages: Sequence[str] | None = None
    ) -> list[ModelVersion]: ...

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion: ...

    def get_model_version_download_uri(self, name: str, version: str | int) -> str: ...


class ModelSource(RegistrySource, Protocol):
    """What resolving ``runs:/`` and ``models:/`` URIs asks of: a ``Client`` or a store."""

    def get_run(self, run_id: str) -> Run: ...

    def get_logged_model(self, model_id: str) -> LoggedModel: ...

    def search_logged_models(
        self, experiment_ids: Sequence[str], filter_string: str | None = None
    ) -> PagedList[LoggedModel]: ...


@dataclass(frozen=True, slots=True)
class ModelUri:
    """A parsed ``models:/`` URI: a logged model (``model_id``), or a registered model
    ``name`` with one of ``version``, ``stage`` or ``alias`` (none of them: its latest
    version); ``path`` is the artifact path under the model ("" for all of it)."""

    model_id: str | None = None
    name: str | None = None
    version: str | None = None
    stage: str | None = None
    alias: str | None = None
    path: str = ""


def _client(tracking_uri: str | None) -> Client:
    from wayline.tracking.client import Client  # the store stack loads only for runs:/models:/

    return Client(tracking_uri)


def uri_scheme(uri: str) -> str:
    """The lower-cased scheme of ``uri``; "" for a plain path (a Windows drive letter too)."""
    scheme = urlsplit(uri).scheme.lower()
    return scheme if len(scheme) > 1 else ""


def _after_scheme(uri: str, form: str) -> str:
    """What follows ``scheme:/``; the ``scheme://profile`` forms (Databricks) are refused."""
    body = uri.split(":", 1)[1]
    if not body.startswith("/") or body.startswith("//"):
        raise InvalidParameter(f"Not a proper URI: {uri!r}; expected {form}.")
    return body[1:]


def _improper_model_uri(uri: str) -> InvalidParameter:
    return InvalidParameter(
        f"Not a proper models:/ URI: {uri}. Models URIs must be of the form "
        "'models:/<name>/<suffix>' or 'models:/<name>@<alias>', where suffix is a version, a "
        "stage or the string 'latest' and alias is a registered model alias, or "
        "'models:/m-<model_id>' for a logged model; an artifact path may follow."
    )


def parse_model_uri(uri: str) -> ModelUri:
    """The parts of a ``models:/`` URI (InvalidParameter for anything else).

    Example::

        parse_model_uri("models:/churn@champion/MLmodel")
        # ModelUri(name="churn", alias="champion", path="MLmodel")
        parse_model_uri("models:/churn/production")  # ModelUri(name="churn", stage="Production")
    """
    from wayline.entities.registry import Stage

    if uri_scheme(uri) != "models":
        raise _improper_model_uri(uri)
    body = _after_scheme(uri, "models:/<name>/<version>").rstrip("/")
    first, _, rest = body.partition("/")
    if _MODEL_ID.fullmatch(first):
        return ModelUri(model_id=first, path=safe_relative_path(rest))
    if "@" in first:
        name, _, alias = first.rpartition("@")
        if not name.strip() or not alias.strip():
            raise _improper_model_uri(uri)
        return ModelUri(name=name, alias=alias, path=safe_relative_path(rest))
    suffix, _, path = rest.partition("/")
    if not first.strip() or not suffix.strip():
        raise _improper_model_uri(uri)
    relative = safe_relative_path(path)
    if _VERSION.fullmatch(suffix):
        return ModelUri(name=first, version=suffix, path=relative)
    if suffix.lower() == _LATEST:
        return ModelUri(name=first, path=relative)
    # Anything else must be a stage, in any case ("production"); Stage.parse names the four.
    return ModelUri(name=first, stage=Stage.parse(suffix).value, path=relative)


def registered_version(parsed: ModelUri, source: RegistrySource) -> str:
    """The version number a registered-model URI names: given, the alias's, or the highest
    in the stage (or of the model, for ``latest``).

    Example::

        registered_version(parse_model_uri("models:/churn/Production"), client)  # "3"
    """
    if parsed.name is None:
        raise InvalidParameter(f"models:/{parsed.model_id} names a logged model, not a version.")
    if parsed.version is not None:
        return parsed.version
    if parsed.alias is not None:
        return source.get_model_version_by_alias(parsed.name, parsed.alias).version
    stages = [parsed.stage] if parsed.stage else None
    latest = source.get_latest_versions(parsed.name, stages)
    if not latest:
        in_stage = f" and stage '{parsed.stage}'" if parsed.stage else ""
        raise NotFound(f"No versions of model with name '{parsed.name}'{in_stage} found")
    return str(max(int(v.version) for v in latest))


def _logged_model_of(source: ModelSource, run_id: str, name: str) -> LoggedModel | None:
    """The MLflow 3 logged model ``name`` that run ``run_id`` produced, if any."""
    experiment_id = source.get_run(run_id).info.experiment_id
    escaped = name.replace("'", "\\'")
    page = source.search_logged_models([experiment_id], filter_string=f"name = '{escaped}'")
    return next((m for m in page if m.source_run_id == run_id), None)


def _split_runs_uri(uri: str) -> tuple[str, str]:
    run_id, _, path = _after_scheme(uri, _RUNS_FORM).partition("/")
    if not run_id:
        raise InvalidParameter(f"Not a proper runs:/ URI: {uri!r}; expected {_RUNS_FORM}.")
    return run_id, safe_relative_path(path)


def run_location(uri: str, tracking_uri: str | None = None) -> tuple[str, str]:
    """``(the run's artifact root, path under it)`` for ``runs:/<run_id>[/<path>]``.

    Example::

        root, path = run_location("runs:/0a1b.../plots/loss.png")
        # (".../0a1b.../artifacts", "plots/loss.png")
    """
    run_id, relative = _split_runs_uri(uri)
    return _client(tracking_uri).get_run(run_id).info.artifact_uri, relative


def _source_location(uri: str, source: ModelSource, hops: int) -> tuple[str, str]:
    """Where a registered version's download URI points (see the module docstring)."""
    scheme = uri_scheme(uri)
    if scheme == "models":
        return model_uri_location(uri, source, hops + 1)
    if scheme == "runs":
        run_id, relative = _split_runs_uri(uri)
        name, _, rest = relative.partition("/")
        if name and (model := _logged_model_of(source, run_id, name)) is not None:
            return model.artifact_location, rest
        return source.get_run(run_id).info.artifact_uri, relative
    return uri, ""


def model_uri_location(uri: str, source: ModelSource, hops: int = 0) -> tuple[str, str]:
    """``(storage URI, path under it)`` of any ``models:/`` URI, asking ``source`` (a Client,
    or a store on the server) for the logged model or the registered version.

    Example::

        model_uri_location("models:/churn@champion/MLmodel", client)
        # ("mlflow-artifacts:/1/models/m-.../artifacts", "MLmodel")
    """
    if hops > _MAX_HOPS:
        raise InvalidParameter(
            f"{uri!r} leads through more than {_MAX_HOPS} registered versions whose sources "
            "are models:/ URIs: their sources form a cycle."
        )
    parsed = parse_model_uri(uri)
    if parsed.model_id is not None:
        return source.get_logged_model(parsed.model_id).artifact_location, parsed.path
    assert parsed.name is not None  # parse_model_uri gives a model id or a name
    version = registered_version(parsed, source)
    root, prefix = version_location(parsed.name, version, source, hops)
    return root, join_relative(prefix, parsed.path)


def version_location(
    name: str, version: str | int, source: ModelSource, hops: int = 0
) -> tuple[str, str]:
    """``(storage URI, path under it)`` of the files of version ``version`` of ``name``.

    Example::

        version_location("churn", 3, store)  # ("mlflow-artifacts:/1/models/m-.../artifacts", "")
    """
    download_uri = source.get_model_version_download_uri(name, version)
    return _source_location(download_uri, source, hops)


def model_location(uri: str, tracking_uri: str | None = None) -> tuple[str, str]:
    """``(storage URI, path under it)`` for a ``models:/`` URI: a logged model
    (``models:/m-<id>[/<path>]``) or a registered model's version, stage, latest version or
    alias, through the store of ``tracking_uri``.

    Example::

        root, path = model_location("models:/m-0123456789abcdef0123456789abcdef/MLmodel")
        root, path = model_location("models:/churn@champion")  # the champion's files, ""
    """
    return model_uri_location(uri, _client(tracking_uri))


def logged_model_of_run(uri: str, tracking_uri: str | None = None) -> str | None:
    """``models:/<model_id>`` of the logged model that ``runs:/<run_id>/<name>`` names, if any.

    MLflow 3 keeps a run's logged model under the model's own location, not the run's: such a
    URI then means the logged model named ``<name>`` whose source is the run (spec §5).

    Example::

        logged_model_of_run("runs:/0a1b.../model")  # "models:/m-..." or None
    """
    run_id, _, name = _after_scheme(uri, _RUNS_FORM).partition("/")
    if not run_id or not name or "/" in name:
        return None
    model = _logged_model_of(_client(tracking_uri), run_id, name)
    return f"models:/{model.model_id}" if model is not None else None


def storage_location(uri: str, tracking_uri: str | None = None) -> tuple[str, str]:
    """``(storage URI, path under it)``: runs:/ and models:/ resolved through the store, any
    other URI as it is with the path ``""``.

    Example::

        storage_location("runs:/0a1b.../model")   # ("mlflow-artifacts:/1/0a1b.../artifacts",
                                                  #  "model")
        storage_location("s3://bucket/run/file")  # ("s3://bucket/run/file", "")
    """
    scheme = uri_scheme(uri)
    if scheme == "runs":
        return run_location(uri, tracking_uri)
    if scheme == "models":
        return model_location(uri, tracking_uri)
    return uri, ""


def child_uri(root: str, relative: str) -> str:
    """The URI of ``relative`` (a safe relative path) under the storage URI ``root``."""
    if not relative:
        return root
    # file: URIs are percent-encoded (the local repository decodes them); the other schemes
    # take the path as written.
    segment = quote(relative) if uri_scheme(root) == "file" else relative
    return f"{root.rstrip('/')}/{segment}"


def _split_plain(uri: str) -> tuple[str, str]:
    """A storage URI cut before its last segment, as MLflow does (``s3://b/x/y`` -> ``s3://b/x``,
    ``y``); a bucket or host with no path is its own root."""
    scheme = uri_scheme(uri)
    if not scheme:
        return os.path.split(uri.rstrip("/\\") or uri)
    parts = urlsplit(uri)
    head, _, tail = parts.path.rstrip("/").rpartition("/")
    if not tail:
        return uri, ""
    parent = urlunsplit((parts.scheme, parts.netloc, head or "/", parts.query, parts.fragment))
    return parent, unquote(tail) if scheme == "file" else tail


def resolve_artifact_uri(uri: str, tracking_uri: str | None = None) -> tuple[str, str]:
    """``(URI of the directory holding the artifact, the artifact's name)``, as MLflow splits
    artifact URIs; the name is ``""`` for a bare ``runs:/<run_id>``, ``models:/m-<id>`` or
    registered-model URI (the whole artifact root).

    Example::

        resolve_artifact_uri("runs:/0a1b.../plots/loss.png")
        # ("/home/me/wayline-artifacts/0/0a1b.../artifacts/plots", "loss.png")
        resolve_artifact_uri("s3://bucket/run/artifacts")  # ("s3://bucket/run", "artifacts")
    """
    if not isinstance(uri, str) or not uri:
        raise InvalidParameter(f"Invalid artifact URI {uri!r}.")
    root, path = storage_location(uri, tracking_uri)
    if uri_scheme(uri) not in ("runs", "models"):
        return _split_plain(root)
    parent, _, name = path.rpartition("/")
    return child_uri(root, parent), name


__all__ = [
    "ModelSource",
    "ModelUri",
    "RegistrySource",
    "child_uri",
    "logged_model_of_run",
    "model_location",
    "model_uri_location",
    "parse_model_uri",
    "registered_version",
    "resolve_artifact_uri",
    "run_location",
    "storage_location",
    "uri_scheme",
    "version_location",
]
