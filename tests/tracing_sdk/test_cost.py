"""Token usage summed per trace, and cost from a price table, on spans and traces."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import wayline
from wayline.entities.trace import Span, SpanAttributeKey, Trace
from wayline.errors import InvalidParameter
from wayline.tracing import cost

from ._support import ScriptRunner, by_name

Finished = Callable[[str | None], Trace]
USAGE = SpanAttributeKey.TOKEN_USAGE


@pytest.fixture(autouse=True)
def no_prices(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(cost, "_prices", {})
    yield


def _llm(name: str, model: str, inp: int, out: int, total: int | None = None) -> None:
    with wayline.start_span(name, span_type="LLM") as span:
        usage = {"input_tokens": inp, "output_tokens": out}
        if total is not None:
            usage["total_tokens"] = total
        span.set_attributes({USAGE: usage, SpanAttributeKey.MODEL: model})


def test_usage_is_summed_over_the_trace(finished: Finished) -> None:
    with wayline.start_span("agent") as root:
        _llm("first", "gpt-4o", 10, 5, 15)
        _llm("second", "claude", 7, 3)  # no total: input + output
        with wayline.start_span("sub-agent") as sub:
            # A framework that reports the total of its calls on the agent span as well.
            sub.set_attribute(USAGE, {"input_tokens": 2, "output_tokens": 2, "total_tokens": 4})
            _llm("nested", "gpt-4o", 2, 2, 4)
    trace = finished(root.trace_id)
    assert trace.info.token_usage == {"input_tokens": 19, "output_tokens": 10, "total_tokens": 29}
    assert json.loads(trace.info.trace_metadata["mlflow.trace.tokenUsage"]) == {
        "input_tokens": 19,
        "output_tokens": 10,
        "total_tokens": 29,
    }
    assert "mlflow.trace.cost" not in trace.info.trace_metadata
    assert SpanAttributeKey.COST not in by_name(trace)["first"].attributes


def test_a_trace_without_usage_has_none(finished: Finished) -> None:
    with wayline.start_span("plain") as span:
        pass
    assert "mlflow.trace.tokenUsage" not in finished(span.trace_id).info.trace_metadata


def test_prices_give_span_and_trace_cost(finished: Finished) -> None:
    wayline.tracing.set_prices(
        {"gpt-4o": {"input": 2.5, "output": 10.0}, "claude-3-5-sonnet": [3.0, 15.0]}
    )
    assert wayline.tracing.get_prices()["claude-3-5-sonnet"] == {"input": 3.0, "output": 15.0}
    with wayline.start_span("agent") as root:
        _llm("dated", "gpt-4o-2024-08-06", 1_000_000, 100_000)
        _llm("routed", "anthropic/claude-3-5-sonnet", 2000, 1000)
        _llm("unpriced", "local-llama", 50, 50)
        with wayline.start_span("given", span_type="LLM") as given:
            given.set_attributes(
                {
                    USAGE: {"input_tokens": 1, "output_tokens": 1},
                    SpanAttributeKey.MODEL: "gpt-4o",
                    SpanAttributeKey.COST: {
                        "input_cost": 1.0,
                        "output_cost": 0.0,
                        "total_cost": 1.0,
                    },
                }
            )
    trace = finished(root.trace_id)
    spans = by_name(trace)
    assert spans["dated"].attributes[SpanAttributeKey.COST] == {
        "input_cost": 2.5,
        "output_cost": 1.0,
        "total_cost": 3.5,
    }
    routed = spans["routed"].attributes[SpanAttributeKey.COST]
    assert routed == pytest.approx({"input_cost": 0.006, "output_cost": 0.015, "total_cost": 0.021})
    assert SpanAttributeKey.COST not in spans["unpriced"].attributes
    assert spans["given"].attributes[SpanAttributeKey.COST]["total_cost"] == 1.0
    total = json.loads(trace.info.trace_metadata["mlflow.trace.cost"])
    assert total == pytest.approx({"input_cost": 3.506, "output_cost": 1.015, "total_cost": 4.521})


def test_model_names_match_exactly_then_by_provider_then_by_snapshot() -> None:
    table = {"gpt-4o": (2.5, 10.0), "gpt-4o-mini": (0.15, 0.6)}
    assert cost.price_for("gpt-4o", table) == (2.5, 10.0)
    assert cost.price_for("openai/gpt-4o-mini", table) == (0.15, 0.6)
    assert cost.price_for("gpt-4o-mini-2024-07-18", table) == (0.15, 0.6)
    assert cost.price_for("gpt-4o-audio-preview", table) is None  # not a dated snapshot
    assert cost.price_for("", table) is None
    assert cost.span_cost({"input_tokens": 10}, "gpt-4o", table) == {
        "input_cost": 0.000025,
        "output_cost": 0.0,
        "total_cost": 0.000025,
    }
    assert cost.span_cost({"total_tokens": 10}, "gpt-4o", table) == {}
    assert cost.span_cost("not usage", "gpt-4o", table) == {}


def test_bad_prices_are_refused() -> None:
    with pytest.raises(InvalidParameter, match="gpt"):
        wayline.tracing.set_prices({"gpt": {"input": -1, "output": 1}})
    with pytest.raises(InvalidParameter):
        wayline.tracing.set_prices({"gpt": "cheap"})
    wayline.tracing.set_prices(None)
    assert wayline.tracing.get_prices() == {}


def test_usage_of_entities_directly() -> None:
    root = Span("tr-" + "a" * 32, "1" * 16, None, "root", 0, 1)
    child = Span("tr-" + "a" * 32, "2" * 16, "1" * 16, "child", 0, 1)
    child.attributes[USAGE] = {"input_tokens": 3, "output_tokens": 4, "cache_read_input_tokens": 2}
    assert cost.trace_usage([root, child]) == {
        "input_tokens": 3,
        "output_tokens": 4,
        "total_tokens": 7,
        "cache_read_input_tokens": 2,
    }
    assert cost.trace_cost([root, child]) is None


def test_a_price_file_named_by_the_environment(run_traced: ScriptRunner, tmp_path: Path) -> None:
    prices = tmp_path / "prices.json"
    prices.write_text(json.dumps({"gpt-4o": {"input": 2.0, "output": 8.0}}))
    db = tmp_path / "priced.db"
    done = run_traced(
        f"""
        import wayline
        from wayline.entities.trace import SpanAttributeKey

        wayline.set_tracking_uri("sqlite:///{db}")
        with wayline.start_span("llm", span_type="LLM") as span:
            span.set_attribute(SpanAttributeKey.MODEL, "gpt-4o")
            usage = {{"input_tokens": 500000, "output_tokens": 0}}
            span.set_attribute(SpanAttributeKey.TOKEN_USAGE, usage)
        trace = wayline.get_trace(span.trace_id)
        print(trace.info.trace_metadata["mlflow.trace.cost"])
        """,
        env={"WAYLINE_LLM_PRICES": str(prices)},
    )
    assert json.loads(done.stdout) == {"input_cost": 1.0, "output_cost": 0.0, "total_cost": 1.0}
