"""Traces: trace infos, their tags, metadata, run links, spans and assessments.

Revision ID: 0004_traces
Revises: 0003_registry
Create Date: 2026-12-05
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0004_traces"
down_revision = "0003_registry"
branch_labels = None
depends_on = None

MYSQL: dict[str, Any] = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin"}
CLUSTERED: dict[str, Any] = {**MYSQL, "sqlite_with_rowid": False}
MEDIUMTEXT = sa.Text().with_variant(mysql.MEDIUMTEXT(), "mysql")
LONGTEXT = sa.Text().with_variant(mysql.LONGTEXT(), "mysql")
DOUBLE = sa.Float(precision=53).with_variant(mysql.DOUBLE(asdecimal=False), "mysql")
TRACE_ID = 50
TAG_VALUE = 8000


def _index(table: str, *columns: str) -> None:
    op.create_index(op.f(f"ix_{table}_{'_'.join(columns)}"), table, list(columns))


def _trace_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["trace_id"],
        ["trace_info.trace_id"],
        name=op.f(f"fk_{table}_trace_id_trace_info"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "trace_info",
        sa.Column("trace_id", sa.String(length=TRACE_ID), nullable=False),
        sa.Column("experiment_id", sa.Integer(), nullable=False),
        sa.Column("request_time", sa.BigInteger(), nullable=False),
        sa.Column("execution_time", sa.BigInteger(), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("client_request_id", sa.String(length=250), nullable=True),
        sa.Column("request_preview", MEDIUMTEXT, nullable=True),
        sa.Column("response_preview", MEDIUMTEXT, nullable=True),
        sa.ForeignKeyConstraint(
            ["experiment_id"],
            ["experiments.experiment_id"],
            name=op.f("fk_trace_info_experiment_id_experiments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("trace_id", name=op.f("pk_trace_info")),
        **MYSQL,
    )
    _index("trace_info", "experiment_id", "request_time")
    _index("trace_info", "client_request_id")
    for table in ("trace_tags", "trace_request_metadata"):
        op.create_table(
            table,
            sa.Column("trace_id", sa.String(length=TRACE_ID), nullable=False),
            sa.Column("key", sa.String(length=250), nullable=False),
            sa.Column("value", sa.String(length=TAG_VALUE), nullable=False),
            _trace_fk(table),
            sa.PrimaryKeyConstraint("trace_id", "key", name=op.f(f"pk_{table}")),
            **CLUSTERED,
        )
    op.create_table(
        "trace_runs",
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("trace_id", sa.String(length=TRACE_ID), nullable=False),
        _trace_fk("trace_runs"),
        sa.PrimaryKeyConstraint("run_id", "trace_id", name=op.f("pk_trace_runs")),
        **CLUSTERED,
    )
    _index("trace_runs", "trace_id")
    _spans_and_assessments()


def _spans_and_assessments() -> None:
    op.create_table(
        "trace_spans",
        sa.Column("trace_id", sa.String(length=TRACE_ID), nullable=False),
        sa.Column("span_id", sa.String(length=16), nullable=False),
        sa.Column("parent_span_id", sa.String(length=16), nullable=True),
        sa.Column("name", MEDIUMTEXT, nullable=False),
        sa.Column("type", sa.String(length=500), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("start_time_ns", sa.BigInteger(), nullable=False),
        sa.Column("end_time_ns", sa.BigInteger(), nullable=True),
        sa.Column("carries", sa.Integer(), nullable=False),
        sa.Column("content", LONGTEXT, nullable=False),
        _trace_fk("trace_spans"),
        sa.PrimaryKeyConstraint("trace_id", "span_id", name=op.f("pk_trace_spans")),
        **MYSQL,
    )
    _index("trace_spans", "trace_id", "start_time_ns", "span_id")
    op.create_table(
        "assessments",
        sa.Column("assessment_id", sa.String(length=50), nullable=False),
        sa.Column("trace_id", sa.String(length=TRACE_ID), nullable=False),
        sa.Column("name", sa.String(length=250), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("value", MEDIUMTEXT, nullable=True),
        sa.Column("numeric_value", DOUBLE, nullable=True),
        sa.Column("error", MEDIUMTEXT, nullable=True),
        sa.Column("rationale", MEDIUMTEXT, nullable=True),
        sa.Column("source_type", sa.String(length=30), nullable=False),
        sa.Column("source_id", sa.String(length=250), nullable=False),
        sa.Column("span_id", sa.String(length=16), nullable=True),
        sa.Column("metadata", MEDIUMTEXT, nullable=True),
        sa.Column("overrides", sa.String(length=50), nullable=True),
        sa.Column("valid", sa.Boolean(), nullable=False),
        sa.Column("create_time", sa.BigInteger(), nullable=False),
        sa.Column("last_update_time", sa.BigInteger(), nullable=False),
        _trace_fk("assessments"),
        sa.PrimaryKeyConstraint("assessment_id", name=op.f("pk_assessments")),
        **MYSQL,
    )
    _index("assessments", "trace_id", "create_time")
    _index("assessments", "kind", "name")


def downgrade() -> None:
    for table in (
        "assessments",
        "trace_spans",
        "trace_runs",
        "trace_request_metadata",
        "trace_tags",
        "trace_info",
    ):
        op.drop_table(table)
