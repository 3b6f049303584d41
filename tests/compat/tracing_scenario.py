# mypy: ignore-errors
# (Run by another interpreter: MLflow's venv, whose `mlflow` our venv does not have.)
"""Tracing through MLflow's own client against a live server, as comparable JSON.

Run as a script by MLflow's venv python (``scenario.py`` and ``tracing_docs.py`` beside it lend
the normalisation)::

    MLFLOW_VENV_PYTHON tests/compat/tracing_scenario.py --tracking-uri http://127.0.0.1:5000 \
        --out result.json

Each section records what the client's calls returned with server-made values normalised away:
trace, run, assessment and experiment ids become labels (``trace:outer``), span ids become their
span's name, times are dropped (only their order is kept), lists whose order the API does not
define are sorted. Traces are exported the way the client chooses for the server it talks to
(OTLP to ``/v1/traces`` when ``/version`` says 3.4 or later, else ``traces.json`` artifacts) and
read back with ``get_trace`` and ``search_traces``. A section that raises records the exception
instead. Two servers are compatible for a section when their results are equal. The server must
be fresh.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

from scenario import BASE_TS, Api
from tracing_docs import TraceLabels, assessment_doc, enum_value, error_doc, trace_doc

WIDE_SPANS = 300  # more spans than one OTLP batch or one page of spans holds


def _label_last_trace(api: Api, label: str) -> str:
    trace_id = api.ml.get_last_active_trace_id()
    api.labels.trace(trace_id, label)
    return trace_id


def _experiment(api: Api, name: str) -> str:
    exp = api.ml.set_experiment(name)
    api.labels.experiment(exp.experiment_id, name)
    return exp.experiment_id


# --------------------------------------------------------------------------- sections
def section_decorated(api: Api) -> dict[str, Any]:
    """@mlflow.trace on nested sync functions, an async function and a generator."""
    ml, out = api.ml, {}
    _experiment(api, "compat-trace-decorated")

    @ml.trace(span_type="TOOL", attributes={"tool.version": 2})
    def add(a: int, b: int = 1) -> int:
        return a + b

    @ml.trace(name="double-it")
    def double(x: int) -> dict[str, int]:
        return {"doubled": add(x, b=x)}

    @ml.trace(span_type="CHAIN")
    def outer(question: str, n: int) -> dict[str, Any]:
        first = double(n)
        second = add(first["doubled"])
        return {"answer": f"{question}: {second}", "items": [first, second]}

    out["returned"] = outer("sum", 3)
    sync_id = _label_last_trace(api, "outer")

    @ml.trace(span_type="RETRIEVER")
    async def fetch(query: str) -> list[str]:
        await asyncio.sleep(0.001)
        return [query.upper(), query[::-1]]

    @ml.trace(span_type="AGENT")
    async def agent(query: str) -> str:
        docs = await fetch(query)
        return " ".join(docs)

    out["async_returned"] = asyncio.run(agent("abc"))
    async_id = _label_last_trace(api, "agent")

    @ml.trace(span_type="LLM")
    def stream(prompt: str, n: int):
        for i in range(n):
            yield f"{prompt}-{i}"

    out["generator_returned"] = list(stream("tok", 3))
    generator_id = _label_last_trace(api, "stream")

    @ml.trace
    def wide(n: int) -> int:
        for i in range(n):
            with ml.start_span(name=f"step-{i:03d}") as span:
                span.set_inputs({"i": i})
        return n

    wide(WIDE_SPANS)
    wide_id = _label_last_trace(api, "wide")

    ml.flush_trace_async_logging()
    for label, trace_id in (("outer", sync_id), ("agent", async_id), ("stream", generator_id)):
        out[label] = trace_doc(api, ml.get_trace(trace_id))
    spans = ml.get_trace(wide_id).data.spans
    out["wide_span_count"] = len(spans)
    out["wide_names_in_order"] = [s.name for s in sorted(spans, key=lambda s: s.start_time_ns)]
    out["wide_inputs"] = sorted(s.inputs["i"] for s in spans if s.name != "wide")
    return out


def section_spans(api: Api) -> dict[str, Any]:
    """mlflow.start_span: inputs, outputs, attributes, span types, an error, trace updates."""
    ml, out = api.ml, {}
    _experiment(api, "compat-trace-spans")
    with ml.start_span(name="pipeline", span_type="CHAIN") as root:
        root.set_inputs({"query": "what is 2+2", "options": {"k": 3, "flags": [True, None]}})
        with ml.start_span(name="retrieve", span_type="RETRIEVER") as span:
            span.set_inputs({"query": "2+2"})
            span.set_outputs([{"doc": "arithmetic", "score": 0.5}])
            span.set_attribute("retriever.k", 3)
        with ml.start_span(name="generate", span_type="LLM") as span:
            span.set_inputs({"messages": [{"role": "user", "content": "2+2"}]})
            span.set_attributes({"model": "tiny", "temperature": 0.25, "stop": ["\n"]})
            span.set_attribute(
                "mlflow.chat.tokenUsage",
                {"input_tokens": 7, "output_tokens": 1, "total_tokens": 8},
            )
            span.set_outputs("4")
        with ml.start_span(name="custom", span_type="MY_OWN_TYPE") as span:
            span.set_inputs("plain string input")
            span.set_attribute("ünïcode ✓", "naïve café ☕")
            span.set_outputs({"nested": {"deep": [1, 2.5, "three", None, False]}})
        ml.update_current_trace(
            tags={"team": "qa", "stage": "dev"},
            metadata={"case": "spans", "mlflow.trace.session": "s-1", "mlflow.trace.user": "ann"},
            client_request_id="req-42",
        )
        root.set_outputs({"answer": 4})
    out["ok"] = None
    ok_id = _label_last_trace(api, "pipeline")

    def failing() -> None:
        with ml.start_span(name="risky", span_type="AGENT") as root:
            root.set_inputs({"x": 1})
            with ml.start_span(name="tool-call", span_type="TOOL") as inner:
                inner.set_inputs({"y": 2})
                raise ValueError("boom")

    out["raised"] = error_or_type(failing)
    error_id = _label_last_trace(api, "risky")

    @ml.trace
    def handled(x: int) -> int:
        try:
            with ml.start_span(name="fails-inside"):
                raise KeyError("missing")
        except KeyError:
            pass
        return x

    handled(5)
    handled_id = _label_last_trace(api, "handled")

    ml.flush_trace_async_logging()
    out["ok"] = trace_doc(api, ml.get_trace(ok_id))
    out["error"] = trace_doc(api, ml.get_trace(error_id))
    out["handled"] = trace_doc(api, ml.get_trace(handled_id))
    return out


def error_or_type(call: Callable[[], Any]) -> str | None:
    try:
        call()
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def section_run_link(api: Api) -> dict[str, Any]:
    """A trace made inside a run carries the run id; searches by run find it."""
    ml, out = api.ml, {}
    exp_id = _experiment(api, "compat-trace-run")

    @ml.trace
    def in_run(x: int) -> int:
        return x * 2

    @ml.trace
    def outside(x: int) -> int:
        return x + 1

    with ml.start_run(run_name="traced") as run:
        api.labels.run(run.info.run_id, "traced")
        in_run(21)
        run_trace = _label_last_trace(api, "in_run")
    outside(1)
    outside_id = _label_last_trace(api, "outside")
    ml.flush_trace_async_logging()
    trace = ml.get_trace(run_trace)
    out["trace"] = trace_doc(api, trace)
    out["source_run"] = api.labels.sub(trace.info.trace_metadata.get("mlflow.sourceRun"))
    run_id = run.info.run_id

    def names(**kwargs: Any) -> list[str]:
        found = ml.search_traces(locations=[exp_id], return_type="list", **kwargs)
        return [t.info.tags.get("mlflow.traceName") for t in found]

    out["search_run_id_arg"] = names(run_id=run_id)
    out["filter_attributes_run_id"] = names(filter_string=f"attributes.run_id = '{run_id}'")
    out["filter_trace_run_id"] = names(filter_string=f"trace.run_id = '{run_id}'")
    out["filter_metadata_source_run"] = names(
        filter_string=f"metadata.`mlflow.sourceRun` = '{run_id}'"
    )
    api.client.link_traces_to_run([outside_id], run_id)
    out["linked_run_id_arg"] = names(run_id=run_id)
    out["linked_filter"] = names(filter_string=f"trace.run_id = '{run_id}'")
    out["linked_metadata"] = names(filter_string=f"metadata.`mlflow.sourceRun` = '{run_id}'")
    out["link_unknown_trace"] = error_doc(
        api, lambda: api.client.link_traces_to_run(["tr-" + "0" * 32], run_id), message=False
    )
    return out


def section_no_context(api: Api) -> dict[str, Any]:
    """Spans with chosen times: start_span_no_context / end and log_trace, exact to the ns."""
    ml, out = api.ml, {}
    _experiment(api, "compat-trace-no-context")
    base_ns = BASE_TS * 1_000_000
    root = ml.start_span_no_context(
        name="manual-root",
        span_type="AGENT",
        inputs={"task": "manual"},
        attributes={"origin": "no-context"},
        tags={"manual": "yes"},
        metadata={"case": "no-context"},
        start_time_ns=base_ns + 123_456_789,
    )
    api.labels.trace(root.trace_id, "manual-root")
    child = ml.start_span_no_context(
        name="manual-child",
        span_type="TOOL",
        parent_span=root,
        inputs=[1, 2, 3],
        start_time_ns=base_ns + 200_000_001,
    )
    child.end(outputs={"sum": 6}, end_time_ns=base_ns + 300_000_002)
    # The client's duration (end ms - start ms) and one from the span (its ns duration in ms)
    # agree only when the sub-millisecond parts do: which one a server keeps depends on whether
    # the spans or the info arrive first, on MLflow's server too.
    root.end(outputs="done", end_time_ns=base_ns + 1_400_456_790)
    logged_id = ml.log_trace(
        name="logged",
        request={"question": "q?"},
        response={"answer": "a!"},
        intermediate_outputs={"retrieved": ["doc-1", "doc-2"]},
        tags={"source": "log_trace"},
        start_time_ms=BASE_TS + 5_000,
        execution_time_ms=5129,
    )
    api.labels.trace(logged_id, "logged")
    ml.flush_trace_async_logging()
    for label, trace_id in (("manual", root.trace_id), ("logged", logged_id)):
        trace = ml.get_trace(trace_id)
        out[label] = trace_doc(api, trace)
        out[f"{label}_times"] = {
            "request_time_ms": trace.info.request_time - BASE_TS,
            "execution_duration_ms": trace.info.execution_duration,
            "spans_ns": sorted(
                [s.name, s.start_time_ns - base_ns, s.end_time_ns - base_ns]
                for s in trace.data.spans
            ),
        }
    return out


def _make_search_traces(api: Api) -> None:
    """Six traces, a few milliseconds apart (so time order is defined)."""
    ml = api.ml

    @ml.trace(span_type="CHAIN")
    def alpha(i: int) -> int:
        with ml.start_span(name="llm-call", span_type="LLM") as span:
            span.set_inputs({"i": i, "topic": "cats" if i == 1 else "dogs"})
            span.set_outputs({"o": i})
        ml.update_current_trace(tags={"color": "red" if i % 2 else "blue", "i": str(i)})
        return i

    @ml.trace(span_type="AGENT")
    def beta(i: int) -> int:
        with ml.start_span(name="tool-call", span_type="TOOL"):
            pass
        ml.update_current_trace(tags={"color": "green", "i": str(i)}, metadata={"m": str(i)})
        if i == 4:
            raise RuntimeError("beta failed")
        return i

    for i in range(6):
        with contextlib.suppress(RuntimeError):
            (alpha if i < 3 else beta)(i)
        _label_last_trace(api, f"{'alpha' if i < 3 else 'beta'}-{i}")
        time.sleep(0.02)
    ml.flush_trace_async_logging()


def section_search(api: Api) -> dict[str, Any]:
    """search_traces: filters, order, max_results, list and DataFrame results."""
    ml, labels, out = api.ml, api.labels, {}
    exp_id = _experiment(api, "compat-trace-search")
    _make_search_traces(api)

    def found(filter_string: str | None = None, **kwargs: Any) -> list[str]:
        traces = ml.search_traces(
            locations=[exp_id], filter_string=filter_string, return_type="list", **kwargs
        )
        return [labels.sub(t.info.trace_id) for t in traces]

    out["all_default_order"] = found()
    out["status_ok"] = found("trace.status = 'OK'")
    out["status_error"] = found("trace.status = 'ERROR'")
    out["status_in"] = found("trace.status IN ('OK', 'ERROR')")
    out["name_eq"] = found("trace.name = 'alpha'")
    out["name_like"] = found("trace.name LIKE 'be%'")
    out["tag_eq"] = found("tags.color = 'red'")
    out["tag_and_status"] = found("tags.color = 'green' AND trace.status = 'OK'")
    out["tag_is_null"] = found("tags.absent IS NULL")
    out["metadata_eq"] = found("metadata.m = '5'")
    out["span_type_llm"] = found("span.type = 'LLM'")
    out["span_type_tool"] = found("span.type = 'TOOL'")
    out["span_name"] = found("span.name = 'tool-call'")
    out["span_name_like"] = found("span.name LIKE 'llm%'")
    out["span_status_error"] = found("span.status = 'ERROR'")
    out["text_like"] = found("trace.text LIKE '%cats%'")
    out["request_id_eq"] = found(f"trace.request_id = '{labels.ids('beta-3')}'")
    out["execution_time"] = found("trace.execution_time_ms >= 0")
    out["timestamp_gt_0"] = found("trace.timestamp_ms > 0")
    out["order_asc"] = found(order_by=["timestamp_ms ASC"])
    out["order_name"] = found(order_by=["trace.name DESC", "timestamp_ms ASC"])
    out["max_results_2"] = found(max_results=2)
    out["max_results_filtered"] = found("tags.color = 'green'", max_results=1)

    first = ml.search_traces(locations=[exp_id], max_results=1, return_type="list")[0]
    out["list_item"] = trace_doc(api, first)
    frame = ml.search_traces(locations=[exp_id], filter_string="trace.name = 'alpha'")
    out["frame_columns"] = sorted(frame.columns)
    out["frame_rows"] = len(frame)
    out["frame_states"] = [str(enum_value(s)) for s in frame["state"]]
    out["frame_ids"] = [labels.sub(t) for t in frame["trace_id"]]
    out["frame_span_counts"] = [len(spans) for spans in frame["spans"]]
    no_spans = ml.search_traces(
        locations=[exp_id], max_results=1, return_type="list", include_spans=False
    )
    out["without_spans"] = [len(t.data.spans) for t in no_spans]

    client = api.client
    pages, token = [], None
    while len(pages) < 10:
        page = client.search_traces(locations=[exp_id], max_results=4, page_token=token)
        pages.append([labels.sub(t.info.trace_id) for t in page])
        token = page.token
        if not token:
            break
    out["client_pages"] = pages
    out["bad_filter"] = error_doc(
        api,
        lambda: ml.search_traces(locations=[exp_id], filter_string="trace.bogus = 'x'"),
        message=False,
    )
    return out


def section_tags(api: Api) -> dict[str, Any]:
    """set_trace_tag / delete_trace_tag, and what get_trace and search then see."""
    ml, out = api.ml, {}
    exp_id = _experiment(api, "compat-trace-tags")

    @ml.trace
    def tagged(x: int) -> int:
        ml.update_current_trace(tags={"initial": "yes"})
        return x

    tagged(1)
    trace_id = _label_last_trace(api, "tagged")
    ml.flush_trace_async_logging()
    ml.set_trace_tag(trace_id, "added", "value-1")
    ml.set_trace_tag(trace_id, "added", "value-2")  # overwritten
    ml.set_trace_tag(trace_id, "weird key.with/dots", "x" * 300)
    out["after_set"] = ml.get_trace(trace_id).info.tags
    ml.delete_trace_tag(trace_id, "initial")
    out["after_delete"] = ml.get_trace(trace_id).info.tags
    out["search_added"] = [
        api.labels.sub(t.info.trace_id)
        for t in ml.search_traces(
            locations=[exp_id], filter_string="tags.added = 'value-2'", return_type="list"
        )
    ]
    out["delete_missing"] = error_doc(api, lambda: ml.delete_trace_tag(trace_id, "never-set"))
    unknown = "tr-" + "0" * 32
    out["set_on_unknown"] = error_doc(
        api, lambda: ml.set_trace_tag(unknown, "k", "v"), message=False
    )
    out["get_unknown"] = trace_doc(api, ml.get_trace(unknown))
    out["client_get_unknown"] = error_doc(api, lambda: api.client.get_trace(unknown))
    return {k: api.labels.sub(v) for k, v in out.items()}


def section_assessments(api: Api) -> dict[str, Any]:
    """log_feedback / log_expectation / update / override / delete, seen through get_trace."""
    ml, labels, out = api.ml, api.labels, {}
    from mlflow.entities import AssessmentError, AssessmentSource, Expectation, Feedback

    _experiment(api, "compat-trace-assessments")

    @ml.trace
    def answer(question: str) -> str:
        with ml.start_span(name="lookup", span_type="RETRIEVER"):
            pass
        return "Paris"

    answer("capital of France?")
    trace_id = _label_last_trace(api, "answer")
    ml.flush_trace_async_logging()
    trace = ml.get_trace(trace_id)
    names = {s.span_id: s.name for s in trace.data.spans}
    lookup_span = next(s.span_id for s in trace.data.spans if s.name == "lookup")

    human = AssessmentSource(source_type="HUMAN", source_id="alice@example.com")
    judge = AssessmentSource(source_type="LLM_JUDGE", source_id="gpt-judge")
    created = {
        "score": ml.log_feedback(
            trace_id=trace_id,
            name="correctness",
            value=0.5,
            source=judge,
            rationale="partly right",
            metadata={"judge.version": "1"},
        ),
        "bool": ml.log_feedback(trace_id=trace_id, name="helpful", value=True),
        "dict": ml.log_feedback(
            trace_id=trace_id, name="scores", value={"a": 1, "b": [1, 2]}, span_id=lookup_span
        ),
        "error": ml.log_feedback(
            trace_id=trace_id,
            name="judge-failed",
            error=AssessmentError(error_code="RATE_LIMIT", error_message="slow down"),
            source=judge,
        ),
        "expect_str": ml.log_expectation(trace_id=trace_id, name="expected", value="Paris"),
        "expect_obj": ml.log_expectation(
            trace_id=trace_id,
            name="expected_facts",
            value={"facts": ["Paris", "France"], "n": 2},
            source=human,
            metadata={"batch": "b1"},
        ),
    }
    for label, assessment in created.items():
        labels.assessment(assessment.assessment_id, label)
    out["created"] = {k: assessment_doc(api, a, names) for k, a in created.items()}
    out["get_assessment"] = assessment_doc(
        api, ml.get_assessment(trace_id, created["score"].assessment_id), names
    )

    updated = ml.update_assessment(
        trace_id=trace_id,
        assessment_id=created["bool"].assessment_id,
        assessment=Feedback(name="helpful", value=False, rationale="changed my mind"),
    )
    out["updated_feedback"] = assessment_doc(api, updated, names)
    updated = ml.update_assessment(
        trace_id=trace_id,
        assessment_id=created["expect_str"].assessment_id,
        assessment=Expectation(name="expected", value="Paris, France"),
    )
    out["updated_expectation"] = assessment_doc(api, updated, names)

    override = ml.override_feedback(
        trace_id=trace_id,
        assessment_id=created["score"].assessment_id,
        value=1.0,
        rationale="fully right",
        source=human,
    )
    labels.assessment(override.assessment_id, "override")
    out["override"] = assessment_doc(api, override, names)
    out["overridden"] = assessment_doc(
        api, ml.get_assessment(trace_id, created["score"].assessment_id), names
    )

    ml.delete_assessment(trace_id=trace_id, assessment_id=created["dict"].assessment_id)
    out["deleted_get"] = error_doc(
        api, lambda: ml.get_assessment(trace_id, created["dict"].assessment_id)
    )
    out["trace"] = trace_doc(api, ml.get_trace(trace_id))
    exp_id = trace.info.experiment_id
    for label, filter_string in {
        "search_feedback_gt": "feedback.correctness > 0.7",
        "search_feedback_lt": "feedback.correctness < 0.7",
        "search_feedback_str": "feedback.helpful = 'false'",
        "search_expectation": "expectation.expected = 'Paris, France'",
        "search_expectation_old": "expectation.expected = 'Paris'",
    }.items():
        traces = ml.search_traces(
            locations=[exp_id], filter_string=filter_string, return_type="list"
        )
        out[label] = [labels.sub(t.info.trace_id) for t in traces]
    out["override_expectation"] = error_doc(
        api,
        lambda: ml.override_feedback(
            trace_id=trace_id, assessment_id=created["expect_obj"].assessment_id, value=1
        ),
    )
    out["unknown_assessment"] = error_doc(api, lambda: ml.get_assessment(trace_id, "a-" + "0" * 32))
    return out


def section_delete(api: Api) -> dict[str, Any]:
    """MlflowClient().delete_traces by ids and by timestamp (oldest first, max_traces)."""
    ml, client, labels, out = api.ml, api.client, api.labels, {}
    exp_id = _experiment(api, "compat-trace-delete")

    @ml.trace
    def work(i: int) -> int:
        return i

    ids = []
    for i in range(6):
        work(i)
        ids.append(_label_last_trace(api, f"work-{i}"))
        time.sleep(0.02)
    ml.flush_trace_async_logging()

    def remaining() -> list[str]:
        traces = ml.search_traces(locations=[exp_id], return_type="list", include_spans=False)
        return sorted(labels.sub(t.info.trace_id) for t in traces)

    out["deleted_by_ids"] = client.delete_traces(exp_id, trace_ids=ids[:2])
    out["after_ids"] = remaining()
    out["get_deleted"] = trace_doc(api, ml.get_trace(ids[0]))
    newest = ml.get_trace(ids[5]).info.timestamp_ms
    out["deleted_by_time"] = client.delete_traces(
        exp_id, max_timestamp_millis=newest - 1, max_traces=2
    )
    out["after_time_max_2"] = remaining()
    out["deleted_rest_by_time"] = client.delete_traces(exp_id, max_timestamp_millis=newest + 1)
    out["after_all"] = remaining()
    out["delete_again"] = client.delete_traces(exp_id, trace_ids=ids[:1])
    out["neither"] = error_doc(api, lambda: client.delete_traces(exp_id))
    return out


SECTIONS: dict[str, Callable[[Api], dict[str, Any]]] = {
    "decorated": section_decorated,
    "spans": section_spans,
    "run_link": section_run_link,
    "no_context": section_no_context,
    "search": section_search,
    "tags": section_tags,
    "assessments": section_assessments,
    "delete": section_delete,
}


def run_section(api: Api, name: str) -> Any:
    try:
        return SECTIONS[name](api)
    except Exception as exc:  # recorded, so one broken section does not hide the others
        print(f"section {name} failed:", file=sys.stderr)
        traceback.print_exc()
        return {"failed": type(exc).__name__, "error_code": getattr(exc, "error_code", None)}
    finally:
        if api.ml.active_run() is not None:
            api.ml.end_run()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracking-uri", required=True)
    parser.add_argument("--sections", default=",".join(SECTIONS))
    parser.add_argument("--out", required=True, help="file for the JSON result")
    args = parser.parse_args()
    api = Api("mlflow", args.tracking_uri)
    api.labels = TraceLabels()
    result = {}
    for name in args.sections.split(","):
        started = time.monotonic()
        result[name] = run_section(api, name)
        print(f"section {name}: {time.monotonic() - started:.1f}s", file=sys.stderr)
    with open(args.out, "w", encoding="utf-8") as out:
        json.dump(result, out, sort_keys=True, indent=1)


if __name__ == "__main__":
    main()
