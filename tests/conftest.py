"""Service fixtures for the whole test tree: a fresh, empty database per test on every backend.

* ``sqlite_uri``: a SQLite file in the test's ``tmp_path``.
* ``postgresql_uri`` / ``mysql_uri``: a uniquely named database (``wl_<hex>``) created on the
  local PostgreSQL / MariaDB server for this test and dropped after it.
* ``make_database(backend)``: the factory behind them, for a test that needs several databases;
  ``make_session_database(backend)``: the same for databases kept until the session ends.

The servers are found through ``WAYLINE_TEST_POSTGRES_URI`` and ``WAYLINE_TEST_MYSQL_URI`` (each
pointing at an admin database the tests may connect to), probed once per session. When a server is
unreachable its tests are skipped with one line saying how to start it, or fail when the ``CI``
environment variable is set, so CI never passes by skipping. Tests that use these fixtures get the
``postgresql`` / ``mysql`` marker automatically, so ``-m "not mysql"`` deselects them.

* ``fluent_db``: the fluent API of this process pointed at a fresh SQLite database.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool


@dataclass(frozen=True)
class Service:
    """A database server the tests can use."""

    label: str
    env_var: str
    default_uri: str
    start_command: str
    drop_statement: str  # formatted with the database name

    @property
    def admin_uri(self) -> str:
        return os.environ.get(self.env_var) or self.default_uri

    def database_uri(self, database: str) -> str:
        return make_url(self.admin_uri).set(database=database).render_as_string(hide_password=False)


SERVICES: dict[str, Service] = {
    "postgresql": Service(
        label="PostgreSQL",
        env_var="WAYLINE_TEST_POSTGRES_URI",
        default_uri="postgresql+psycopg://postgres@127.0.0.1:5432/test",
        start_command="pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start",
        drop_statement='DROP DATABASE IF EXISTS "{}" WITH (FORCE)',
    ),
    "mysql": Service(
        label="MariaDB/MySQL",
        env_var="WAYLINE_TEST_MYSQL_URI",
        default_uri="mysql+pymysql://root@127.0.0.1:3306/test",
        start_command="start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd",
        drop_statement="DROP DATABASE IF EXISTS `{}`",
    ),
}

_CONNECT_TIMEOUT_S = 2
_probe_results = pytest.StashKey[dict[str, str | None]]()


def _admin_engine(service: Service) -> Engine:
    """An engine on the admin database that holds no connection between uses."""
    return create_engine(
        service.admin_uri,
        poolclass=NullPool,
        isolation_level="AUTOCOMMIT",
        connect_args={"connect_timeout": _CONNECT_TIMEOUT_S},
    )


def _probe(service: Service) -> str | None:
    """None when the server answers, else why not (one line)."""
    engine = _admin_engine(service)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:  # any failure to connect means "unavailable"
        cause = getattr(exc, "orig", None) or exc  # the driver's error, without SQLAlchemy's frame
        first_line = (str(cause).strip().splitlines() or [type(cause).__name__])[0]
        return first_line[:200]
    finally:
        engine.dispose()
    return None


def require_service(config: pytest.Config, name: str) -> None:
    """Skip the current test (fail it under CI) when service ``name`` is unreachable."""
    results = config.stash.setdefault(_probe_results, {})
    if name not in results:
        results[name] = _probe(SERVICES[name])
    problem = results[name]
    if problem is None:
        return
    service = SERVICES[name]
    where = make_url(service.admin_uri).set(password=None).render_as_string()
    message = (
        f"{service.label} unreachable at {where} ({problem}); start it with "
        f"`{service.start_command}` or point {service.env_var} at a server"
    )
    if os.environ.get("CI"):
        pytest.fail(f"{message} (CI is set, so this is an error, not a skip)", pytrace=False)
    pytest.skip(message)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark tests that use a server's database fixture with that server's marker."""
    for item in items:
        names = getattr(item, "fixturenames", ())
        for service in SERVICES:
            if f"{service}_uri" in names:
                item.add_marker(getattr(pytest.mark, service))


def pytest_runtest_setup(item: pytest.Item) -> None:
    for service in SERVICES:
        if item.get_closest_marker(service) is not None:
            require_service(item.config, service)


class Databases:
    """Creates uniquely named databases (``wl_<hex>``) and drops them all in ``drop_all``."""

    def __init__(self, config: pytest.Config, directory: Path) -> None:
        self._config = config
        self._directory = directory
        self._created: list[tuple[Service, str]] = []

    def create(self, backend: str) -> str:
        """The URI of a new empty database on ``backend`` ("sqlite", "postgresql", "mysql")."""
        database = f"wl_{uuid.uuid4().hex[:16]}"
        if backend == "sqlite":
            return f"sqlite:///{self._directory / f'{database}.db'}"
        require_service(self._config, backend)
        service = SERVICES[backend]
        engine = _admin_engine(service)
        try:
            with engine.connect() as connection:
                connection.execute(text(f"CREATE DATABASE {database}"))
        finally:
            engine.dispose()
        self._created.append((service, database))
        return service.database_uri(database)

    def drop_all(self) -> None:
        while self._created:
            service, database = self._created.pop()
            engine = _admin_engine(service)
            try:
                with engine.connect() as connection:
                    connection.execute(text(service.drop_statement.format(database)))
            finally:
                engine.dispose()


@pytest.fixture
def make_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[str], str]]:
    """Factory: ``make_database("sqlite" | "postgresql" | "mysql")`` -> URI of a new empty database.

    Server databases are dropped when the test ends (after the fixtures that use them have
    closed their connections).
    """
    databases = Databases(request.config, tmp_path)
    yield databases.create
    databases.drop_all()


@pytest.fixture(scope="session")
def make_session_database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[[str], str]]:
    """Like ``make_database``, for databases that live until the end of the session."""
    databases = Databases(request.config, tmp_path_factory.mktemp("databases"))
    yield databases.create
    databases.drop_all()


@pytest.fixture
def sqlite_uri(make_database: Callable[[str], str]) -> str:
    return make_database("sqlite")


@pytest.fixture
def postgresql_uri(make_database: Callable[[str], str]) -> str:
    return make_database("postgresql")


@pytest.fixture
def mysql_uri(make_database: Callable[[str], str]) -> str:
    return make_database("mysql")


@pytest.fixture
def fluent_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Point this process's fluent API at a fresh SQLite database in tmp_path (no active
    experiment, run or model); restore the state after."""
    from tracking._support import TRACKING_ENV
    from wayline.tracking import fluent, fluent_models, uri

    for name in TRACKING_ENV:
        monkeypatch.delenv(name, raising=False)
    db_uri = f"sqlite:///{tmp_path / 'fluent.db'}"
    uri.set_tracking_uri(db_uri)
    monkeypatch.setattr(fluent, "_active_experiment_id", None)
    monkeypatch.setattr(fluent, "_last_active_run_id", None)
    monkeypatch.setattr(fluent_models, "_active_model_id", None)
    try:
        yield db_uri
    finally:
        while fluent.active_run() is not None:
            fluent.end_run()
        uri.set_tracking_uri(None)
