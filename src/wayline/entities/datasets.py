"""Datasets logged as run inputs."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Dataset:
    """A dataset's identity (``name`` + ``digest``) and descriptive JSON strings."""

    name: str
    digest: str
    source_type: str
    source: str
    schema: str | None = None
    profile: str | None = None


@dataclass(frozen=True, slots=True)
class InputTag:
    key: str
    value: str


@dataclass(frozen=True, slots=True)
class DatasetSummary:
    """A dataset as the experiment page lists it: where it was used, and in which context."""

    experiment_id: str
    name: str
    digest: str
    context: str | None = None


@dataclass(frozen=True, slots=True)
class DatasetInput:
    """A dataset used by a run, with tags such as ``mlflow.data.context``."""

    dataset: Dataset
    tags: list[InputTag] = field(default_factory=list)
