"""Enumerations shared by the tracking entities, with MLflow's names and wire numbers."""

from __future__ import annotations

import enum

from wayline.errors import InvalidParameter


class RunStatus(enum.StrEnum):
    """State of a run. Compares equal to its name, as MLflow's string statuses do."""

    RUNNING = "RUNNING"
    SCHEDULED = "SCHEDULED"
    FINISHED = "FINISHED"
    FAILED = "FAILED"
    KILLED = "KILLED"

    @property
    def number(self) -> int:
        return _RUN_STATUS_NUMBERS[self]

    @classmethod
    def from_string(cls, value: str | int | RunStatus) -> RunStatus:
        """Parse a status name (any case) or its wire number."""
        if isinstance(value, int) and not isinstance(value, bool):
            for status, number in _RUN_STATUS_NUMBERS.items():
                if number == value:
                    return status
        elif isinstance(value, str):
            try:
                return cls(value.upper())
            except ValueError:
                pass
        allowed = ", ".join(s.value for s in cls)
        raise InvalidParameter(f"Invalid run status {value!r}: expected one of {allowed}.")

    @staticmethod
    def to_string(value: str | int | RunStatus) -> str:
        return RunStatus.from_string(value).value

    @staticmethod
    def is_terminated(value: str | RunStatus) -> bool:
        return RunStatus.from_string(value) in (
            RunStatus.FINISHED,
            RunStatus.FAILED,
            RunStatus.KILLED,
        )


_RUN_STATUS_NUMBERS = {
    RunStatus.RUNNING: 1,
    RunStatus.SCHEDULED: 2,
    RunStatus.FINISHED: 3,
    RunStatus.FAILED: 4,
    RunStatus.KILLED: 5,
}


class ViewType(enum.IntEnum):
    """Which lifecycle stages a search returns."""

    ACTIVE_ONLY = 1
    DELETED_ONLY = 2
    ALL = 3

    @classmethod
    def from_string(cls, value: str | int | ViewType) -> ViewType:
        if isinstance(value, int) and not isinstance(value, bool):
            try:
                return cls(value)
            except ValueError:
                pass
        elif isinstance(value, str):
            key = value.strip().upper()
            if key in cls.__members__:
                return cls[key]
            if key.isdigit():
                return cls.from_string(int(key))
        allowed = ", ".join(cls.__members__)
        raise InvalidParameter(f"Invalid view type {value!r}: expected one of {allowed}.")

    @staticmethod
    def to_string(value: int | ViewType) -> str:
        return ViewType.from_string(value).name


class LifecycleStage(enum.StrEnum):
    ACTIVE = "active"
    DELETED = "deleted"

    @staticmethod
    def view_type_stages(view_type: ViewType) -> tuple[LifecycleStage, ...]:
        """The stages a search with ``view_type`` includes."""
        if view_type == ViewType.ACTIVE_ONLY:
            return (LifecycleStage.ACTIVE,)
        if view_type == ViewType.DELETED_ONLY:
            return (LifecycleStage.DELETED,)
        return (LifecycleStage.ACTIVE, LifecycleStage.DELETED)


class SourceType(enum.StrEnum):
    NOTEBOOK = "NOTEBOOK"
    JOB = "JOB"
    PROJECT = "PROJECT"
    LOCAL = "LOCAL"
    UNKNOWN = "UNKNOWN"


class LoggedModelStatus(enum.StrEnum):
    """State of a logged model (MLflow 3), spelled as MLflow's Python enum: ``READY`` etc.

    Members are strings (``str(LoggedModelStatus.READY) == "READY"``), so code written for
    ``mlflow.entities.LoggedModelStatus`` works unchanged. On the wire (and in the SQL store's
    ``status`` column) a status is its proto name, ``wire_name`` (``"LOGGED_MODEL_READY"``);
    ``from_string`` reads that, the short name or the proto number.
    """

    UNSPECIFIED = "UNSPECIFIED"
    PENDING = "PENDING"
    READY = "READY"
    FAILED = "FAILED"

    @property
    def wire_name(self) -> str:
        """The proto enum name, as JSON carries it: ``LOGGED_MODEL_READY``."""
        return _LOGGED_MODEL_WIRE_NAMES[self]

    @property
    def number(self) -> int:
        """The proto enum number (0-3)."""
        return _LOGGED_MODEL_NUMBERS[self]

    def to_int(self) -> int:
        """MLflow's name for ``number``."""
        return self.number

    @classmethod
    def from_int(cls, value: int) -> LoggedModelStatus:
        return cls.from_string(value)

    @staticmethod
    def is_finalized(status: str | int | LoggedModelStatus) -> bool:
        """Whether no further status change is expected (READY or FAILED)."""
        final = LoggedModelStatus.from_string(status)
        return final in (LoggedModelStatus.READY, LoggedModelStatus.FAILED)

    @classmethod
    def from_string(cls, value: str | int | LoggedModelStatus) -> LoggedModelStatus:
        """Parse a short name (``READY``; any case), a wire name or a wire number."""
        if isinstance(value, int) and not isinstance(value, bool):
            for status, number in _LOGGED_MODEL_NUMBERS.items():
                if number == value:
                    return status
        elif isinstance(value, str):
            key = value.strip().upper()
            if key.isdigit():
                return cls.from_string(int(key))
            found = _LOGGED_MODEL_BY_NAME.get(key)
            if found is not None:
                return found
        allowed = ", ".join(cls.__members__)
        raise InvalidParameter(f"Invalid logged model status {value!r}: expected one of {allowed}.")

    @staticmethod
    def to_string(value: str | int | LoggedModelStatus) -> str:
        """The wire name of any spelling of a status."""
        return LoggedModelStatus.from_string(value).wire_name


_LOGGED_MODEL_WIRE_NAMES = {
    LoggedModelStatus.UNSPECIFIED: "LOGGED_MODEL_STATUS_UNSPECIFIED",
    LoggedModelStatus.PENDING: "LOGGED_MODEL_PENDING",
    LoggedModelStatus.READY: "LOGGED_MODEL_READY",
    LoggedModelStatus.FAILED: "LOGGED_MODEL_UPLOAD_FAILED",
}
_LOGGED_MODEL_NUMBERS = {
    LoggedModelStatus.UNSPECIFIED: 0,
    LoggedModelStatus.PENDING: 1,
    LoggedModelStatus.READY: 2,
    LoggedModelStatus.FAILED: 3,
}
_LOGGED_MODEL_BY_NAME = {
    **{status.value: status for status in LoggedModelStatus},
    **{wire: status for status, wire in _LOGGED_MODEL_WIRE_NAMES.items()},
    "UPLOAD_FAILED": LoggedModelStatus.FAILED,
}
