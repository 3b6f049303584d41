"""Token usage and cost: per LLM span, and summed per trace.

An LLM span records its usage as ``mlflow.chat.tokenUsage`` = ``{"input_tokens",
"output_tokens", "total_tokens"}`` (plus cache counts when the provider reports them) and its
model as ``mlflow.llm.model``. When a trace ends, the usage of its spans is summed into the
trace's ``mlflow.trace.tokenUsage`` metadata. A span whose ancestor already carries usage is not
counted again (agent frameworks often put the total of their LLM calls on the agent span too).

Cost needs prices: ``set_prices({"gpt-4o": {"input": 2.5, "output": 10.0}})`` (USD per million
tokens) or ``WAYLINE_LLM_PRICES`` naming a JSON file of the same shape. A priced span gets
``mlflow.llm.cost`` = ``{"input_cost", "output_cost", "total_cost"}`` (unless it set one itself)
and the trace ``mlflow.trace.cost``, summed the same way. A model is found by its exact name,
then without a ``provider/`` prefix, then as a dated snapshot of a priced name
(``gpt-4o-2024-08-06`` is priced as ``gpt-4o``).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from wayline.entities.trace import Span, SpanAttributeKey
from wayline.errors import InvalidParameter

_logger = logging.getLogger(__name__)

USAGE_KEYS = ("input_tokens", "output_tokens", "total_tokens")
CACHE_USAGE_KEYS = ("cache_read_input_tokens", "cache_creation_input_tokens")
COST_KEYS = ("input_cost", "output_cost", "total_cost")

Price = tuple[float, float]  # USD per million input tokens, per million output tokens

_prices: dict[str, Price] | None = None  # None until set or loaded from the environment
_prices_lock = threading.Lock()


# ---------------------------------------------------------------------- the price table
def _parse_price(model: str, value: Any) -> Price:
    if isinstance(value, Mapping):
        inp, out = value.get("input"), value.get("output")
    elif isinstance(value, Sequence) and not isinstance(value, str) and len(value) == 2:
        inp, out = value
    else:
        inp = out = None
    numbers = (inp, out)
    if not all(isinstance(n, (int, float)) and not isinstance(n, bool) and n >= 0 for n in numbers):
        raise InvalidParameter(
            f"Invalid price for model {model!r}: expected {{'input': <USD per million input "
            f"tokens>, 'output': <USD per million output tokens>}}, got {value!r}."
        )
    return float(inp), float(out)  # type: ignore[arg-type]


def set_prices(prices: Mapping[str, Any] | None) -> None:
    """Set the price table used to compute LLM cost; None removes it.

    Prices are USD per million tokens, by model name:
    ``{"gpt-4o": {"input": 2.5, "output": 10.0}}`` (``[2.5, 10.0]`` works too).

    Example::

        wayline.tracing.set_prices({"gpt-4o-mini": {"input": 0.15, "output": 0.6}})
    """
    global _prices  # noqa: PLW0603 - the process-wide table
    table = None if prices is None else {str(m): _parse_price(str(m), p) for m, p in prices.items()}
    with _prices_lock:
        _prices = table if table is not None else {}


def get_prices() -> dict[str, dict[str, float]]:
    """The price table in use (from ``set_prices`` or ``WAYLINE_LLM_PRICES``).

    Example::

        print(wayline.tracing.get_prices().get("gpt-4o"))
    """
    return {m: {"input": p[0], "output": p[1]} for m, p in _table().items()}


def _table() -> dict[str, Price]:
    global _prices  # noqa: PLW0603 - loaded once from the environment
    table = _prices
    if table is None:
        with _prices_lock:
            if _prices is None:
                _prices = _load_env_prices()
            table = _prices
    return table


def _load_env_prices() -> dict[str, Price]:
    from wayline.tracing.config import settings

    path = settings().prices_file
    if not path:
        return {}
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        if not isinstance(data, Mapping):
            raise InvalidParameter("expected a JSON object of model names to prices")
        return {str(m): _parse_price(str(m), p) for m, p in data.items()}
    except (OSError, ValueError, InvalidParameter) as exc:
        _logger.warning("Ignoring WAYLINE_LLM_PRICES=%r: %s", path, exc)
        return {}


def _is_snapshot_suffix(rest: str) -> bool:
    return bool(rest) and all(c.isdigit() or c == "-" for c in rest)


def price_for(model: str, table: Mapping[str, Price] | None = None) -> Price | None:
    """The price of ``model``: exact name, then without ``provider/``, then a dated snapshot."""
    prices = _table() if table is None else table
    if not prices or not model:
        return None
    for name in (model, model.rsplit("/", 1)[-1]):
        found = prices.get(name)
        if found is not None:
            return found
    bare = model.rsplit("/", 1)[-1]
    best: str | None = None
    for name in prices:
        if (
            bare.startswith(name + "-")
            and _is_snapshot_suffix(bare[len(name) + 1 :])
            and (best is None or len(name) > len(best))
        ):
            best = name
    return prices[best] if best is not None else None


# ---------------------------------------------------------------------- per span
def _count(usage: Mapping[str, Any], key: str) -> int | None:
    value = usage.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return int(value)


def span_cost(usage: Any, model: Any, table: Mapping[str, Price] | None = None) -> dict[str, float]:
    """``{"input_cost", "output_cost", "total_cost"}`` in USD, or an empty dict when the model
    has no price or the usage no token counts."""
    if not isinstance(usage, Mapping) or not isinstance(model, str):
        return {}
    price = price_for(model, table)
    if price is None:
        return {}
    inp, out = _count(usage, "input_tokens"), _count(usage, "output_tokens")
    if inp is None and out is None:
        return {}
    input_cost = (inp or 0) * price[0] / 1_000_000
    output_cost = (out or 0) * price[1] / 1_000_000
    return {
        "input_cost": input_cost,
        "output_cost": output_cost,
        "total_cost": input_cost + output_cost,
    }


def add_costs(spans: Iterable[Span]) -> None:
    """Set ``mlflow.llm.cost`` on priced spans that have usage and no cost of their own."""
    table = _table()
    if not table:
        return
    for span in spans:
        attrs = span.attributes
        usage = attrs.get(SpanAttributeKey.TOKEN_USAGE)
        if usage is None or SpanAttributeKey.COST in attrs:
            continue
        cost = span_cost(usage, attrs.get(SpanAttributeKey.MODEL), table)
        if cost:
            attrs[SpanAttributeKey.COST] = cost


# ---------------------------------------------------------------------- per trace
def _outermost(spans: Sequence[Span], key: str) -> list[Mapping[str, Any]]:
    """The values of ``key`` on spans none of whose ancestors carries it."""
    by_id = {span.span_id: span for span in spans}
    found: list[Mapping[str, Any]] = []
    for span in spans:
        value = span.attributes.get(key)
        if not isinstance(value, Mapping):
            continue
        parent = by_id.get(span.parent_id) if span.parent_id else None
        covered = False
        while parent is not None:
            if isinstance(parent.attributes.get(key), Mapping):
                covered = True
                break
            parent = by_id.get(parent.parent_id) if parent.parent_id else None
        if not covered:
            found.append(value)
    return found


def trace_usage(spans: Sequence[Span]) -> dict[str, int] | None:
    """The summed token usage of a trace's spans, or None when no span has any."""
    values = _outermost(spans, SpanAttributeKey.TOKEN_USAGE)
    if not values:
        return None
    totals = dict.fromkeys(USAGE_KEYS, 0)
    for usage in values:
        inp = _count(usage, "input_tokens") or 0
        out = _count(usage, "output_tokens") or 0
        total = _count(usage, "total_tokens")
        totals["input_tokens"] += inp
        totals["output_tokens"] += out
        totals["total_tokens"] += total if total is not None else inp + out
        for key in CACHE_USAGE_KEYS:
            extra = _count(usage, key)
            if extra is not None:
                totals[key] = totals.get(key, 0) + extra
    return totals


def trace_cost(spans: Sequence[Span]) -> dict[str, float] | None:
    """The summed ``mlflow.llm.cost`` of a trace's spans, or None when no span has one."""
    values = _outermost(spans, SpanAttributeKey.COST)
    if not values:
        return None
    totals = dict.fromkeys(COST_KEYS, 0.0)
    for cost in values:
        for key in COST_KEYS:
            value = cost.get(key)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                totals[key] += float(value)
    return totals


__all__ = [
    "add_costs",
    "get_prices",
    "price_for",
    "set_prices",
    "span_cost",
    "trace_cost",
    "trace_usage",
]
