"""The Run entity: RunInfo (identity and state), RunData (values), RunInputs (datasets and
models used), RunOutputs (models produced)."""

from __future__ import annotations

from dataclasses import dataclass, field

from wayline.entities.datasets import DatasetInput
from wayline.entities.enums import LifecycleStage, RunStatus
from wayline.entities.logged_model import ModelInput, ModelOutput
from wayline.entities.metrics import Metric, Param, RunTag


@dataclass(frozen=True, slots=True)
class RunInfo:
    run_id: str
    experiment_id: str
    run_name: str
    user_id: str
    status: str
    start_time: int | None
    end_time: int | None
    artifact_uri: str
    lifecycle_stage: str = LifecycleStage.ACTIVE

    @property
    def run_uuid(self) -> str:
        """Deprecated MLflow name of ``run_id``."""
        return self.run_id


@dataclass(frozen=True, slots=True)
class RunData:
    """A run's latest metric values, params and tags.

    ``metrics``, ``params`` and ``tags`` are dicts as in MLflow; ``latest_metrics`` keeps the
    full latest Metric of each key (step, timestamp) for serialisation.
    """

    latest_metrics: list[Metric] = field(default_factory=list)
    param_list: list[Param] = field(default_factory=list)
    tag_list: list[RunTag] = field(default_factory=list)

    @property
    def metrics(self) -> dict[str, float]:
        return {m.key: m.value for m in self.latest_metrics}

    @property
    def params(self) -> dict[str, str]:
        return {p.key: p.value for p in self.param_list}

    @property
    def tags(self) -> dict[str, str]:
        return {t.key: t.value for t in self.tag_list}


@dataclass(frozen=True, slots=True)
class RunInputs:
    dataset_inputs: list[DatasetInput] = field(default_factory=list)
    model_inputs: list[ModelInput] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class RunOutputs:
    model_outputs: list[ModelOutput] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Run:
    info: RunInfo
    data: RunData = field(default_factory=RunData)
    inputs: RunInputs = field(default_factory=RunInputs)
    outputs: RunOutputs = field(default_factory=RunOutputs)

    @property
    def status(self) -> RunStatus:
        return RunStatus.from_string(self.info.status)
