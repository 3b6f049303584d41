"""The one place that turns a tracking URI into a store.

Stores are cached per (URI, artifact root): the fluent API calls this on every operation, and
building a store means building an engine and checking the schema.
"""

from __future__ import annotations

import os
import threading

from wayline.errors import WaylineError
from wayline.store.backend import Store

_stores: dict[tuple[str, str | None], Store] = {}
_lock = threading.Lock()

_SQL_SCHEMES = ("sqlite", "postgresql", "mysql")


def tracking_store(uri: str, artifact_root: str | None = None) -> Store:
    """The store for ``uri`` (tracking and model registry), built once and then reused.

    ``sqlite:///path.db``, ``postgresql://…`` (psycopg 3) and ``mysql://…`` (PyMySQL) give a
    SQL store; ``artifact_root`` is where its new experiments keep artifacts. It truncates
    over-long run param/tag values unless ``WAYLINE_TRUNCATE_LONG_VALUES`` (or MLflow's
    ``MLFLOW_TRUNCATE_LONG_VALUES``) is false.
    ``http(s)://host:port`` gives a REST store talking to that tracking server, configured from
    ``WAYLINE_``/``MLFLOW_`` variables (``HTTP_REQUEST_TIMEOUT``, ``HTTP_REQUEST_MAX_RETRIES``,
    ``TRACKING_USERNAME``/``TRACKING_PASSWORD``, ``TRACKING_TOKEN``).

    Example::

        store = tracking_store("sqlite:///wayline.db")
        experiment = store.get_experiment("0")
    """
    key = (_normalize(uri), _absolute_root(artifact_root))
    store = _stores.get(key)
    if store is None:
        with _lock:
            store = _stores.get(key)
            if store is None:
                store = _build(key[0], key[1])
                _stores[key] = store
    return store


def clear_cache() -> None:
    """Forget cached stores and close their connections (tests, fork, URI changes)."""
    with _lock:
        stores = list(_stores.values())
        _stores.clear()
    for store in stores:
        store.close()


def _scheme(uri: str) -> str:
    head, sep, _ = uri.partition(":")
    return head.split("+", 1)[0].lower() if sep else ""


def _normalize(uri: str) -> str:
    uri = uri.strip()
    if uri.startswith("postgres://"):  # the spelling Heroku and others hand out
        uri = "postgresql://" + uri[len("postgres://") :]
    prefix = "sqlite:///"
    if uri.startswith(prefix):
        path, sep, query = uri[len(prefix) :].partition("?")
        if path and path != ":memory:" and not path.startswith("file:"):
            uri = prefix + os.path.abspath(path) + sep + query
    return uri


def _absolute_root(root: str | None) -> str | None:
    # A relative root means "relative to where the store was first used".
    if root is None or "://" in root or ":" in root.split("/", 1)[0]:
        return root
    return os.path.abspath(os.path.expanduser(root))


def _build(uri: str, artifact_root: str | None) -> Store:
    scheme = _scheme(uri)
    if scheme in _SQL_SCHEMES:
        from wayline.store.sql.store import SqlStore
        from wayline.validation import truncate_long_values_from_env

        truncate = truncate_long_values_from_env(os.environ)  # read once, as the store is built
        return SqlStore(uri, artifact_root, truncate_long_values=truncate)
    if scheme in ("http", "https"):
        from wayline.store.rest import RestStore, rest_settings_from_env

        # The environment is read once, here, when the store is built (timeouts, retries, auth).
        return RestStore(uri, rest_settings_from_env(os.environ))
    raise WaylineError(
        f"Unsupported tracking URI {uri!r}. Use sqlite:///path/to/wayline.db,"
        " postgresql://user@host/db, mysql://user@host/db or http(s)://host:port."
    )


__all__ = ["clear_cache", "tracking_store"]
