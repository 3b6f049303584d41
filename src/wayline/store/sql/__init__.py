"""The SQL tracking store (SQLite, PostgreSQL, MySQL/MariaDB) on SQLAlchemy 2."""
