"""Plain value objects of the tracking domain."""

from wayline.entities.datasets import Dataset, DatasetInput, InputTag
from wayline.entities.enums import LifecycleStage, RunStatus, SourceType, ViewType
from wayline.entities.experiment import Experiment
from wayline.entities.metrics import ExperimentTag, Metric, Param, RunTag
from wayline.entities.paging import PagedList
from wayline.entities.run import Run, RunData, RunInfo, RunInputs

__all__ = [
    "Dataset",
    "DatasetInput",
    "Experiment",
    "ExperimentTag",
    "InputTag",
    "LifecycleStage",
    "Metric",
    "PagedList",
    "Param",
    "Run",
    "RunData",
    "RunInfo",
    "RunInputs",
    "RunStatus",
    "RunTag",
    "SourceType",
    "ViewType",
]
