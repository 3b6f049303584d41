"""Trace run links without a foreign key to trace_info: a trace can be linked to a run before
it is stored, as MLflow allows (asynchronous export may send the link before the spans).

Revision ID: 0005_trace_run_links
Revises: 0004_traces
Create Date: 2026-12-12
"""

from __future__ import annotations

from typing import Any

from alembic import op

revision = "0005_trace_run_links"
down_revision = "0004_traces"
branch_labels = None
depends_on = None

MYSQL: dict[str, Any] = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin"}
CLUSTERED: dict[str, Any] = {**MYSQL, "sqlite_with_rowid": False}
FOREIGN_KEY = "fk_trace_runs_trace_id_trace_info"


def upgrade() -> None:
    # SQLite cannot drop a constraint: batch mode rebuilds the table (clustered, as before).
    with op.batch_alter_table("trace_runs", table_kwargs=CLUSTERED) as batch:
        batch.drop_constraint(op.f(FOREIGN_KEY), type_="foreignkey")


def downgrade() -> None:
    # Links of traces never stored cannot satisfy the key again.
    op.execute("DELETE FROM trace_runs WHERE trace_id NOT IN (SELECT trace_id FROM trace_info)")
    with op.batch_alter_table("trace_runs", table_kwargs=CLUSTERED) as batch:
        batch.create_foreign_key(
            op.f(FOREIGN_KEY), "trace_info", ["trace_id"], ["trace_id"], ondelete="CASCADE"
        )
