"""Initial schema: experiments, runs, metrics (history and latest), params, tags, datasets.

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None

MYSQL: dict[str, Any] = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin"}
CLUSTERED: dict[str, Any] = {**MYSQL, "sqlite_with_rowid": False}
DOUBLE = sa.Float(precision=53).with_variant(mysql.DOUBLE(asdecimal=False), "mysql")
MEDIUMTEXT = sa.Text().with_variant(mysql.MEDIUMTEXT(), "mysql")
LONGTEXT = sa.Text().with_variant(mysql.LONGTEXT(), "mysql")


def _run_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["run_id"], ["runs.run_id"], name=op.f(f"fk_{table}_run_id_runs"), ondelete="CASCADE"
    )


def _experiment_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["experiment_id"],
        ["experiments.experiment_id"],
        name=op.f(f"fk_{table}_experiment_id_experiments"),
        ondelete="CASCADE",
    )


def _index(table: str, *columns: str, unique: bool = False, **kw: Any) -> None:
    name = op.f(f"ix_{table}_{'_'.join(columns)}")
    op.create_index(name, table, list(columns), unique=unique, **kw)


def upgrade() -> None:
    _experiments()
    _runs()
    _values()
    _datasets()


def _experiments() -> None:
    op.create_table(
        "experiments",
        sa.Column("experiment_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("artifact_location", sa.String(length=2000), nullable=False),
        sa.Column("lifecycle_stage", sa.String(length=20), nullable=False),
        sa.Column("creation_time", sa.BigInteger(), nullable=False),
        sa.Column("last_update_time", sa.BigInteger(), nullable=False),
        sa.Column("deleted_time", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("experiment_id", name=op.f("pk_experiments")),
        sa.UniqueConstraint("name", name=op.f("uq_experiments_name")),
        sqlite_autoincrement=True,
        **MYSQL,
    )
    _index("experiments", "last_update_time")
    _index("experiments", "lifecycle_stage", "creation_time")
    op.create_table(
        "experiment_tags",
        sa.Column("experiment_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=250), nullable=False),
        sa.Column("value", MEDIUMTEXT, nullable=False),
        _experiment_fk("experiment_tags"),
        sa.PrimaryKeyConstraint("experiment_id", "key", name=op.f("pk_experiment_tags")),
        **CLUSTERED,
    )


def _runs() -> None:
    op.create_table(
        "runs",
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("experiment_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=250), nullable=False),
        sa.Column("user_id", sa.String(length=256), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("start_time", sa.BigInteger(), nullable=False),
        sa.Column("end_time", sa.BigInteger(), nullable=True),
        sa.Column("lifecycle_stage", sa.String(length=20), nullable=False),
        sa.Column("artifact_uri", sa.String(length=2000), nullable=False),
        sa.Column("deleted_time", sa.BigInteger(), nullable=True),
        _experiment_fk("runs"),
        sa.PrimaryKeyConstraint("run_id", name=op.f("pk_runs")),
        **MYSQL,
    )
    _index("runs", "end_time")
    _index("runs", "experiment_id", "lifecycle_stage", "start_time")
    _index("runs", "lifecycle_stage", "deleted_time")
    _index("runs", "name")
    _index("runs", "status")
    _index("runs", "user_id")


def _values() -> None:
    op.create_table(
        "metric_history",
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=250), nullable=False),
        sa.Column("step", sa.BigInteger(), nullable=False),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.Column("value", DOUBLE, nullable=False),
        sa.Column("is_nan", sa.Boolean(), nullable=False),
        _run_fk("metric_history"),
        sa.PrimaryKeyConstraint(
            "run_id", "key", "step", "timestamp", "value", "is_nan", name=op.f("pk_metric_history")
        ),
        **CLUSTERED,
    )
    op.create_table(
        "latest_metrics",
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=250), nullable=False),
        sa.Column("value", DOUBLE, nullable=False),
        sa.Column("is_nan", sa.Boolean(), nullable=False),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.Column("step", sa.BigInteger(), nullable=False),
        _run_fk("latest_metrics"),
        sa.PrimaryKeyConstraint("run_id", "key", name=op.f("pk_latest_metrics")),
        **CLUSTERED,
    )
    _index("latest_metrics", "key", "value")
    for table, length in (("params", 6000), ("tags", 8000)):
        op.create_table(
            table,
            sa.Column("run_id", sa.String(length=32), nullable=False),
            sa.Column("key", sa.String(length=250), nullable=False),
            sa.Column("value", sa.String(length=length), nullable=False),
            _run_fk(table),
            sa.PrimaryKeyConstraint("run_id", "key", name=op.f(f"pk_{table}")),
            **CLUSTERED,
        )
        _index(table, "key", "value", mysql_length={"value": 200})


def _datasets() -> None:
    op.create_table(
        "datasets",
        sa.Column("dataset_id", sa.String(length=32), nullable=False),
        sa.Column("experiment_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("digest", sa.String(length=36), nullable=False),
        sa.Column("source_type", sa.String(length=36), nullable=False),
        sa.Column("source", MEDIUMTEXT, nullable=False),
        sa.Column("schema", MEDIUMTEXT, nullable=True),
        sa.Column("profile", LONGTEXT, nullable=True),
        _experiment_fk("datasets"),
        sa.PrimaryKeyConstraint("dataset_id", name=op.f("pk_datasets")),
        **MYSQL,
    )
    _index("datasets", "experiment_id", "name", "digest", unique=True)
    op.create_table(
        "run_inputs",
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("dataset_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["datasets.dataset_id"],
            name=op.f("fk_run_inputs_dataset_id_datasets"),
            ondelete="CASCADE",
        ),
        _run_fk("run_inputs"),
        sa.PrimaryKeyConstraint("run_id", "dataset_id", name=op.f("pk_run_inputs")),
        **CLUSTERED,
    )
    _index("run_inputs", "dataset_id")
    op.create_table(
        "input_tags",
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("dataset_id", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("value", sa.String(length=500), nullable=False),
        sa.PrimaryKeyConstraint("run_id", "dataset_id", "key", name=op.f("pk_input_tags")),
        **CLUSTERED,
    )


def downgrade() -> None:
    for table in (
        "input_tags",
        "run_inputs",
        "datasets",
        "tags",
        "params",
        "latest_metrics",
        "metric_history",
        "runs",
        "experiment_tags",
        "experiments",
    ):
        op.drop_table(table)
