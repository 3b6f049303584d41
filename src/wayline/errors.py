"""Wayline's errors: one small tree, each class carrying MLflow's ``error_code``.

    WaylineError                 INTERNAL_ERROR (or any code given explicitly)
    ├── InvalidParameter         INVALID_PARAMETER_VALUE   400
    ├── NotFound                 RESOURCE_DOES_NOT_EXIST   404
    ├── AlreadyExists            RESOURCE_ALREADY_EXISTS   400 (MLflow's status, not 409)
    ├── PermissionDenied         PERMISSION_DENIED         403
    ├── InvalidState             INVALID_STATE             500
    └── TemporarilyUnavailable   TEMPORARILY_UNAVAILABLE   503 (clients retry it)

``HTTP_STATUS`` is the one table from error codes to HTTP statuses; the server renders every
WaylineError as ``{"error_code": ..., "message": ...}`` with that status and the REST client turns
such a body back into the matching class with ``from_error_code``.
"""

from __future__ import annotations

from typing import ClassVar

HTTP_STATUS: dict[str, int] = {
    "INVALID_PARAMETER_VALUE": 400,
    "BAD_REQUEST": 400,
    "MALFORMED_REQUEST": 400,
    "RESOURCE_ALREADY_EXISTS": 400,
    "CUSTOMER_UNAUTHORIZED": 401,
    "UNAUTHENTICATED": 401,
    "PERMISSION_DENIED": 403,
    "RESOURCE_DOES_NOT_EXIST": 404,
    "ENDPOINT_NOT_FOUND": 404,
    "NOT_FOUND": 404,
    "ABORTED": 409,
    "RESOURCE_CONFLICT": 409,
    "ALREADY_EXISTS": 409,
    "REQUEST_LIMIT_EXCEEDED": 429,
    "RESOURCE_EXHAUSTED": 429,
    "CANCELLED": 499,
    "INTERNAL_ERROR": 500,
    "INVALID_STATE": 500,
    "DATA_LOSS": 500,
    "NOT_IMPLEMENTED": 501,
    "TEMPORARILY_UNAVAILABLE": 503,
    "DEADLINE_EXCEEDED": 504,
}


class WaylineError(Exception):
    """Base of every error Wayline raises on purpose."""

    default_code: ClassVar[str] = "INTERNAL_ERROR"

    def __init__(self, message: str, error_code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.error_code = error_code or self.default_code

    @property
    def http_status(self) -> int:
        return http_status(self.error_code)

    def to_dict(self) -> dict[str, str]:
        return {"error_code": self.error_code, "message": self.message}

    @staticmethod
    def from_error_code(error_code: str, message: str) -> WaylineError:
        """The most specific error class for ``error_code``."""
        for cls in _SUBCLASSES:
            if cls.default_code == error_code:
                return cls(message)
        return WaylineError(message, error_code)


class InvalidParameter(WaylineError):
    """The request is malformed or a value breaks a rule; the message says which."""

    default_code = "INVALID_PARAMETER_VALUE"


class NotFound(WaylineError):
    default_code = "RESOURCE_DOES_NOT_EXIST"


class AlreadyExists(WaylineError):
    default_code = "RESOURCE_ALREADY_EXISTS"


class PermissionDenied(WaylineError):
    default_code = "PERMISSION_DENIED"


class InvalidState(WaylineError):
    default_code = "INVALID_STATE"


class TemporarilyUnavailable(WaylineError):
    """The database is busy or unreachable for now; the same request may succeed later.

    Raised for a locked SQLite file, a dropped or refused server connection, a deadlock or an
    exhausted connection pool. MLflow's client retries 503 answers with backoff.
    """

    default_code = "TEMPORARILY_UNAVAILABLE"


_SUBCLASSES: tuple[type[WaylineError], ...] = (
    InvalidParameter,
    NotFound,
    AlreadyExists,
    PermissionDenied,
    InvalidState,
    TemporarilyUnavailable,
)


def http_status(error_code: str) -> int:
    """HTTP status for an error code; unknown codes are server errors (500)."""
    return HTTP_STATUS.get(error_code, 500)


# Drop-in name for code written against MLflow (`except mlflow.exceptions.MlflowException`).
MlflowException = WaylineError

__all__ = [
    "HTTP_STATUS",
    "AlreadyExists",
    "InvalidParameter",
    "InvalidState",
    "MlflowException",
    "NotFound",
    "PermissionDenied",
    "TemporarilyUnavailable",
    "WaylineError",
    "http_status",
]
