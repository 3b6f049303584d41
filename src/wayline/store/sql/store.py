"""``SqlStore``: the tracking and registry store on SQLite, PostgreSQL or MySQL/MariaDB.

The class only composes the parts; each family of operations lives in its own module
(experiments, runs, values and metrics, inputs, logged models, registered models, model
versions, the registry's audit trail, webhooks, traces and their assessments) as a mixin over
``SqlBase``.
"""

from __future__ import annotations

from typing import Any

from wayline.store.backend import Store
from wayline.store.sql.audit import AuditMixin
from wayline.store.sql.experiments import ExperimentsMixin
from wayline.store.sql.inputs import InputsMixin
from wayline.store.sql.logged_models import LoggedModelsMixin
from wayline.store.sql.model_versions import ModelVersionsMixin
from wayline.store.sql.registry import RegisteredModelsMixin
from wayline.store.sql.runs import RunsMixin
from wayline.store.sql.traces import SqlTraceStore
from wayline.store.sql.values import ValuesMixin
from wayline.store.traces import TraceStore


class SqlStore(
    ExperimentsMixin,
    RunsMixin,
    ValuesMixin,
    InputsMixin,
    LoggedModelsMixin,
    RegisteredModelsMixin,
    ModelVersionsMixin,
    AuditMixin,
    SqlTraceStore,
    Store,
    TraceStore,
):
    """Tracking, registry and trace store on a SQL database.

    ``db_uri`` is a SQLAlchemy URL (``sqlite:///wayline.db``, ``postgresql://u@host/db``,
    ``mysql://u@host/db``); an empty database gets the schema and the Default experiment.
    ``default_artifact_root`` is where new experiments put artifacts (``<root>/<experiment_id>``),
    by default ``./wayline-artifacts`` made absolute. A run param or tag value over MLflow's
    limit (6000/8000 characters) is truncated to it, as MLflow's store does, unless
    ``truncate_long_values`` is False: then it is refused with InvalidParameter.
    ``engine_options`` go to ``sqlalchemy.create_engine`` (pool sizes, for instance).
    Registry writes are recorded in the audit trail as ``current_user()``; after they commit,
    their webhook events go to a ``WebhookDispatcher`` started on first need (``close`` stops
    it).

    Example::

        store = SqlStore("sqlite:///wayline.db")
        run = store.create_run(store.create_experiment("demo"))
        store.log_metric(run.info.run_id, Metric("loss", 0.5, timestamp=0, step=1))
    """

    def __init__(
        self,
        db_uri: str,
        default_artifact_root: str | None = None,
        *,
        truncate_long_values: bool = True,
        **engine_options: Any,
    ) -> None:
        super().__init__(
            db_uri,
            default_artifact_root,
            truncate_long_values=truncate_long_values,
            **engine_options,
        )


__all__ = ["SqlStore"]
