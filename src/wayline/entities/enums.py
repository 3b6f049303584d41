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
