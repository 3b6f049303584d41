"""Writing and reading scikit-learn-style estimators in MLflow's three formats.

``skops`` (MLflow 3's default: a zip of the object's state that loads only allow-listed
types), ``cloudpickle`` and ``pickle``. The lightgbm flavor stores its scikit-learn API models
(``LGBMClassifier``...) the same way.
"""

from __future__ import annotations

import os
import pickle
from typing import Any

from wayline.errors import InvalidParameter, WaylineError
from wayline.models.flavor import require

SERIALIZATION_FORMAT_SKOPS = "skops"
SERIALIZATION_FORMAT_PICKLE = "pickle"
SERIALIZATION_FORMAT_CLOUDPICKLE = "cloudpickle"
SUPPORTED_SERIALIZATION_FORMATS = [
    SERIALIZATION_FORMAT_SKOPS,
    SERIALIZATION_FORMAT_PICKLE,
    SERIALIZATION_FORMAT_CLOUDPICKLE,
]


def check_format(serialization_format: str) -> None:
    if serialization_format not in SUPPORTED_SERIALIZATION_FORMATS:
        raise InvalidParameter(
            f"Unrecognized serialization format: {serialization_format}. Please specify one of "
            f"the following supported formats: {SUPPORTED_SERIALIZATION_FORMATS}."
        )


def dump_estimator(
    model: Any,
    file: str,
    serialization_format: str,
    skops_trusted_types: list[str] | None = None,
    extra: str = "sklearn",
) -> None:
    """Write ``model`` to ``file``; a skops file is read back at once so a model that could
    not be loaded later (untrusted or unsupported types) fails now, as in MLflow."""
    check_format(serialization_format)
    if serialization_format == SERIALIZATION_FORMAT_SKOPS:
        sio = require("skops.io", extra)
        try:
            sio.dump(model, file)
            sio.load(file, trusted=skops_trusted_types)
        except Exception as e:  # skops raises its own classes and TypeErrors alike
            if os.path.exists(file):
                os.remove(file)
            untrusted = type(e).__name__ == "UntrustedTypesFoundException"
            raise InvalidParameter(
                "The saved model references untrusted types: if loading them is safe, list them "
                f"in `skops_trusted_types`. Root error: {e}"
                if untrusted
                else "The model could not be serialized in the skops format (it supports no "
                "custom functions or classes that are not defined at a module's top level); "
                "save it with serialization_format='cloudpickle' instead, knowing that loading "
                f"a pickle can run arbitrary code. Root error: {e}"
            ) from e
        return
    # Python's default protocol, not cloudpickle's newest: older interpreters can read it.
    lib: Any = pickle if serialization_format == SERIALIZATION_FORMAT_PICKLE else None
    if lib is None:
        lib = require("cloudpickle", extra)
    with open(file, "wb") as out:
        lib.dump(model, out, protocol=pickle.DEFAULT_PROTOCOL)


def load_estimator(
    file: str,
    serialization_format: str,
    skops_trusted_types: list[str] | None = None,
    extra: str = "sklearn",
) -> Any:
    """Read an estimator written by ``dump_estimator`` (or by MLflow)."""
    check_format(serialization_format)
    if serialization_format == SERIALIZATION_FORMAT_SKOPS:
        sio = require("skops.io", extra)
        try:
            return sio.load(file, trusted=skops_trusted_types)
        except Exception as e:
            if type(e).__name__ != "UntrustedTypesFoundException":
                raise
            raise WaylineError(
                f"The model file {file} holds types skops does not trust: {e}"
            ) from e
    with open(file, "rb") as f:
        if serialization_format == SERIALIZATION_FORMAT_PICKLE:
            return pickle.load(f)
        return require("cloudpickle", extra).load(f)


__all__ = [
    "SERIALIZATION_FORMAT_CLOUDPICKLE",
    "SERIALIZATION_FORMAT_PICKLE",
    "SERIALIZATION_FORMAT_SKOPS",
    "SUPPORTED_SERIALIZATION_FORMATS",
    "dump_estimator",
    "load_estimator",
]
