"""Where a new model version's files are, and whether the caller may point there.

``resolve_source`` checks a version's ``source`` as MLflow's server does (spec rest-registry.md
§2.1), inside the registering transaction:

* ``models:/m-<id>`` (or any source with ``model_id``): the logged model must exist; its run
  fills an empty ``run_id`` and its artifact location is where the files are. A source URI's
  model id must equal ``model_id`` (an empty ``model_id`` is taken from the URI).
* ``models:/<name>/<version>`` (or ``@alias``, ``/latest``, ``/<stage>``): a copy of another
  version, which must exist and not be a prompt; it inherits run and model unless they are given
  (then they must match), and its files are that version's.
* ``runs:/<run_id>/...``: the URI's run must equal ``run_id`` (an empty one is filled from it).
* a local path or ``file:`` URI must lie inside the artifact folder of the given run (or logged
  model), after resolving symlinks; ``mlflow-artifacts:`` URIs (and the artifact proxy's http
  URLs) must lie under the run's (or model's) artifact URI.
* no source may hold a ``..`` segment, however often percent-encoded (``safe_relative_path``).

Prompt versions take ``dummy-source`` / ``prompt-template`` only; the caller checks that.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from sqlalchemy import Connection, desc, select

from wayline.artifacts.fsspec_repo import is_local_uri, local_root
from wayline.artifacts.paths import safe_relative_path
from wayline.artifacts.uris import parse_model_uri, uri_scheme
from wayline.entities import LifecycleStage
from wayline.entities.registry import PROMPT_TAG
from wayline.errors import InvalidParameter, NotFound
from wayline.store.sql.base import fetch_rows, upsert
from wayline.store.sql.tables import (
    logged_model_tags,
    logged_models,
    model_versions,
    registered_model_aliases,
    registered_model_tags,
    runs,
)
from wayline.validation import MAX_TAG_VALUE_LENGTH

PROMPT_SOURCES = ("dummy-source", "prompt-template")
MODEL_VERSIONS_TAG = "mlflow.modelVersions"
_ARTIFACT_ROUTE = ("api", "2.0", "mlflow-artifacts", "artifacts")
_MAX_DECODE_ROUNDS = 8

mv = model_versions.c
lm = logged_models.c


@dataclass(frozen=True, slots=True)
class Lineage:
    """A checked source: what to store, and where the files are when that is not ``source``."""

    source: str
    run_id: str | None
    model_id: str | None
    storage_location: str | None = None


def _refused(source: str, parameter: str) -> InvalidParameter:
    return InvalidParameter(
        f"Invalid model version source: '{source}'. The {parameter} request parameter must"
        " identify the resource that contains the source."
    )


def _refused_local(source: str, parameter: str) -> InvalidParameter:
    return InvalidParameter(
        f"Invalid model version source: '{source}'. To use a local path as a model version"
        f" source, the {parameter} request parameter has to be specified and the local path has"
        f" to be contained within the artifact directory of the resource specified by the"
        f" {parameter}."
    )


def _refused_relative(source: str) -> InvalidParameter:
    return InvalidParameter(
        f"Invalid model version source: '{source}'. If supplying a source as an http, https,"
        " local file path, ftp, objectstore, or mlflow-artifacts uri, an absolute path must be"
        " provided without relative path references present. Please provide an absolute path."
    )


def check_prompt_source(source: str) -> None:
    if source not in PROMPT_SOURCES:
        raise InvalidParameter(
            f"Invalid prompt source: '{source}'. Prompt sources must use an MLflow placeholder"
            f" ({' or '.join(PROMPT_SOURCES)})."
        )


def resolve_source(
    conn: Connection, source: str, run_id: str | None, model_id: str | None
) -> Lineage:
    """Check ``source`` (see the module docstring); InvalidParameter says what is wrong."""
    _check_no_traversal(source)
    scheme = uri_scheme(source)
    if scheme == "models":
        parsed = parse_model_uri(source)
        if parsed.model_id is None:
            return _copied_version(conn, source, run_id, model_id)
        if model_id and model_id != parsed.model_id:
            raise _refused(source, "model_id")
        model_id = parsed.model_id
    if model_id:
        return _from_logged_model(conn, source, scheme, run_id, model_id)
    if scheme == "runs":
        source_run = _runs_uri_run(source)
        if run_id and run_id != source_run:
            raise _refused(source, "run_id")
        return Lineage(source, source_run, None)
    if is_local_uri(source):
        root = _run_artifact_uri(conn, source, run_id) if run_id else None
        if root is None or not _local_inside(source, root):
            raise _refused_local(source, "run_id")
    elif _is_artifact_proxy_uri(source):
        root = _run_artifact_uri(conn, source, run_id) if run_id else None
        if root is None or not _uri_inside(source, root):
            raise _refused(source, "run_id")
    return Lineage(source, run_id or None, None)


def _check_no_traversal(source: str) -> None:
    stage = source
    for _ in range(_MAX_DECODE_ROUNDS):
        if "\x00" in stage or ".." in stage.split("/"):
            raise _refused_relative(source)
        decoded = unquote(stage)
        if decoded == stage:
            break
        stage = decoded
    else:
        raise _refused_relative(source)
    path = urlsplit(source).path if uri_scheme(source) else source
    try:
        safe_relative_path(path.lstrip("/"))
    except InvalidParameter:
        raise _refused_relative(source) from None


def _runs_uri_run(source: str) -> str:
    body = source.split(":", 1)[1]
    if not body.startswith("/") or body.startswith("//"):
        raise _refused(source, "run_id")
    run_id = body.lstrip("/").split("/", 1)[0]
    if not run_id:
        raise _refused(source, "run_id")
    return run_id


def _run_artifact_uri(conn: Connection, source: str, run_id: str) -> str:
    rows = fetch_rows(conn, select(runs.c.artifact_uri).where(runs.c.run_id == run_id))
    if not rows:
        raise _refused(source, "run_id")
    return str(rows[0][0])


def _local_inside(source: str, root: str) -> bool:
    """Whether local ``source`` lies inside local ``root`` once symlinks are resolved."""
    if not is_local_uri(root):
        return False
    try:
        target = os.path.realpath(local_root(source))
        folder = os.path.realpath(local_root(root))
    except InvalidParameter:
        return False
    return os.path.commonpath([folder, target]) == folder


def _parts(uri: str) -> tuple[str, str, tuple[str, ...]]:
    parsed = urlsplit(uri)
    path = tuple(unquote(part) for part in parsed.path.split("/") if part)
    return parsed.scheme.lower(), parsed.netloc.lower(), path


def _is_artifact_proxy_uri(source: str) -> bool:
    scheme, _, path = _parts(source)
    if scheme == "mlflow-artifacts":
        return True
    width = len(_ARTIFACT_ROUTE)
    return scheme in ("http", "https") and any(
        path[i : i + width] == _ARTIFACT_ROUTE for i in range(len(path) - width + 1)
    )


def _uri_inside(source: str, root: str) -> bool:
    scheme, authority, path = _parts(source)
    root_scheme, root_authority, root_path = _parts(root)
    return (
        (scheme, authority) == (root_scheme, root_authority)
        and bool(root_path)
        and path[: len(root_path)] == root_path
    )


def _from_logged_model(
    conn: Connection, source: str, scheme: str, run_id: str | None, model_id: str
) -> Lineage:
    query = select(lm.artifact_location, lm.source_run_id, lm.lifecycle_stage).where(
        lm.model_id == model_id
    )
    rows = fetch_rows(conn, query)
    if not rows or rows[0][2] != LifecycleStage.ACTIVE.value:
        raise _refused(source, "model_id")
    location, model_run, _ = rows[0]
    if scheme == "runs":
        raise _refused(source, "model_id")
    if is_local_uri(source) and not _local_inside(source, location):
        raise _refused_local(source, "model_id")
    if _is_artifact_proxy_uri(source) and not _uri_inside(source, location):
        raise _refused(source, "model_id")
    return Lineage(source, run_id or model_run or None, model_id, location)


def _copied_version(
    conn: Connection, source: str, run_id: str | None, model_id: str | None
) -> Lineage:
    """A ``models:/<name>/...`` source: the version it names, whose files these are."""
    parsed = parse_model_uri(source)
    name = str(parsed.name)
    prompt = fetch_rows(
        conn,
        select(registered_model_tags.c.value).where(
            registered_model_tags.c.name == name, registered_model_tags.c.key == PROMPT_TAG
        ),
    )
    if prompt and prompt[0][0].lower() == "true":
        raise InvalidParameter(
            f"Invalid model version source: '{source}'. Prompt versions cannot be used as model"
            " version sources."
        )
    row = _named_version(conn, source, name, parsed.version, parsed.stage, parsed.alias)
    version, source_run, source_model, location, stored_source = row
    if (run_id and run_id != (source_run or "")) or (model_id and model_id != (source_model or "")):
        raise InvalidParameter(
            f"Invalid model version source: '{source}'. The run_id and model_id request"
            " parameters must match the referenced model version."
        )
    suffix = f"/{parsed.path}" if parsed.path else ""
    where = (location or stored_source) + suffix
    return Lineage(
        f"models:/{name}/{version}{suffix}",
        run_id or source_run or None,
        model_id or source_model or None,
        where,
    )


def _named_version(
    conn: Connection,
    source: str,
    name: str,
    version: str | None,
    stage: str | None,
    alias: str | None,
) -> tuple[Any, ...]:
    columns = (mv.version, mv.run_id, mv.model_id, mv.storage_location, mv.source)
    query = select(*columns).where(mv.name == name)
    if version is not None:
        query = query.where(mv.version == min(int(version), 2**31 - 1))
    elif alias is not None:
        aliases = registered_model_aliases.c
        query = query.where(
            mv.version
            == select(aliases.version)
            .where(aliases.name == name, aliases.alias == alias)
            .scalar_subquery()
        )
    elif stage is not None:
        query = query.where(mv.current_stage == stage)
    rows = fetch_rows(conn, query.order_by(desc(mv.version)).limit(1))
    if not rows:
        raise NotFound(f"No model version found for source '{source}'.")
    return rows[0]


def record_lineage(conn: Connection, dialect: str, model_id: str, name: str, version: int) -> None:
    """Append ``{name, version}`` to the logged model's ``mlflow.modelVersions`` tag."""
    tags = logged_model_tags.c
    rows = fetch_rows(
        conn,
        select(tags.value).where(tags.model_id == model_id, tags.key == MODEL_VERSIONS_TAG),
    )
    try:
        entries = json.loads(rows[0][0]) if rows else []
    except json.JSONDecodeError:
        entries = []
    if not isinstance(entries, list):
        entries = []
    entry = {"name": name, "version": version}
    if entry not in entries:
        entries.append(entry)
    text = json.dumps(entries)
    while len(text) > MAX_TAG_VALUE_LENGTH and len(entries) > 1:
        entries.pop(0)  # the tag's limit: keep the newest links
        text = json.dumps(entries)
    statement = upsert(dialect, logged_model_tags, keys=("model_id", "key"), update=("value",))
    conn.execute(statement, {"model_id": model_id, "key": MODEL_VERSIONS_TAG, "value": text})


__all__ = [
    "MODEL_VERSIONS_TAG",
    "PROMPT_SOURCES",
    "Lineage",
    "check_prompt_source",
    "record_lineage",
    "resolve_source",
]
