"""Plain value objects of the tracking domain."""

from wayline.entities.assessment import (
    Assessment,
    AssessmentError,
    AssessmentSource,
    AssessmentSourceType,
    Expectation,
    Feedback,
)
from wayline.entities.datasets import Dataset, DatasetInput, DatasetSummary, InputTag
from wayline.entities.enums import (
    LifecycleStage,
    LoggedModelStatus,
    RunStatus,
    SourceType,
    ViewType,
)
from wayline.entities.experiment import Experiment
from wayline.entities.file_info import FileInfo
from wayline.entities.logged_model import (
    LoggedModel,
    LoggedModelDataset,
    LoggedModelInput,
    LoggedModelOrderBy,
    LoggedModelOutput,
    LoggedModelTag,
    ModelInput,
    ModelOutput,
)
from wayline.entities.metrics import ExperimentTag, Metric, Param, RunTag
from wayline.entities.paging import PagedList
from wayline.entities.run import Run, RunData, RunInfo, RunInputs, RunOutputs
from wayline.entities.trace import (
    Span,
    SpanEvent,
    SpanStatusCode,
    SpanType,
    Trace,
    TraceData,
    TraceInfo,
    TraceState,
)

__all__ = [
    "Assessment",
    "AssessmentError",
    "AssessmentSource",
    "AssessmentSourceType",
    "Dataset",
    "DatasetInput",
    "DatasetSummary",
    "Expectation",
    "Experiment",
    "ExperimentTag",
    "Feedback",
    "FileInfo",
    "InputTag",
    "LifecycleStage",
    "LoggedModel",
    "LoggedModelDataset",
    "LoggedModelInput",
    "LoggedModelOrderBy",
    "LoggedModelOutput",
    "LoggedModelStatus",
    "LoggedModelTag",
    "Metric",
    "ModelInput",
    "ModelOutput",
    "PagedList",
    "Param",
    "Run",
    "RunData",
    "RunInfo",
    "RunInputs",
    "RunOutputs",
    "RunStatus",
    "RunTag",
    "SourceType",
    "Span",
    "SpanEvent",
    "SpanStatusCode",
    "SpanType",
    "Trace",
    "TraceData",
    "TraceInfo",
    "TraceState",
    "ViewType",
]
