"""The Experiment entity."""

from __future__ import annotations

from dataclasses import dataclass, field

from wayline.entities.enums import LifecycleStage


@dataclass(frozen=True, slots=True)
class Experiment:
    """A named group of runs. ``tags`` maps tag keys to values."""

    experiment_id: str
    name: str
    artifact_location: str
    lifecycle_stage: str = LifecycleStage.ACTIVE
    tags: dict[str, str] = field(default_factory=dict)
    creation_time: int | None = None
    last_update_time: int | None = None
