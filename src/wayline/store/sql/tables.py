"""Table definitions (SQLAlchemy Core). Alembic migrations create exactly these.

Design notes:
- ``metric_history`` has no surrogate key: its primary key is the point itself, so a replayed
  write is ignored rather than duplicated, and the key's order serves history reads.
- ``latest_metrics`` holds, per (run, key), the point MLflow calls latest (highest step, then
  timestamp, then value); search filters and orders on it without touching the history.
- NaN is stored as value 0 with ``is_nan`` set, because MySQL has no NaN; infinities are clamped
  to the largest finite double on write, as MLflow's SQL store does.
- String lengths follow MLflow's limits; (key, value) indexes on MySQL use a prefix length.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)
from sqlalchemy.dialects import mysql

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = MetaData(naming_convention=NAMING)

# Binary collation on MySQL/MariaDB: `=` and LIKE are case-sensitive there as on the other
# backends (MLflow's semantics), and unique names differ by case.
MYSQL: dict[str, Any] = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin"}

# SQLite stores tables whose primary key is their access path clustered on that key (WITHOUT
# ROWID): one b-tree instead of a rowid table plus a key index, so a write touches half the
# pages and reading a run's rows is one range scan. (InnoDB clusters on the primary key anyway.)
CLUSTERED: dict[str, Any] = {**MYSQL, "sqlite_with_rowid": False}

# 53-bit-safe double on every backend (MySQL's FLOAT is single precision by default).
Double = Float(precision=53).with_variant(mysql.DOUBLE(asdecimal=False), "mysql")

# MySQL's TEXT holds 65,535 bytes, too little for MLflow's limits in utf8mb4 (4 bytes a
# character): experiment tag values (20,000 chars) and dataset sources need MEDIUMTEXT, dataset
# profiles (16,777,215 chars) LONGTEXT. Other backends' TEXT is unbounded.
MediumText = Text().with_variant(mysql.MEDIUMTEXT(), "mysql")
LongText = Text().with_variant(mysql.LONGTEXT(), "mysql")

experiments = Table(
    "experiments",
    metadata,
    Column("experiment_id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(500), nullable=False, unique=True),
    Column("artifact_location", String(2000), nullable=False),
    Column("lifecycle_stage", String(20), nullable=False),
    Column("creation_time", BigInteger, nullable=False),
    Column("last_update_time", BigInteger, nullable=False),
    Column("deleted_time", BigInteger),
    Index(None, "lifecycle_stage", "creation_time"),
    Index(None, "last_update_time"),
    # AUTOINCREMENT: ids of purged experiments are never handed out again (their artifact
    # folders may still exist); SQLite would otherwise reuse the highest freed rowid.
    sqlite_autoincrement=True,
    **MYSQL,
)

experiment_tags = Table(
    "experiment_tags",
    metadata,
    Column(
        "experiment_id",
        Integer,
        ForeignKey("experiments.experiment_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("key", String(250), primary_key=True),
    Column("value", MediumText, nullable=False),
    **CLUSTERED,
)

runs = Table(
    "runs",
    metadata,
    Column("run_id", String(32), primary_key=True),
    Column(
        "experiment_id",
        Integer,
        ForeignKey("experiments.experiment_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("name", String(250), nullable=False),
    Column("user_id", String(256), nullable=False),
    Column("status", String(20), nullable=False),
    Column("start_time", BigInteger, nullable=False),
    Column("end_time", BigInteger),
    Column("lifecycle_stage", String(20), nullable=False),
    Column("artifact_uri", String(2000), nullable=False),
    Column("deleted_time", BigInteger),
    Index(None, "experiment_id", "lifecycle_stage", "start_time"),
    Index(None, "name"),
    Index(None, "status"),
    Index(None, "user_id"),
    Index(None, "end_time"),
    Index(None, "lifecycle_stage", "deleted_time"),
    **MYSQL,
)


def _run_fk() -> ForeignKey:
    return ForeignKey("runs.run_id", ondelete="CASCADE")


metric_history = Table(
    "metric_history",
    metadata,
    Column("run_id", String(32), _run_fk(), primary_key=True),
    Column("key", String(250), primary_key=True),
    Column("step", BigInteger, primary_key=True),
    Column("timestamp", BigInteger, primary_key=True),
    Column("value", Double, primary_key=True),
    Column("is_nan", Boolean, primary_key=True),
    **CLUSTERED,
)

latest_metrics = Table(
    "latest_metrics",
    metadata,
    Column("run_id", String(32), _run_fk(), primary_key=True),
    Column("key", String(250), primary_key=True),
    Column("value", Double, nullable=False),
    Column("is_nan", Boolean, nullable=False),
    Column("timestamp", BigInteger, nullable=False),
    Column("step", BigInteger, nullable=False),
    Index(None, "key", "value"),
    **CLUSTERED,
)

params = Table(
    "params",
    metadata,
    Column("run_id", String(32), _run_fk(), primary_key=True),
    Column("key", String(250), primary_key=True),
    Column("value", String(6000), nullable=False),
    Index(None, "key", "value", mysql_length={"value": 200}),
    **CLUSTERED,
)

tags = Table(
    "tags",
    metadata,
    Column("run_id", String(32), _run_fk(), primary_key=True),
    Column("key", String(250), primary_key=True),
    Column("value", String(8000), nullable=False),
    Index(None, "key", "value", mysql_length={"value": 200}),
    **CLUSTERED,
)

datasets = Table(
    "datasets",
    metadata,
    Column("dataset_id", String(32), primary_key=True),
    Column(
        "experiment_id",
        Integer,
        ForeignKey("experiments.experiment_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("name", String(500), nullable=False),
    Column("digest", String(36), nullable=False),
    Column("source_type", String(36), nullable=False),
    Column("source", MediumText, nullable=False),
    Column("schema", MediumText),
    Column("profile", LongText),
    Index(None, "experiment_id", "name", "digest", unique=True),
    **MYSQL,
)

run_inputs = Table(
    "run_inputs",
    metadata,
    Column("run_id", String(32), _run_fk(), primary_key=True),
    Column(
        "dataset_id",
        String(32),
        ForeignKey("datasets.dataset_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Index(None, "dataset_id"),
    **CLUSTERED,
)

input_tags = Table(
    "input_tags",
    metadata,
    Column("run_id", String(32), primary_key=True),
    Column("dataset_id", String(32), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("value", String(500), nullable=False),
    **CLUSTERED,
)

# ---------------------------------------------------------------- logged models (MLflow 3)
# ``status`` holds the wire name (LOGGED_MODEL_READY), so filters compare and LIKE it directly.
logged_models = Table(
    "logged_models",
    metadata,
    Column("model_id", String(34), primary_key=True),  # "m-" + 32 hex
    Column(
        "experiment_id",
        Integer,
        ForeignKey("experiments.experiment_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("name", String(500), nullable=False),
    Column("artifact_location", String(2000), nullable=False),
    Column("creation_timestamp_ms", BigInteger, nullable=False),
    Column("last_updated_timestamp_ms", BigInteger, nullable=False),
    Column("status", String(40), nullable=False),
    Column("lifecycle_stage", String(20), nullable=False),
    Column("model_type", String(500)),
    Column("source_run_id", String(32)),
    Column("status_message", String(1000)),
    Column("deleted_time", BigInteger),
    Index(None, "experiment_id", "lifecycle_stage", "creation_timestamp_ms"),
    Index(None, "name"),
    Index(None, "model_type"),
    Index(None, "status"),
    Index(None, "source_run_id"),
    Index(None, "last_updated_timestamp_ms"),
    Index(None, "lifecycle_stage", "deleted_time"),
    **MYSQL,
)


def _model_fk() -> ForeignKey:
    return ForeignKey("logged_models.model_id", ondelete="CASCADE")


logged_model_tags = Table(
    "logged_model_tags",
    metadata,
    Column("model_id", String(34), _model_fk(), primary_key=True),
    Column("key", String(250), primary_key=True),
    Column("value", String(8000), nullable=False),
    Index(None, "key", "value", mysql_length={"value": 200}),
    **CLUSTERED,
)

logged_model_params = Table(
    "logged_model_params",
    metadata,
    Column("model_id", String(34), _model_fk(), primary_key=True),
    Column("key", String(250), primary_key=True),
    Column("value", String(6000), nullable=False),
    Index(None, "key", "value", mysql_length={"value": 200}),
    **CLUSTERED,
)

# Every point logged with a model_id. The natural key (point, run, dataset name and digest) is
# too long for a MySQL index in utf8mb4, so ``point_id`` is a digest of it: a replayed write is
# ignored, as in ``metric_history``. NaN is stored as in the run tables (value 0, ``is_nan``).
logged_model_metrics = Table(
    "logged_model_metrics",
    metadata,
    Column("model_id", String(34), _model_fk(), primary_key=True),
    Column("point_id", String(32), primary_key=True),
    Column("key", String(250), nullable=False),
    Column("step", BigInteger, nullable=False),
    Column("timestamp", BigInteger, nullable=False),
    Column("value", Double, nullable=False),
    Column("is_nan", Boolean, nullable=False),
    Column("run_id", String(32)),
    Column("dataset_name", String(500)),
    Column("dataset_digest", String(36)),
    # Search reads one key across models (filters, orders); loading a model reads its rows.
    Index(None, "key", "model_id"),
    **CLUSTERED,
)

# Which logged models a run used (LogInputs ``models``) and produced (LogOutputs).
run_model_inputs = Table(
    "run_model_inputs",
    metadata,
    Column("run_id", String(32), _run_fk(), primary_key=True),
    Column("model_id", String(34), _model_fk(), primary_key=True),
    Index(None, "model_id"),
    **CLUSTERED,
)

run_model_outputs = Table(
    "run_model_outputs",
    metadata,
    Column("run_id", String(32), _run_fk(), primary_key=True),
    Column("model_id", String(34), _model_fk(), primary_key=True),
    Column("step", BigInteger, primary_key=True),
    Index(None, "model_id"),
    **CLUSTERED,
)

# ---------------------------------------------------------------- model registry
# Registered models are keyed by name, as in MLflow: versions, tags and aliases carry the name,
# so a version search filters and orders on its own table. A rename updates the key and the
# foreign keys cascade it (ON UPDATE CASCADE). MySQL limits index keys to 3072 bytes, so names
# are bounded (256 characters: 1024 bytes in utf8mb4).
# ``next_version`` is the number the next version gets: it only grows, so a deleted version's
# number is never handed out again, and it is read and bumped under the model row's lock.
# ``model_uid`` identifies the model across renames; the audit trail's rows carry it too.
MAX_REGISTERED_MODEL_NAME_LENGTH = 256

registered_models = Table(
    "registered_models",
    metadata,
    Column("name", String(MAX_REGISTERED_MODEL_NAME_LENGTH), primary_key=True),
    Column("model_uid", String(32), nullable=False),
    Column("creation_time", BigInteger, nullable=False),
    Column("last_updated_time", BigInteger, nullable=False),
    Column("description", MediumText),
    Column("user_id", String(256)),
    Column("next_version", Integer, nullable=False),
    Index(None, "last_updated_time"),
    **MYSQL,
)


def _registered_model_fk() -> ForeignKey:
    return ForeignKey("registered_models.name", ondelete="CASCADE", onupdate="CASCADE")


# Tag values hold up to 100,000 characters (prompt templates): too long for a b-tree entry on
# PostgreSQL, so tag tables index the key only; a key's rows are few enough to filter.
registered_model_tags = Table(
    "registered_model_tags",
    metadata,
    Column(
        "name", String(MAX_REGISTERED_MODEL_NAME_LENGTH), _registered_model_fk(), primary_key=True
    ),
    Column("key", String(250), primary_key=True),
    Column("value", MediumText, nullable=False),
    Index(None, "key"),
    **CLUSTERED,
)

# ``storage_location`` is where the version's files are when that is not ``source`` itself (the
# logged model's artifact location for ``models:/m-...`` sources), as in MLflow.
model_versions = Table(
    "model_versions",
    metadata,
    Column(
        "name", String(MAX_REGISTERED_MODEL_NAME_LENGTH), _registered_model_fk(), primary_key=True
    ),
    Column("version", Integer, primary_key=True),
    Column("creation_time", BigInteger, nullable=False),
    Column("last_updated_time", BigInteger, nullable=False),
    Column("description", MediumText),
    Column("user_id", String(256)),
    Column("current_stage", String(20), nullable=False),
    Column("source", String(1000), nullable=False),
    Column("storage_location", String(2000)),
    Column("run_id", String(32)),
    Column("run_link", String(1000)),
    Column("status", String(20), nullable=False),
    Column("status_message", String(1000)),
    Column("model_id", String(34)),
    # The search's default order and its other filters and orders (search-syntax.md §5).
    Index(None, "last_updated_time", "name", "version"),
    Index(None, "creation_time"),
    Index(None, "run_id"),
    Index(None, "model_id"),
    Index(None, "source", mysql_length={"source": 200}),
    **MYSQL,
)


def _model_version_fk() -> ForeignKeyConstraint:
    return ForeignKeyConstraint(
        ["name", "version"],
        ["model_versions.name", "model_versions.version"],
        ondelete="CASCADE",
        onupdate="CASCADE",
    )


model_version_tags = Table(
    "model_version_tags",
    metadata,
    Column("name", String(MAX_REGISTERED_MODEL_NAME_LENGTH), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("key", String(250), primary_key=True),
    Column("value", MediumText, nullable=False),
    _model_version_fk(),
    Index(None, "key"),
    **CLUSTERED,
)

# An alias belongs to the version it points at: deleting the version deletes it (the store
# records that in the audit trail first), renaming the model renames it.
registered_model_aliases = Table(
    "registered_model_aliases",
    metadata,
    Column("name", String(MAX_REGISTERED_MODEL_NAME_LENGTH), primary_key=True),
    Column("alias", String(256), primary_key=True),
    Column("version", Integer, nullable=False),
    _model_version_fk(),
    Index(None, "name", "version"),
    **CLUSTERED,
)

# The audit trail (beyond MLflow): one row per change, never updated except that a rename
# moves the model's rows (found by ``model_uid``) to the new name, so a model's history is one
# index range. It has no foreign key: it outlives the model.
registry_changes = Table(
    "registry_changes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("timestamp", BigInteger, nullable=False),
    Column("user", String(256), nullable=False),
    Column("action", String(64), nullable=False),
    Column("name", String(MAX_REGISTERED_MODEL_NAME_LENGTH), nullable=False),
    Column("model_uid", String(32), nullable=False),
    Column("version", Integer),
    Column("before", MediumText, nullable=False),
    Column("after", MediumText, nullable=False),
    Index(None, "name", "id"),
    Index(None, "model_uid"),
    sqlite_autoincrement=True,
    **MYSQL,
)

# ``events`` is a JSON list of "entity.action" strings; the few webhooks there are are read
# whole and matched in Python.
webhooks = Table(
    "webhooks",
    metadata,
    Column("webhook_id", String(36), primary_key=True),
    Column("name", String(256), nullable=False),
    Column("description", MediumText),
    Column("url", String(2000), nullable=False),
    Column("events", Text, nullable=False),
    Column("secret", String(1000)),
    Column("status", String(20), nullable=False),
    Column("creation_timestamp", BigInteger, nullable=False),
    Column("last_updated_timestamp", BigInteger, nullable=False),
    Index(None, "creation_timestamp"),
    **MYSQL,
)

# One row per delivery attempt. No foreign key: a delivery finishing after its webhook was
# deleted is simply recorded (and deleting a webhook deletes its log).
webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("delivery_id", String(36), primary_key=True),
    Column("attempt", Integer, primary_key=True),
    Column("webhook_id", String(36), nullable=False),
    Column("event", String(64), nullable=False),
    Column("timestamp", BigInteger, nullable=False),
    Column("success", Boolean, nullable=False),
    Column("response_status", Integer),
    Column("error_message", Text),
    Index(None, "webhook_id", "timestamp"),
    **MYSQL,
)

# ---------------------------------------------------------------- traces (LLM and agent tracing)
# A trace's info, keyed by its id (``tr-`` + 32 hex). Times are milliseconds; ``execution_time``
# is NULL while the trace is in progress. ``state`` holds the wire name (OK, ERROR, IN_PROGRESS).
# Previews are JSON text of the root span's inputs and outputs (clients cut them to 1000
# characters; foreign writers may not).
MAX_TRACE_ID_LENGTH = 50
MAX_TRACE_TAG_VALUE_LENGTH = 8000

trace_info = Table(
    "trace_info",
    metadata,
    Column("trace_id", String(MAX_TRACE_ID_LENGTH), primary_key=True),
    Column(
        "experiment_id",
        Integer,
        ForeignKey("experiments.experiment_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("request_time", BigInteger, nullable=False),
    Column("execution_time", BigInteger),
    Column("state", String(20), nullable=False),
    Column("client_request_id", String(250)),
    Column("request_preview", MediumText),
    Column("response_preview", MediumText),
    # The search's default order (newest first, per experiment) and retention's oldest first.
    Index(None, "experiment_id", "request_time"),
    Index(None, "client_request_id"),
    **MYSQL,
)


def _trace_fk() -> ForeignKey:
    return ForeignKey("trace_info.trace_id", ondelete="CASCADE")


# Tags and metadata are read per trace (a page of infos) and filtered per trace (correlated
# EXISTS on the primary key), so the primary key is their only index.
trace_tags = Table(
    "trace_tags",
    metadata,
    Column("trace_id", String(MAX_TRACE_ID_LENGTH), _trace_fk(), primary_key=True),
    Column("key", String(250), primary_key=True),
    Column("value", String(MAX_TRACE_TAG_VALUE_LENGTH), nullable=False),
    **CLUSTERED,
)

trace_request_metadata = Table(
    "trace_request_metadata",
    metadata,
    Column("trace_id", String(MAX_TRACE_ID_LENGTH), _trace_fk(), primary_key=True),
    Column("key", String(250), primary_key=True),
    Column("value", String(MAX_TRACE_TAG_VALUE_LENGTH), nullable=False),
    **CLUSTERED,
)

# Which runs a trace belongs to: the run it was created in (metadata ``mlflow.sourceRun``,
# copied here when written) and the runs it was linked to later (``link_traces_to_run``), so
# ``trace.run_id = X`` is one index probe for both. No foreign key to ``trace_info``: as in
# MLflow, a trace can be linked before it is stored (asynchronous export sends the link first);
# deleting a trace deletes its links explicitly (``trace_rows.delete_trace_rows``).
trace_runs = Table(
    "trace_runs",
    metadata,
    Column("run_id", String(32), primary_key=True),
    Column("trace_id", String(MAX_TRACE_ID_LENGTH), primary_key=True),
    Index(None, "trace_id"),
    **CLUSTERED,
)

# One row per span. ``content`` is the span in MLflow's JSON form (``Span.to_dict()``: base64
# ids, every attribute value JSON text); the other columns are copies that searches and paging
# read without parsing it. Rows can be large (inputs and outputs of LLM calls), so SQLite keeps
# them in a rowid table rather than clustered on the key.
trace_spans = Table(
    "trace_spans",
    metadata,
    Column("trace_id", String(MAX_TRACE_ID_LENGTH), _trace_fk(), primary_key=True),
    Column("span_id", String(16), primary_key=True),
    Column("parent_span_id", String(16)),
    Column("name", MediumText, nullable=False),
    Column("type", String(500), nullable=False),
    Column("status", String(20), nullable=False),
    Column("start_time_ns", BigInteger, nullable=False),
    Column("end_time_ns", BigInteger),
    # Bit 1: the span carries token usage; bit 2: cost. Totals over a trace read these, not
    # every span's JSON.
    Column("carries", Integer, nullable=False),
    Column("content", LongText, nullable=False),
    # get_spans pages a trace's spans in start-time order, by keyset (start, span id).
    Index(None, "trace_id", "start_time_ns", "span_id"),
    **MYSQL,
)

# Feedback and expectations. ``value`` is the JSON text of the value; ``numeric_value`` is the
# number when the value is one (not a boolean), for ``feedback.score > 0.5``. ``error`` and
# ``metadata`` are JSON text. An overridden assessment stays, with ``valid`` false.
assessments = Table(
    "assessments",
    metadata,
    Column("assessment_id", String(50), primary_key=True),
    Column("trace_id", String(MAX_TRACE_ID_LENGTH), _trace_fk(), nullable=False),
    Column("name", String(250), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("value", MediumText),
    Column("numeric_value", Double),
    Column("error", MediumText),
    Column("rationale", MediumText),
    Column("source_type", String(30), nullable=False),
    Column("source_id", String(250), nullable=False),
    Column("span_id", String(16)),
    Column("metadata", MediumText),
    Column("overrides", String(50)),
    Column("valid", Boolean, nullable=False),
    Column("create_time", BigInteger, nullable=False),
    Column("last_update_time", BigInteger, nullable=False),
    Index(None, "trace_id", "create_time"),
    Index(None, "kind", "name"),
    **MYSQL,
)
