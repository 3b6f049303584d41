"""Artifact storage and MLflow's ``mlflow.artifacts`` functions.

``download_artifacts``, ``list_artifacts``, ``load_text``, ``load_dict`` and ``load_image`` take
``runs:/``, ``models:/m-<id>`` and storage URIs; ``artifact_repository`` gives the repository of
a storage URI (a local path, file://, cloud storage, mlflow-artifacts:/). Importing this package
is cheap: fsspec, cloud libraries, httpx and Pillow load when a call needs them.
"""

from wayline.artifacts.api import (
    download_artifacts,
    list_artifacts,
    load_dict,
    load_image,
    load_text,
)
from wayline.artifacts.paths import safe_relative_path
from wayline.artifacts.repository import ArtifactRepository, ArtifactSink
from wayline.artifacts.resolve import artifact_repository

__all__ = [
    "ArtifactRepository",
    "ArtifactSink",
    "artifact_repository",
    "download_artifacts",
    "list_artifacts",
    "load_dict",
    "load_image",
    "load_text",
    "safe_relative_path",
]
