"""Where the fluent API and ``Client`` send their calls, and the environment they read.

Every environment variable the tracking layer honours is read here, in ``env``, so the list of
knobs is in one place. The tracking URI is resolved in this order: the URI given to
``set_tracking_uri``, ``WAYLINE_TRACKING_URI``, ``MLFLOW_TRACKING_URI`` (for drop-in use), and
finally ``sqlite:///wayline.db`` in the working directory.
"""

from __future__ import annotations

import os

DEFAULT_TRACKING_URI = "sqlite:///wayline.db"

# Names of every environment variable the tracking layer reads.
TRACKING_URI_VARS = ("WAYLINE_TRACKING_URI", "MLFLOW_TRACKING_URI")
EXPERIMENT_NAME_VAR = "MLFLOW_EXPERIMENT_NAME"
EXPERIMENT_ID_VAR = "MLFLOW_EXPERIMENT_ID"
RUN_ID_VAR = "MLFLOW_RUN_ID"
ASYNC_LOGGING_VAR = "MLFLOW_ENABLE_ASYNC_LOGGING"

_explicit_uri: str | None = None


def env(name: str) -> str | None:
    """The value of one of the variables above, None when unset or empty."""
    value = os.environ.get(name)
    return value or None


def env_flag(name: str) -> bool:
    """A boolean variable: ``true``/``1``/``yes`` (any case) mean on."""
    value = os.environ.get(name)
    return value is not None and value.strip().lower() in ("true", "1", "yes", "on")


_async_default: bool | None = None


def async_logging_default() -> bool:
    """``MLFLOW_ENABLE_ASYNC_LOGGING``, read on first use: it is consulted on every log call,
    and an environment lookup would cost as much as the rest of that call."""
    global _async_default  # noqa: PLW0603 - a cache of the environment
    if _async_default is None:
        _async_default = env_flag(ASYNC_LOGGING_VAR)
    return _async_default


def set_tracking_uri(uri: str | os.PathLike[str] | None) -> None:
    """Send all later calls to ``uri``; None returns to the environment or the default.

    A plain path is read as a SQLite database file.

    Example::

        import wayline
        wayline.set_tracking_uri("sqlite:///experiments.db")
    """
    global _explicit_uri  # noqa: PLW0603 - the fluent API's process-wide setting, as in MLflow
    _explicit_uri = None if uri is None else _normalise(os.fspath(uri))


def get_tracking_uri() -> str:
    """The URI calls go to now (see the module docstring for the order of resolution).

    Example::

        import wayline
        print(wayline.get_tracking_uri())  # sqlite:///wayline.db unless configured
    """
    if _explicit_uri is not None:
        return _explicit_uri
    for name in TRACKING_URI_VARS:
        value = os.environ.get(name)
        if value:
            return _normalise(value)
    return DEFAULT_TRACKING_URI


def is_tracking_uri_set() -> bool:
    """True when a URI was set explicitly or through the environment.

    Example::

        if not wayline.is_tracking_uri_set():
            print("logging to ./wayline.db")
    """
    return _explicit_uri is not None or any(env(name) for name in TRACKING_URI_VARS)


def _normalise(uri: str) -> str:
    # A bare filesystem path (no scheme) is a SQLite file, so `set_tracking_uri("runs.db")` works.
    if "://" in uri or uri.startswith(("sqlite:", "file:", "databricks")):
        return uri
    if uri.endswith((".db", ".sqlite", ".sqlite3")):
        return "sqlite:///" + os.path.abspath(os.path.expanduser(uri))
    return uri
