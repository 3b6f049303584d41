"""Model registry: registered models, versions, tags, aliases, the audit trail, webhooks.

Revision ID: 0003_registry
Revises: 0002_logged_models
Create Date: 2026-12-01
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0003_registry"
down_revision = "0002_logged_models"
branch_labels = None
depends_on = None

MYSQL: dict[str, Any] = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin"}
CLUSTERED: dict[str, Any] = {**MYSQL, "sqlite_with_rowid": False}
MEDIUMTEXT = sa.Text().with_variant(mysql.MEDIUMTEXT(), "mysql")
NAME = 256


def _index(table: str, *columns: str, **kw: Any) -> None:
    op.create_index(op.f(f"ix_{table}_{'_'.join(columns)}"), table, list(columns), **kw)


def _model_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["name"],
        ["registered_models.name"],
        name=op.f(f"fk_{table}_name_registered_models"),
        ondelete="CASCADE",
        onupdate="CASCADE",
    )


def _version_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["name", "version"],
        ["model_versions.name", "model_versions.version"],
        name=op.f(f"fk_{table}_name_model_versions"),
        ondelete="CASCADE",
        onupdate="CASCADE",
    )


def upgrade() -> None:
    _models_and_versions()
    _audit_and_webhooks()


def _models_and_versions() -> None:
    op.create_table(
        "registered_models",
        sa.Column("name", sa.String(length=NAME), nullable=False),
        sa.Column("model_uid", sa.String(length=32), nullable=False),
        sa.Column("creation_time", sa.BigInteger(), nullable=False),
        sa.Column("last_updated_time", sa.BigInteger(), nullable=False),
        sa.Column("description", MEDIUMTEXT, nullable=True),
        sa.Column("user_id", sa.String(length=256), nullable=True),
        sa.Column("next_version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_registered_models")),
        **MYSQL,
    )
    _index("registered_models", "last_updated_time")
    op.create_table(
        "registered_model_tags",
        sa.Column("name", sa.String(length=NAME), nullable=False),
        sa.Column("key", sa.String(length=250), nullable=False),
        sa.Column("value", MEDIUMTEXT, nullable=False),
        _model_fk("registered_model_tags"),
        sa.PrimaryKeyConstraint("name", "key", name=op.f("pk_registered_model_tags")),
        **CLUSTERED,
    )
    _index("registered_model_tags", "key")
    op.create_table(
        "model_versions",
        sa.Column("name", sa.String(length=NAME), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("creation_time", sa.BigInteger(), nullable=False),
        sa.Column("last_updated_time", sa.BigInteger(), nullable=False),
        sa.Column("description", MEDIUMTEXT, nullable=True),
        sa.Column("user_id", sa.String(length=256), nullable=True),
        sa.Column("current_stage", sa.String(length=20), nullable=False),
        sa.Column("source", sa.String(length=1000), nullable=False),
        sa.Column("storage_location", sa.String(length=2000), nullable=True),
        sa.Column("run_id", sa.String(length=32), nullable=True),
        sa.Column("run_link", sa.String(length=1000), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("status_message", sa.String(length=1000), nullable=True),
        sa.Column("model_id", sa.String(length=34), nullable=True),
        _model_fk("model_versions"),
        sa.PrimaryKeyConstraint("name", "version", name=op.f("pk_model_versions")),
        **MYSQL,
    )
    _index("model_versions", "last_updated_time", "name", "version")
    for column in ("creation_time", "run_id", "model_id"):
        _index("model_versions", column)
    _index("model_versions", "source", mysql_length={"source": 200})
    op.create_table(
        "model_version_tags",
        sa.Column("name", sa.String(length=NAME), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=250), nullable=False),
        sa.Column("value", MEDIUMTEXT, nullable=False),
        _version_fk("model_version_tags"),
        sa.PrimaryKeyConstraint("name", "version", "key", name=op.f("pk_model_version_tags")),
        **CLUSTERED,
    )
    _index("model_version_tags", "key")
    op.create_table(
        "registered_model_aliases",
        sa.Column("name", sa.String(length=NAME), nullable=False),
        sa.Column("alias", sa.String(length=256), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        _version_fk("registered_model_aliases"),
        sa.PrimaryKeyConstraint("name", "alias", name=op.f("pk_registered_model_aliases")),
        **CLUSTERED,
    )
    _index("registered_model_aliases", "name", "version")


def _audit_and_webhooks() -> None:
    op.create_table(
        "registry_changes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.Column("user", sa.String(length=256), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=NAME), nullable=False),
        sa.Column("model_uid", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("before", MEDIUMTEXT, nullable=False),
        sa.Column("after", MEDIUMTEXT, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry_changes")),
        sqlite_autoincrement=True,
        **MYSQL,
    )
    _index("registry_changes", "name", "id")
    _index("registry_changes", "model_uid")
    op.create_table(
        "webhooks",
        sa.Column("webhook_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("description", MEDIUMTEXT, nullable=True),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("events", sa.Text(), nullable=False),
        sa.Column("secret", sa.String(length=1000), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("creation_timestamp", sa.BigInteger(), nullable=False),
        sa.Column("last_updated_timestamp", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("webhook_id", name=op.f("pk_webhooks")),
        **MYSQL,
    )
    _index("webhooks", "creation_timestamp")
    op.create_table(
        "webhook_deliveries",
        sa.Column("delivery_id", sa.String(length=36), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("webhook_id", sa.String(length=36), nullable=False),
        sa.Column("event", sa.String(length=64), nullable=False),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.Column("success", sa.Boolean(), nullable=False),
        sa.Column("response_status", sa.Integer(), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("delivery_id", "attempt", name=op.f("pk_webhook_deliveries")),
        **MYSQL,
    )
    _index("webhook_deliveries", "webhook_id", "timestamp")


def downgrade() -> None:
    for table in (
        "webhook_deliveries",
        "webhooks",
        "registry_changes",
        "registered_model_aliases",
        "model_version_tags",
        "model_versions",
        "registered_model_tags",
        "registered_models",
    ):
        op.drop_table(table)
