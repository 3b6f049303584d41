"""Alembic environment: runs migrations on the connection Wayline hands over.

``wayline.store.sql.migrate`` passes an open connection (already holding the migration lock and,
on SQLite and PostgreSQL, a transaction) in ``config.attributes["connection"]``. Without one, as
when a developer runs Alembic by hand to autogenerate a revision, it connects to
``sqlalchemy.url``.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from wayline.store.sql.tables import metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        compare_type=True,
        # SQLite cannot ALTER most things; batch mode rebuilds tables instead.
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def _main() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    from wayline.store.sql.engine import build_engine

    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("Set sqlalchemy.url or pass a connection in config.attributes.")
    engine = build_engine(url)
    try:
        with engine.begin() as conn:
            _run(conn)
    finally:
        engine.dispose()


_main()
