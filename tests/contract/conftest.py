"""The contract suite's fixtures: every test runs once per store backend (tracking + registry).

A backend is a fixture named ``<backend>_opener`` returning a no-argument callable that opens a
new store on the test's own (fresh) database; ``make_store`` calls it and closes what it opened.
To add a backend (e.g. ``rest``): write a ``rest_opener`` fixture below (start the app on a SQL
store, return a callable building a client store pointed at it) and add ``"rest"`` to
``ALL_BACKENDS``. Backends needing a server get its marker in ``_MARKS``.

Fixtures:
* ``backend`` -- the backend name (parametrized over ``ALL_BACKENDS``).
* ``make_store()`` -- a new store on this test's database (call twice for two clients).
* ``store`` -- the first store; ``make_experiment`` / ``make_run`` build entities in it.
* ``sql_backend`` / ``make_sql_store`` / ``sql_store`` -- the same, over the SQL backends only.
* ``artifact_root`` -- the artifact root the stores are configured with.
* ``refusing_store`` -- a store on the same database that refuses over-long param/tag values
  (``truncate_long_values=False``) instead of truncating them.
* ``<backend>_database`` -- the URI of the test's database on a SQL backend, in the state of a
  fresh one (see ``ReusableDatabase``).
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Callable, Iterator, Sequence

import pytest
from sqlalchemy import ColumnElement, MetaData, Table, and_, create_engine, false, or_, select

from wayline.entities import ExperimentTag, Run, RunTag
from wayline.store.backend import Store

from ._support import StoreFactory, close_store

SQL_BACKENDS = ("sqlite", "postgresql", "mysql")
ALL_BACKENDS = (*SQL_BACKENDS, "rest")
_MARKS = {"postgresql": pytest.mark.postgresql, "mysql": pytest.mark.mysql}


def _params(names: Sequence[str]) -> list[object]:
    return [pytest.param(name, id=name, marks=_MARKS.get(name, ())) for name in names]


@pytest.fixture(scope="session")
def artifact_root(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Where stores put artifacts: one root per session, so reused databases stay valid."""
    return (tmp_path_factory.mktemp("artifacts")).as_uri()


# ---------------------------------------------------------------- databases
# A new server database per test costs ~0.5 s here (CREATE DATABASE, schema, DROP), which would
# dominate the suite; so each server backend gets one database per session, put back before every
# test into the state a store leaves in an empty database (schema plus the Default experiment).
# WAYLINE_TEST_FRESH_DATABASES=1 gives every test a brand-new database instead.
FRESH_DATABASES = os.environ.get("WAYLINE_TEST_FRESH_DATABASES", "") not in ("", "0")


class ReusableDatabase:
    """A database whose rows can be reset to those a store wrote when it created the schema."""

    def __init__(self, uri: str, open_store: StoreFactory) -> None:
        self.uri = uri
        close_store(open_store())  # creates the schema and the Default experiment
        self._engine = create_engine(uri)
        reflected = MetaData()
        reflected.reflect(self._engine)
        self._tables = [t for t in reflected.sorted_tables if t.name != "alembic_version"]
        with self._engine.connect() as connection:
            self._seed = {
                table.name: [dict(row._mapping) for row in connection.execute(select(table))]
                for table in self._tables
            }

    def reset(self) -> str:
        """Delete every row the previous test wrote, restore the seed rows; return the URI."""
        with self._engine.begin() as connection:
            for table in reversed(self._tables):
                connection.execute(table.delete().where(~self._is_seed(table)))
            for table in self._tables:
                key = table.primary_key.columns
                for row in self._seed[table.name]:
                    match = and_(*(column == row[column.name] for column in key))
                    connection.execute(table.update().where(match).values(row))
        return self.uri

    def _is_seed(self, table: Table) -> ColumnElement[bool]:
        key = list(table.primary_key.columns)
        rows = self._seed[table.name]
        if not rows or not key:
            return false()
        return or_(*(and_(*(column == row[column.name] for column in key)) for row in rows))

    def dispose(self) -> None:
        self._engine.dispose()


@pytest.fixture(scope="session")
def reusable_database(
    make_session_database: Callable[[str], str], artifact_root: str
) -> Iterator[Callable[[str], ReusableDatabase]]:
    """Factory: the session's reusable database on a server backend (created on first use)."""
    databases: dict[str, ReusableDatabase] = {}

    def get(backend: str) -> ReusableDatabase:
        if backend not in databases:
            uri = make_session_database(backend)
            databases[backend] = ReusableDatabase(uri, _sql_opener(uri, artifact_root))
        return databases[backend]

    yield get
    for database in databases.values():
        database.dispose()


def _server_database(request: pytest.FixtureRequest, backend: str) -> str:
    if FRESH_DATABASES:
        uri: str = request.getfixturevalue(f"{backend}_uri")
        return uri
    reusable: Callable[[str], ReusableDatabase] = request.getfixturevalue("reusable_database")
    return reusable(backend).reset()


@pytest.fixture
def sqlite_database(sqlite_uri: str) -> str:
    return sqlite_uri  # a new file per test costs next to nothing


