"""The ``wayline`` command line: one click group per area."""
