"""The one place that turns an artifact URI into a repository, by its scheme.

======================================  =====================================================
URI                                     repository
======================================  =====================================================
``/path``, ``C:\\path``, ``file:///p``  FsspecArtifactRepository on the local filesystem
``s3://bucket/prefix``                  FsspecArtifactRepository on s3fs (extra ``s3``)
``mlflow-artifacts:/p``, ``http(s)://`` ProxyArtifactRepository (the tracking server's proxy)
======================================  =====================================================

The environment is read here, once per repository built: ``MLFLOW_S3_ENDPOINT_URL`` (or
``WAYLINE_S3_ENDPOINT_URL``) and ``MLFLOW_S3_IGNORE_TLS`` for S3; the REST store's variables for
the proxy. Cloud credentials are left to their libraries' own lookup (``AWS_*``, profiles).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlparse

from wayline.artifacts.repository import ArtifactRepository
from wayline.errors import InvalidParameter

_PROXY_SCHEMES = ("mlflow-artifacts", "http", "https")


def _s3_options(environ: Mapping[str, str]) -> dict[str, Any]:
    client_kwargs: dict[str, Any] = {}
    endpoint = environ.get("WAYLINE_S3_ENDPOINT_URL") or environ.get("MLFLOW_S3_ENDPOINT_URL")
    if endpoint:
        client_kwargs["endpoint_url"] = endpoint
    if environ.get("MLFLOW_S3_IGNORE_TLS", "").strip().lower() in ("true", "1", "yes"):
        client_kwargs["verify"] = False
    # Listings are not cached: other processes write to the same bucket.
    return {"client_kwargs": client_kwargs, "use_listings_cache": False}


def artifact_repository(uri: str, tracking_uri: str | None = None) -> ArtifactRepository:
    """The repository for artifact ``uri``; ``tracking_uri`` resolves ``mlflow-artifacts:/``.

    Example::

        repo = artifact_repository(run.info.artifact_uri, tracking_uri="http://127.0.0.1:5000")
        for info in repo.list_artifacts():
            print(info.path, info.file_size)
    """
    from wayline.artifacts.fsspec_repo import REMOTE_SCHEMES, FsspecArtifactRepository

    scheme = urlparse(uri).scheme.lower()
    if len(scheme) <= 1 or scheme == "file":
        return FsspecArtifactRepository(uri)
    if scheme in REMOTE_SCHEMES:
        options = _s3_options(os.environ) if scheme == "s3" else {}
        return FsspecArtifactRepository(uri, options)
    if scheme in _PROXY_SCHEMES:
        from wayline.artifacts.proxy_repo import ProxyArtifactRepository

        return ProxyArtifactRepository(uri, tracking_uri)
    raise InvalidParameter(
        f"Unsupported artifact URI {uri!r}: use a local path, file://, s3:// "
        "or mlflow-artifacts:/ (through a tracking server)."
    )


__all__ = ["artifact_repository"]
