"""Fixtures of the webhook tests: ``receiver``, a real HTTP receiver on loopback, and the MLflow
oracle (``mlflow_python``) for the live-server test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from models._mlflow import mlflow_python

from ._receiver import Receiver, serve_receiver

__all__ = ["mlflow_python", "receiver"]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with serve_receiver() as running:
        yield running
