"""Migrations build exactly the schema of ``tables.py``, and each dialect's schema is pinned.

If a golden file differs after an intended schema change, add a migration, then regenerate:

    WAYLINE_REGENERATE_GOLDEN=1 .venv/bin/pytest tests/schema
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, create_engine, inspect

from wayline.store.sql import tables
from wayline.store.sql.migrate import upgrade
from wayline.store.sql.store import SqlStore

GOLDEN = Path(__file__).parent / "golden"
REGENERATE = "WAYLINE_REGENERATE_GOLDEN=1 .venv/bin/pytest tests/schema"


def describe(engine: Engine) -> dict[str, Any]:
    """A dialect's view of the schema, normalised for comparison (sorted, names as strings)."""
    inspector = inspect(engine)
    schema: dict[str, Any] = {}
    for table in sorted(inspector.get_table_names()):
        schema[table] = {
            "columns": [
                [col["name"], str(col["type"]), col["nullable"]]
                for col in inspector.get_columns(table)
            ],
            "primary_key": inspector.get_pk_constraint(table)["constrained_columns"],
            "indexes": sorted(
                [ix["name"] or "", list(ix["column_names"]), bool(ix["unique"])]
                for ix in inspector.get_indexes(table)
            ),
            "foreign_keys": sorted(
                [
                    list(fk["constrained_columns"]),
                    fk["referred_table"],
                    fk["options"].get("ondelete"),
                ]
                for fk in inspector.get_foreign_keys(table)
            ),
        }
    return schema


def _by_store(uri: str) -> None:
    SqlStore(uri).close()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql", "mysql"])
@pytest.mark.parametrize(
    "build",
    [pytest.param(upgrade, id="migrations"), pytest.param(_by_store, id="store-start")],
)
def test_migrated_schema_matches_golden_and_tables(
    backend: str, build: Callable[[str], object], make_database: Callable[[str], str]
) -> None:
    # The migrations (`wayline db upgrade`) and a store's first start on an empty database
    # (tables.py directly) must build the same schema.
    uri = make_database(backend)
    build(uri)
    engine = create_engine(uri)
    try:
        with engine.connect() as connection:
            drift = compare_metadata(MigrationContext.configure(connection), tables.metadata)
        schema = describe(engine)
    finally:
        engine.dispose()
    assert not drift, f"migrations and tables.py disagree: {drift}; add a migration"

    golden = GOLDEN / f"{backend}.json"
    rendered = json.dumps(schema, indent=1, sort_keys=True) + "\n"
    if os.environ.get("WAYLINE_REGENERATE_GOLDEN"):
        golden.write_text(rendered)
    assert golden.exists(), f"no golden schema for {backend}; create it with: {REGENERATE}"
    assert json.loads(golden.read_text()) == schema, (
        f"the {backend} schema changed; if intended, regenerate with: {REGENERATE}"
    )
