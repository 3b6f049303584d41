"""``wayline.artifacts``' user functions, as in ``mlflow.artifacts``: download, list and load
artifacts named by a URI (``runs:/``, ``models:/m-<id>``, a storage URI) or by a run id.

URIs are resolved by ``wayline.artifacts.uris``; bytes move through the repository of the
storage URI. ``tracking_uri`` (default: the current one, ``wayline.get_tracking_uri()``) names
the store that knows runs and models, and the server of ``mlflow-artifacts:/`` URIs.
"""

from __future__ import annotations

import json
import os
from typing import Any

from wayline.artifacts.paths import resolve_inside, safe_relative_path
from wayline.artifacts.resolve import artifact_repository
from wayline.artifacts.uris import resolve_artifact_uri, storage_location
from wayline.entities import FileInfo
from wayline.errors import InvalidParameter, WaylineError


def _tracking_uri(tracking_uri: str | None) -> str:
    from wayline.tracking.uri import get_tracking_uri

    return tracking_uri or get_tracking_uri()


def _check_target(artifact_uri: str | None, run_id: str | None, artifact_path: str | None) -> None:
    if (artifact_uri is None) == (run_id is None):
        raise InvalidParameter("Exactly one of `run_id` or `artifact_uri` must be specified")
    if artifact_uri is not None and artifact_path is not None:
        raise InvalidParameter("`artifact_path` cannot be specified if `artifact_uri` is specified")


def _runs_uri(run_id: str, artifact_path: str | None) -> str:
    if not run_id or "/" in run_id:
        raise InvalidParameter(f"Invalid run id {run_id!r}")
    path = safe_relative_path(artifact_path)
    return f"runs:/{run_id}/{path}" if path else f"runs:/{run_id}"


def _in_place(root: str, name: str) -> str | None:
    """The local path of an artifact kept on this machine, or None (remote, or no such file)."""
    from wayline.artifacts.fsspec_repo import is_local_uri, local_root

    if not is_local_uri(root):
        return None
    target = resolve_inside(local_root(root), safe_relative_path(name))
    return target if os.path.exists(target) else None


def download_artifacts(
    artifact_uri: str | None = None,
    run_id: str | None = None,
    artifact_path: str | None = None,
    dst_path: str | os.PathLike[str] | None = None,
    tracking_uri: str | None = None,
) -> str:
    """Download an artifact file or directory and return its local path.

    Give ``artifact_uri`` (``runs:/<run_id>/<path>``, ``models:/m-<model_id>/<path>``, a local
    path, ``file://``, ``s3://``, ``mlflow-artifacts:/`` or a proxy URL), or ``run_id`` with an
    optional ``artifact_path``. The artifact lands at ``<dst_path>/<its last segment>``
    (``dst_path`` is created if missing); without ``dst_path`` it goes to a new temporary
    directory, unless it is already on local disk, whose path is then returned as it is.

    Example::

        from wayline.artifacts import download_artifacts

        local = download_artifacts(f"runs:/{run_id}/plots", dst_path="/tmp/out")  # /tmp/out/plots
        everything = download_artifacts(run_id=run_id, dst_path="/tmp/all")
    """
    _check_target(artifact_uri, run_id, artifact_path)
    tracking = _tracking_uri(tracking_uri)
    uri = artifact_uri if artifact_uri is not None else _runs_uri(str(run_id), artifact_path)
    root, name = resolve_artifact_uri(uri, tracking)
    if dst_path is None:
        found = _in_place(root, name)
        if found is not None:
            return found
    else:
        os.makedirs(dst_path, exist_ok=True)
    return artifact_repository(root, tracking).download_artifacts(name, dst_path)


def list_artifacts(
    artifact_uri: str | None = None,
    run_id: str | None = None,
    artifact_path: str | None = None,
    tracking_uri: str | None = None,
) -> list[FileInfo]:
    """The files and directories directly under an artifact directory (``[]`` for a file).

    With ``artifact_uri`` the paths are relative to the directory holding it, as MLflow gives
    them (``runs:/<id>/plots`` lists ``plots/a.png``); with ``run_id`` they are relative to
    the run's artifact root.

    Example::

        from wayline.artifacts import list_artifacts

        for info in list_artifacts(run_id=run_id, artifact_path="plots"):
            print(info.path, info.is_dir, info.file_size)
    """
    _check_target(artifact_uri, run_id, artifact_path)
    tracking = _tracking_uri(tracking_uri)
    if artifact_uri is not None:
        root, path = resolve_artifact_uri(artifact_uri, tracking)
    else:
        root, _ = storage_location(_runs_uri(str(run_id), None), tracking)
        path = safe_relative_path(artifact_path)
    return artifact_repository(root, tracking).list_artifacts(path or None)


def _read_bytes(artifact_uri: str) -> bytes:
    tracking = _tracking_uri(None)
    root, name = resolve_artifact_uri(artifact_uri, tracking)
    if not name:
        raise InvalidParameter(f"{artifact_uri!r} names an artifact directory, not a file.")
    # Loaded artifacts are small documents meant to be held in memory.
    return b"".join(artifact_repository(root, tracking).iter_bytes(name))


def _bad_content(artifact_uri: str, what: str) -> InvalidParameter:
    return InvalidParameter(
        f"Unable to form {what} from the content of {artifact_uri!r}.", "BAD_REQUEST"
    )


def _text(artifact_uri: str) -> str:
    try:
        return _read_bytes(artifact_uri).decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidParameter(
            f"Artifact {artifact_uri!r} is not valid UTF-8. To read a file in another encoding, "
            "download it with wayline.artifacts.download_artifacts and open it with its encoding.",
            "BAD_REQUEST",
        ) from None


def load_text(artifact_uri: str) -> str:
    """The artifact's content as a string (UTF-8).

    Example::

        with wayline.start_run() as run:
            wayline.log_text("a sentence", "notes.txt")
        print(wayline.artifacts.load_text(f"runs:/{run.info.run_id}/notes.txt"))  # a sentence
    """
    return _text(artifact_uri)


def load_dict(artifact_uri: str) -> Any:
    """The artifact's content parsed as YAML (``.yaml``/``.yml``) or JSON (anything else).

    Example::

        with wayline.start_run() as run:
            wayline.log_dict({"n_cores": 10}, "config.json")
        config = wayline.artifacts.load_dict(run.info.artifact_uri + "/config.json")
    """
    text = _text(artifact_uri)
    if os.path.splitext(artifact_uri)[1].lower() in (".yaml", ".yml"):
        import yaml

        try:
            return yaml.safe_load(text)
        except yaml.YAMLError:
            raise _bad_content(artifact_uri, "a YAML object") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        raise _bad_content(artifact_uri, "a JSON object") from None


def load_image(artifact_uri: str) -> Any:
    """The artifact as a ``PIL.Image.Image`` (needs Pillow).

    Example::

        from PIL import Image

        with wayline.start_run() as run:
            wayline.log_image(Image.new("RGB", (100, 100)), "image.png")
        image = wayline.artifacts.load_image(f"runs:/{run.info.run_id}/image.png")
    """
    try:
        from PIL import Image
    except ImportError:
        raise WaylineError("load_image needs Pillow: pip install pillow") from None
    import io

    data = _read_bytes(artifact_uri)
    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except Exception:  # Pillow reports undecodable data with several unrelated exception types
        raise _bad_content(artifact_uri, "a PIL Image object") from None
    return image


__all__ = ["download_artifacts", "list_artifacts", "load_dict", "load_image", "load_text"]
