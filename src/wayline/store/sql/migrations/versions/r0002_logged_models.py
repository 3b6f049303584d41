"""Logged models (MLflow 3): models, their tags, params and metrics, and run model links.

Revision ID: 0002_logged_models
Revises: 0001_initial
Create Date: 2026-11-28
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0002_logged_models"
down_revision = "0001_initial"
branch_labels = None
depends_on = None

MYSQL: dict[str, Any] = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin"}
CLUSTERED: dict[str, Any] = {**MYSQL, "sqlite_with_rowid": False}
DOUBLE = sa.Float(precision=53).with_variant(mysql.DOUBLE(asdecimal=False), "mysql")


def _fk(table: str, column: str, target: str, target_column: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column],
        [f"{target}.{target_column}"],
        name=op.f(f"fk_{table}_{column}_{target}"),
        ondelete="CASCADE",
    )


def _index(table: str, *columns: str, **kw: Any) -> None:
    op.create_index(op.f(f"ix_{table}_{'_'.join(columns)}"), table, list(columns), **kw)


def upgrade() -> None:
    op.create_table(
        "logged_models",
        sa.Column("model_id", sa.String(length=34), nullable=False),
        sa.Column("experiment_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("artifact_location", sa.String(length=2000), nullable=False),
        sa.Column("creation_timestamp_ms", sa.BigInteger(), nullable=False),
        sa.Column("last_updated_timestamp_ms", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=40), nullable=False),
        sa.Column("lifecycle_stage", sa.String(length=20), nullable=False),
        sa.Column("model_type", sa.String(length=500), nullable=True),
        sa.Column("source_run_id", sa.String(length=32), nullable=True),
        sa.Column("status_message", sa.String(length=1000), nullable=True),
        sa.Column("deleted_time", sa.BigInteger(), nullable=True),
        _fk("logged_models", "experiment_id", "experiments", "experiment_id"),
        sa.PrimaryKeyConstraint("model_id", name=op.f("pk_logged_models")),
        **MYSQL,
    )
    _index("logged_models", "experiment_id", "lifecycle_stage", "creation_timestamp_ms")
    for column in ("name", "model_type", "status", "source_run_id", "last_updated_timestamp_ms"):
        _index("logged_models", column)
    _index("logged_models", "lifecycle_stage", "deleted_time")
    for table, length in (("logged_model_tags", 8000), ("logged_model_params", 6000)):
        op.create_table(
            table,
            sa.Column("model_id", sa.String(length=34), nullable=False),
            sa.Column("key", sa.String(length=250), nullable=False),
            sa.Column("value", sa.String(length=length), nullable=False),
            _fk(table, "model_id", "logged_models", "model_id"),
            sa.PrimaryKeyConstraint("model_id", "key", name=op.f(f"pk_{table}")),
            **CLUSTERED,
        )
        _index(table, "key", "value", mysql_length={"value": 200})
    op.create_table(
        "logged_model_metrics",
        sa.Column("model_id", sa.String(length=34), nullable=False),
        sa.Column("point_id", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=250), nullable=False),
        sa.Column("step", sa.BigInteger(), nullable=False),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.Column("value", DOUBLE, nullable=False),
        sa.Column("is_nan", sa.Boolean(), nullable=False),
        sa.Column("run_id", sa.String(length=32), nullable=True),
        sa.Column("dataset_name", sa.String(length=500), nullable=True),
        sa.Column("dataset_digest", sa.String(length=36), nullable=True),
        _fk("logged_model_metrics", "model_id", "logged_models", "model_id"),
        sa.PrimaryKeyConstraint("model_id", "point_id", name=op.f("pk_logged_model_metrics")),
        **CLUSTERED,
    )
    _index("logged_model_metrics", "key", "model_id")
    for table, extra in (("run_model_inputs", ()), ("run_model_outputs", ("step",))):
        columns: list[sa.Column[Any]] = [
            sa.Column("run_id", sa.String(length=32), nullable=False),
            sa.Column("model_id", sa.String(length=34), nullable=False),
        ]
        columns += [sa.Column(name, sa.BigInteger(), nullable=False) for name in extra]
        op.create_table(
            table,
            *columns,
            _fk(table, "run_id", "runs", "run_id"),
            _fk(table, "model_id", "logged_models", "model_id"),
            sa.PrimaryKeyConstraint("run_id", "model_id", *extra, name=op.f(f"pk_{table}")),
            **CLUSTERED,
        )
        _index(table, "model_id")


def downgrade() -> None:
    for table in (
        "run_model_outputs",
        "run_model_inputs",
        "logged_model_metrics",
        "logged_model_params",
        "logged_model_tags",
        "logged_models",
    ):
        op.drop_table(table)
