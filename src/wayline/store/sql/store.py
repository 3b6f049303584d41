"""``SqlStore``: the tracking store on SQLite, PostgreSQL or MySQL/MariaDB.

The class only composes the parts; each family of operations lives in its own module
(experiments, runs, values and metrics, inputs) as a mixin over ``SqlBase``.
"""

from __future__ import annotations

from typing import Any

from wayline.store.sql.experiments import ExperimentsMixin
from wayline.store.sql.inputs import InputsMixin
from wayline.store.sql.runs import RunsMixin
from wayline.store.sql.values import ValuesMixin
from wayline.store.tracking import TrackingStore


class SqlStore(ExperimentsMixin, RunsMixin, ValuesMixin, InputsMixin, TrackingStore):
    """Tracking store on a SQL database.

    ``db_uri`` is a SQLAlchemy URL (``sqlite:///wayline.db``, ``postgresql://u@host/db``,
    ``mysql://u@host/db``); an empty database gets the schema and the Default experiment.
    ``default_artifact_root`` is where new experiments put artifacts (``<root>/<experiment_id>``),
    by default ``./wayline-artifacts`` made absolute. ``engine_options`` go to
    ``sqlalchemy.create_engine`` (pool sizes, for instance).

    Example::

        store = SqlStore("sqlite:///wayline.db")
        run = store.create_run(store.create_experiment("demo"))
        store.log_metric(run.info.run_id, Metric("loss", 0.5, timestamp=0, step=1))
    """

    def __init__(
        self,
        db_uri: str,
        default_artifact_root: str | None = None,
        **engine_options: Any,
    ) -> None:
        super().__init__(db_uri, default_artifact_root, **engine_options)


__all__ = ["SqlStore"]
