"""Key/value records attached to runs and experiments."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Metric:
    """One point of a metric's history: ``value`` at ``step``, logged at ``timestamp`` (ms)."""

    key: str
    value: float
    timestamp: int
    step: int = 0
    dataset_name: str | None = None
    dataset_digest: str | None = None
    model_id: str | None = None
    run_id: str | None = None

    def sort_key(self) -> tuple[int, int, float]:
        """MLflow's "latest" order: highest step, then timestamp, then value (NaN lowest)."""
        value = self.value if self.value == self.value else float("-inf")
        return (self.step, self.timestamp, value)


@dataclass(frozen=True, slots=True)
class Param:
    key: str
    value: str


@dataclass(frozen=True, slots=True)
class RunTag:
    key: str
    value: str


@dataclass(frozen=True, slots=True)
class ExperimentTag:
    key: str
    value: str
