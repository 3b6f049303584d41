"""Logged models (MLflow 3): a model as a first-class entity, and its links to runs.

A ``LoggedModel`` lives in an experiment, usually comes from a run (``source_run_id``), and has
its own tags, params, metrics (points logged with its ``model_id``) and artifact location
``<experiment artifact_location>/models/<model_id>/artifacts``. Runs record the models they
produced (``ModelOutput``, in ``Run.outputs``) and consumed (``ModelInput``, in ``Run.inputs``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from wayline.entities.enums import LoggedModelStatus
from wayline.entities.metrics import Metric


@dataclass(frozen=True, slots=True)
class LoggedModelTag:
    key: str
    value: str


@dataclass(frozen=True, slots=True)
class LoggedModel:
    """A logged model. ``tags`` and ``params`` map keys to values, as on an Experiment;
    ``metrics`` holds every point logged with this model's id (each with its ``run_id``).
    Unset text fields (``model_type``, ``source_run_id``, ``status_message``) are ``""``, as
    MLflow's client shows them."""

    model_id: str
    experiment_id: str
    name: str
    artifact_uri: str
    creation_timestamp_ms: int
    last_updated_timestamp_ms: int
    status: LoggedModelStatus = LoggedModelStatus.PENDING
    creator_id: int | None = None
    model_type: str = ""
    source_run_id: str = ""
    status_message: str = ""
    tags: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    metrics: list[Metric] = field(default_factory=list)

    @property
    def artifact_location(self) -> str:
        """MLflow's Python name of ``artifact_uri``."""
        return self.artifact_uri

    @property
    def model_uri(self) -> str:
        """The URI that loads this model: ``models:/<model_id>``."""
        return f"models:/{self.model_id}"


@dataclass(frozen=True, slots=True)
class ModelInput:
    """A logged model a run used (``RunInputs.model_inputs``)."""

    model_id: str


@dataclass(frozen=True, slots=True)
class ModelOutput:
    """A logged model a run produced, at a training ``step`` (``RunOutputs.model_outputs``)."""

    model_id: str
    step: int = 0


@dataclass(frozen=True, slots=True)
class LoggedModelDataset:
    """A dataset that restricts metric clauses of a logged-model search (``digest`` optional)."""

    dataset_name: str
    dataset_digest: str | None = None


@dataclass(frozen=True, slots=True)
class LoggedModelOrderBy:
    """One structured order_by entry of a logged-model search.

    ``field_name`` is an attribute (``creation_timestamp``, ``name`` ...) or ``metrics.<key>``;
    a metric can be read on one dataset only (``dataset_name``, optionally ``dataset_digest``).
    """

    field_name: str
    ascending: bool = True
    dataset_name: str | None = None
    dataset_digest: str | None = None


# MLflow's names, for code written against mlflow.entities.
LoggedModelInput = ModelInput
LoggedModelOutput = ModelOutput

__all__ = [
    "LoggedModel",
    "LoggedModelDataset",
    "LoggedModelInput",
    "LoggedModelOrderBy",
    "LoggedModelOutput",
    "LoggedModelTag",
    "ModelInput",
    "ModelOutput",
]