@pytest.fixture
def postgresql_database(request: pytest.FixtureRequest) -> str:
    return _server_database(request, "postgresql")


@pytest.fixture
def mysql_database(request: pytest.FixtureRequest) -> str:
    return _server_database(request, "mysql")


# ---------------------------------------------------------------- backends
def _sql_opener(uri: str, artifact_root: str, *, truncate_long_values: bool = True) -> StoreFactory:
    # SqlStore itself, not the cached ``tracking_store``: each call must give a separate store.
    from wayline.store.sql.store import SqlStore

    return lambda: SqlStore(uri, artifact_root, truncate_long_values=truncate_long_values)


@pytest.fixture
def sqlite_opener(sqlite_database: str, artifact_root: str) -> StoreFactory:
    return _sql_opener(sqlite_database, artifact_root)


@contextlib.contextmanager
def _rest_store_factory(
    database: str, artifact_root: str, *, truncate_long_values: bool = True
) -> Iterator[StoreFactory]:
    """RestStores talking to a live Wayline server (uvicorn) on ``database``."""
    from servers import live_server
    from wayline.server.app import create_app
    from wayline.server.settings import ServerSettings
    from wayline.store.rest import RestSettings, RestStore

    settings = ServerSettings(
        backend_store_uri=database,
        default_artifact_root=artifact_root,
        truncate_long_values=truncate_long_values,
    )
    with live_server(create_app(settings)) as url:
        # No retries: a failing call must fail the test at once, not after backoff.
        yield lambda: RestStore(url, RestSettings(max_retries=0))


@pytest.fixture
def rest_opener(sqlite_database: str, artifact_root: str) -> Iterator[StoreFactory]:
    """A RestStore talking to a live Wayline server (uvicorn) on a fresh SQLite store."""
    with _rest_store_factory(sqlite_database, artifact_root) as factory:
        yield factory


@pytest.fixture
def postgresql_opener(postgresql_database: str, artifact_root: str) -> StoreFactory:
    return _sql_opener(postgresql_database, artifact_root)


@pytest.fixture
def mysql_opener(mysql_database: str, artifact_root: str) -> StoreFactory:
    return _sql_opener(mysql_database, artifact_root)


def _store_factory(request: pytest.FixtureRequest, backend: str) -> Iterator[StoreFactory]:
    opener: StoreFactory = request.getfixturevalue(f"{backend}_opener")
    opened: list[Store] = []

    def make_store() -> Store:
        store = opener()
        opened.append(store)
        return store

    yield make_store
    for store in reversed(opened):
        close_store(store)


@pytest.fixture(params=_params(ALL_BACKENDS))
def backend(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture
def make_store(request: pytest.FixtureRequest, backend: str) -> Iterator[StoreFactory]:
    yield from _store_factory(request, backend)


@pytest.fixture
def store(make_store: StoreFactory) -> Store:
    return make_store()


@pytest.fixture(params=_params(SQL_BACKENDS))
def sql_backend(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture
def make_sql_store(request: pytest.FixtureRequest, sql_backend: str) -> Iterator[StoreFactory]:
    yield from _store_factory(request, sql_backend)


@pytest.fixture
def sql_store(make_sql_store: StoreFactory) -> Store:
    return make_sql_store()


@pytest.fixture
def refusing_store(
    request: pytest.FixtureRequest, backend: str, store: Store, artifact_root: str
) -> Iterator[Store]:
    """A second store on ``store``'s database, built with ``truncate_long_values=False``."""
    database: str = request.getfixturevalue(
        f"{'sqlite' if backend == 'rest' else backend}_database"
    )
    with contextlib.ExitStack() as stack:
        if backend == "rest":
            opener = stack.enter_context(
                _rest_store_factory(database, artifact_root, truncate_long_values=False)
            )
        else:
            opener = _sql_opener(database, artifact_root, truncate_long_values=False)
        refusing = opener()
        stack.callback(close_store, refusing)
        yield refusing


@pytest.fixture
def make_experiment(store: Store) -> Callable[..., str]:
    """Factory: create an experiment (unique name unless given) in ``store``; returns its id."""

    def make(
        name: str | None = None,
        tags: dict[str, str] | None = None,
        artifact_location: str | None = None,
    ) -> str:
        return store.create_experiment(
            name or f"exp-{uuid.uuid4().hex[:10]}",
            artifact_location=artifact_location,
            tags=[ExperimentTag(k, v) for k, v in (tags or {}).items()],
        )

    return make


@pytest.fixture
def make_run(store: Store, make_experiment: Callable[..., str]) -> Callable[..., Run]:
    """Factory: create a run in ``store`` (in a new experiment unless one is given)."""

    def make(
        experiment_id: str | None = None,
        *,
        run_name: str | None = None,
        start_time: int | None = 1_700_000_000_000,
        user_id: str | None = "tester",
        tags: dict[str, str] | None = None,
    ) -> Run:
        return store.create_run(
            experiment_id if experiment_id is not None else make_experiment(),
            user_id=user_id,
            start_time=start_time,
            tags=[RunTag(k, v) for k, v in (tags or {}).items()],
            run_name=run_name,
        )

    return make
