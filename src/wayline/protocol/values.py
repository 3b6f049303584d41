"""Scalar wire rules of MLflow's JSON: int64, doubles, booleans, enums and query strings.

MLflow deviates from canonical proto3 JSON: int64 travels as a JSON number (numeric strings are
still accepted), and non-finite doubles travel as the strings "NaN", "Infinity", "-Infinity".
Every parser raises ``InvalidParameter`` naming the field, so a route can let it propagate.
"""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Iterable, Mapping
from typing import TypeVar

from wayline.entities import RunStatus, ViewType
from wayline.errors import InvalidParameter

_INT_TEXT = re.compile(r"^[+-]?\d+$")
_INT_BOUNDS = {"int64": (-(2**63), 2**63 - 1), "int32": (-(2**31), 2**31 - 1)}

# MLflow's RunStatus wire numbers; the entity keeps them, but looking them up here keeps the
# accepted spellings (names in any case, numbers, digit strings) in one place for every enum.
E = TypeVar("E", bound=enum.Enum)

_RUN_STATUS_BY_NUMBER = {status.number: status for status in RunStatus}
_VIEW_TYPE_BY_NUMBER = {view.value: view for view in ViewType}

# Bound once so a decoded NaN is the very object ``math.nan``: dataclass equality compares field
# tuples, which treat an identical object as equal, so entities holding NaN round-trip as equal.
_NON_FINITE_TEXT = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def _describe(name: str) -> str:
    return f"parameter '{name}'" if name else "value"


def missing_parameter(name: str) -> InvalidParameter:
    """The error MLflow gives for a required request field that is absent."""
    return InvalidParameter(
        f"Missing value for required parameter '{name}'. "
        "See the API docs for more information about request parameters."
    )


def parse_int(value: object, name: str = "", bits: int = 64) -> int:
    """An integer from a JSON number, an integral float or a decimal string."""
    low, high = _INT_BOUNDS["int64" if bits == 64 else "int32"]
    result: int | None = None
    if isinstance(value, bool):
        result = None
    elif isinstance(value, int):
        result = value
    elif isinstance(value, float) and value.is_integer():
        result = int(value)
    elif isinstance(value, str) and _INT_TEXT.match(value.strip()):
        result = int(value.strip())
    if result is None or not low <= result <= high:
        raise InvalidParameter(
            f"Invalid value {value!r} for {_describe(name)}: expected an int{bits}."
        )
    return result


def parse_double(value: object, name: str = "") -> float:
    """A float from a JSON number, "NaN"/"Infinity"/"-Infinity" or a finite decimal string."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
        return math.nan if math.isnan(number) else number
    if isinstance(value, str):
        if value in _NON_FINITE_TEXT:
            return _NON_FINITE_TEXT[value]
        try:
            number = float(value)
        except ValueError:
            number = math.nan
        # float() also reads "nan", "inf" and "infinity"; the wire only spells them one way.
        if math.isfinite(number):
            return number
    raise InvalidParameter(f"Invalid value {value!r} for {_describe(name)}: expected a double.")


def encode_double(value: float) -> float | str:
    """A JSON value for a double: finite numbers as numbers, the others as their wire strings."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


def parse_bool(value: object, name: str = "") -> bool:
    """A boolean from JSON ``true``/``false`` or a query string ``True``/``False`` (any case)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise InvalidParameter(
        f"Invalid value {value!r} for {_describe(name)}: expected true or false."
    )


def encode_query_bool(value: bool) -> str:
    """How MLflow's client spells booleans in query strings."""
    return "True" if value else "False"


def parse_str(value: object, name: str = "") -> str:
    if isinstance(value, str):
        return value
    raise InvalidParameter(f"Invalid value {value!r} for {_describe(name)}: expected a string.")


def parse_enum(value: object, name: str, kind: type[E], by_number: Mapping[int, E]) -> E:
    """A member of ``kind`` from itself, its name (any case), its wire number or that number as
    a string; InvalidParameter naming the allowed names otherwise."""
    if isinstance(value, kind):
        return value
    number = enum_number(value)
    if number is not None and number in by_number:
        return by_number[number]
    if isinstance(value, str) and value.strip().upper() in kind.__members__:
        return kind[value.strip().upper()]
    allowed = ", ".join(kind.__members__)
    raise InvalidParameter(
        f"Invalid value {value!r} for {_describe(name)}: expected one of {allowed}."
    )


def parse_run_status(value: object, name: str = "status") -> RunStatus:
    """A RunStatus from its name (any case), its wire number or that number as a string."""
    return parse_enum(value, name, RunStatus, _RUN_STATUS_BY_NUMBER)


def parse_view_type(value: object, name: str = "view_type") -> ViewType:
    """A ViewType from its name (any case), its wire number or that number as a string."""
    return parse_enum(value, name, ViewType, _VIEW_TYPE_BY_NUMBER)


def enum_number(value: object) -> int | None:
    """An enum's wire number given as a JSON integer or a decimal string; None otherwise."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def query_lists(pairs: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    """Group query-string pairs by key; every key maps to a list, even if it occurs once."""
    grouped: dict[str, list[str]] = {}
    for key, value in pairs:
        grouped.setdefault(key, []).append(value)
    return grouped


__all__ = [
    "encode_double",
    "encode_query_bool",
    "missing_parameter",
    "parse_bool",
    "parse_double",
    "parse_int",
    "parse_run_status",
    "parse_str",
    "parse_view_type",
    "query_lists",
]
