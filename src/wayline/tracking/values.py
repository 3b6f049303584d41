"""Coercing user values (numpy scalars, ints, tensors with ``item()``) into the store's types."""

from __future__ import annotations

import math
from typing import Any

from wayline.errors import InvalidParameter


def metric_value(key: str, value: Any) -> float:
    """``value`` as a float; bools and non-numbers are InvalidParameter, as in MLflow."""
    if type(value) is float:
        return value
    if isinstance(value, (bool, str, bytes)):
        raise InvalidParameter(
            f"Got invalid value {value!r} for metric {key!r}: expected a number."
        )
    try:
        return float(value)
    except (TypeError, ValueError):
        pass
    item = getattr(value, "item", None)  # one-element arrays and tensors
    if callable(item):
        try:
            return float(item())
        except (TypeError, ValueError):
            pass
    raise InvalidParameter(f"Got invalid value {value!r} for metric {key!r}: expected a number.")


def param_value(value: Any) -> str:
    """Params are strings on the wire; MLflow stores ``str(value)``."""
    return value if type(value) is str else str(value)


def tag_value(value: Any) -> str:
    return value if type(value) is str else str(value)


def is_finite(value: float) -> bool:
    return math.isfinite(value)
