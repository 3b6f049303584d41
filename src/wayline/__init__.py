"""Wayline: MLflow-compatible experiment tracking. The fluent API lives here."""

__version__ = "0.1.0"
