"""Artifact storage: repositories chosen by URI scheme, path safety, the proxy client.

Importing this package is cheap: fsspec, s3fs and httpx load when a repository needs them.
"""

from wayline.artifacts.paths import safe_relative_path
from wayline.artifacts.repository import ArtifactRepository, ArtifactSink
from wayline.artifacts.resolve import artifact_repository

__all__ = ["ArtifactRepository", "ArtifactSink", "artifact_repository", "safe_relative_path"]
