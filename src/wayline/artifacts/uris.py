"""Artifact URIs a user may hand us, turned into a storage URI and a path under it.

=====================================  ==================================================
URI                                    where its bytes are
=====================================  ==================================================
``runs:/<run_id>[/<path>]``            under the run's ``artifact_uri`` (from the store)
``models:/m-<model_id>[/<path>]``      under the logged model's ``artifact_location``
``models:/<name>/<version>``, ``@``    the model registry (not yet: InvalidParameter)
anything else                          the URI itself (local path, file://, s3://,
                                       mlflow-artifacts:/, an http(s) proxy URL)
=====================================  ==================================================

``resolve_artifact_uri`` answers as MLflow splits an artifact URI: the URI of the directory
holding the artifact, and the artifact's last segment. A file downloaded from
``runs:/<id>/plots/loss.png`` therefore lands at ``<dst>/loss.png``, and a listing of
``s3://bucket/run/artifacts`` names ``artifacts/...``, as with MLflow. The store is asked only
for ``runs:/`` and ``models:/`` URIs, through a ``Client`` of the given tracking URI.
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from wayline.artifacts.paths import safe_relative_path
from wayline.errors import InvalidParameter

if TYPE_CHECKING:
    from wayline.tracking.client import Client

# MLflow's and our logged-model ids: "m-" and a uuid4 in hex.
_MODEL_ID = re.compile(r"m-[0-9a-f]{32}")
_RUNS_FORM = "runs:/<run_id>/<path>"


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


def run_location(uri: str, tracking_uri: str | None = None) -> tuple[str, str]:
    """``(the run's artifact root, path under it)`` for ``runs:/<run_id>[/<path>]``.

    Example::

        root, path = run_location("runs:/0a1b.../plots/loss.png")
        # (".../0a1b.../artifacts", "plots/loss.png")
    """
    run_id, _, path = _after_scheme(uri, _RUNS_FORM).partition("/")
    if not run_id:
        raise InvalidParameter(f"Not a proper runs:/ URI: {uri!r}; expected {_RUNS_FORM}.")
    relative = safe_relative_path(path)
    return _client(tracking_uri).get_run(run_id).info.artifact_uri, relative


def model_location(uri: str, tracking_uri: str | None = None) -> tuple[str, str]:
    """``(the logged model's artifact root, path under it)`` for ``models:/m-<id>[/<path>]``.

    Registered-model forms (``models:/<name>/<version>``, ``/<stage>``, ``/latest``,
    ``@<alias>``) are refused: they need the model registry.

    Example::

        root, path = model_location("models:/m-0123456789abcdef0123456789abcdef/MLmodel")
    """
    first, _, path = _after_scheme(uri, "models:/<model_id>/<path>").partition("/")
    if not _MODEL_ID.fullmatch(first):
        raise InvalidParameter(
            f"{uri!r} names a registered model (models:/<name>/<version> or @<alias>): reading "
            "it needs the model registry, which Wayline does not serve yet. Use the logged "
            "model's URI, models:/m-<model_id>, or runs:/<run_id>/<path> instead."
        )
    relative = safe_relative_path(path)
    return _client(tracking_uri).get_logged_model(first).artifact_location, relative


def logged_model_of_run(uri: str, tracking_uri: str | None = None) -> str | None:
    """``models:/<model_id>`` of the logged model that ``runs:/<run_id>/<name>`` names, if any.

    MLflow 3 keeps a run's logged model under the model's own location, not the run's: such a
    URI then means the logged model named ``<name>`` whose source is the run (spec §5).

    Example::

        logged_model_of_run("runs:/0a1b.../model")  # "models:/m-..." or None
    """
    run_id, _, name = _after_scheme(uri, _RUNS_FORM).partition("/")
    if not name or "/" in name:
        return None
    client = _client(tracking_uri)
    experiment_id = client.get_run(run_id).info.experiment_id
    escaped = name.replace("'", "\\'")
    page = client.search_logged_models([experiment_id], filter_string=f"name = '{escaped}'")
    for model in page:
        if model.source_run_id == run_id:
            return f"models:/{model.model_id}"
    return None


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
    artifact URIs; the name is ``""`` for a bare ``runs:/<run_id>`` or ``models:/m-<id>``
    (the whole artifact root).

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
    "child_uri",
    "logged_model_of_run",
    "model_location",
    "resolve_artifact_uri",
    "run_location",
    "storage_location",
    "uri_scheme",
]
