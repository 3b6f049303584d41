"""Alembic migrations of the SQL store (script location for the programmatic config).

``HEAD_REVISION`` names the newest revision. Store start-up compares it with the database's
``alembic_version`` row, so the common case (schema current) costs one query and never imports
Alembic; a test asserts it equals Alembic's computed head. Update it with every new revision.
"""

HEAD_REVISION = "0005_trace_run_links"
