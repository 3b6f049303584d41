"""SDK objects as JSON-ready values, for span inputs, outputs and chunk events."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_SCALARS = (str, int, float, bool)


def jsonable(value: Any) -> Any:
    """``value`` as plain dicts, lists and scalars: pydantic models (every SDK response type)
    through ``model_dump``, classes by name, anything else unknown through ``str``."""
    if value is None or isinstance(value, _SCALARS):
        return value
    if isinstance(value, Mapping):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    if isinstance(value, type):
        # e.g. a pydantic class passed as ``response_format``
        return value.__name__
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        try:
            # ``warnings=False``: SDKs build responses without validation, and a field the server
            # filled unexpectedly must not turn into a serializer warning in the user's program.
            return dump(mode="json", warnings=False)
        except Exception:  # a model that cannot dump itself is still worth a string
            return str(value)
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    return str(value)
