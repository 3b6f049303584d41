# mypy: ignore-errors
# (Run by another interpreter: MLflow's venv, whose `mlflow` our venv does not have.)
"""MLflow's trace entities as comparable JSON, for ``tracing_scenario.py``.

Server-made values are normalised away: trace, run, assessment and experiment ids become labels
(``trace:outer``), span ids become their span's name, times become whether they are set and in
order, metadata that depends on where the client runs keeps its key only.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from scenario import Api, Labels

# Metadata whose values depend on where and when the client runs (the user, the script's path,
# git, sizes that follow the lengths of random ids and times): compared by key only.
VOLATILE_METADATA_PREFIXES = ("mlflow.source.git.", "mlflow.trace.size")
VOLATILE_METADATA = {"mlflow.user", "mlflow.source.name", "mlflow.trace.sizeBytes"}


class TraceLabels(Labels):
    """Labels for the ids tracing adds: traces, assessments (long ids replaced anywhere)."""

    def trace(self, trace_id: str, label: str) -> None:
        self._long[trace_id] = f"trace:{label}"

    def assessment(self, assessment_id: str, label: str) -> None:
        self._long[assessment_id] = f"assessment:{label}"

    def ids(self, label: str) -> str:
        """The trace id labelled ``label``."""
        return next(k for k, v in self._long.items() if v == f"trace:{label}")


# --------------------------------------------------------------------------- entity -> JSON
def _status(span: Any) -> dict[str, Any]:
    status = span.status
    code = getattr(status.status_code, "value", status.status_code)
    return {"code": str(code), "description": status.description or ""}


def _event_doc(event: Any) -> dict[str, Any]:
    attributes = dict(event.attributes or {})
    if "exception.stacktrace" in attributes:  # line numbers and paths: present is enough
        attributes["exception.stacktrace"] = bool(attributes["exception.stacktrace"])
    return {"name": event.name, "attributes": dict(sorted(attributes.items()))}


def span_docs(api: Api, trace: Any) -> list[dict[str, Any]]:
    """The trace's spans in start order, each with its parent's name instead of ids."""
    spans = sorted(trace.data.spans, key=lambda s: (s.start_time_ns, s.name))
    names = {s.span_id: s.name for s in spans}
    docs = []
    for span in spans:
        attributes = {
            k: v for k, v in (span.attributes or {}).items() if k != "mlflow.traceRequestId"
        }
        docs.append(
            api.labels.sub(
                {
                    "name": span.name,
                    "parent": names.get(span.parent_id, span.parent_id),
                    "type": span.span_type,
                    "inputs": span.inputs,
                    "outputs": span.outputs,
                    "attributes": dict(sorted(attributes.items())),
                    "status": _status(span),
                    "events": [_event_doc(e) for e in span.events],
                    "request_id_attribute": api.labels.sub(
                        (span.attributes or {}).get("mlflow.traceRequestId")
                    ),
                    "timed": bool(span.start_time_ns)
                    and span.end_time_ns is not None
                    and span.end_time_ns >= span.start_time_ns,
                }
            )
        )
    return docs


def _metadata_doc(metadata: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in sorted(metadata.items()):
        volatile = key in VOLATILE_METADATA or key.startswith(VOLATILE_METADATA_PREFIXES)
        out[key] = "<set>" if volatile else value
    return out


def enum_value(value: Any) -> Any:
    return getattr(value, "value", value)


def assessment_doc(api: Api, assessment: Any, span_names: dict[str, str]) -> dict[str, Any]:
    feedback = getattr(assessment, "feedback", None)
    error = getattr(feedback, "error", None) if feedback is not None else None
    source = assessment.source
    return api.labels.sub(
        {
            "id": assessment.assessment_id,
            "name": assessment.name,
            "kind": type(assessment).__name__,
            "value": assessment.value,
            "error": (
                {"code": error.error_code, "message": error.error_message}
                if error is not None
                else None
            ),
            "source": [enum_value(source.source_type), source.source_id] if source else None,
            "rationale": assessment.rationale,
            "metadata": dict(sorted((assessment.metadata or {}).items())),
            "span": span_names.get(assessment.span_id, assessment.span_id),
            "valid": assessment.valid,
            "overrides": assessment.overrides,
            "has_times": bool(assessment.create_time_ms) and bool(assessment.last_update_time_ms),
            "trace": assessment.trace_id,
        }
    )


def info_doc(api: Api, info: Any, span_names: dict[str, str] | None = None) -> dict[str, Any]:
    span_names = span_names or {}
    assessments = [assessment_doc(api, a, span_names) for a in info.assessments or []]
    return api.labels.sub(
        {
            "id": info.trace_id,
            "experiment": api.labels.exp(info.experiment_id),
            "state": enum_value(info.state),
            "request_preview": info.request_preview,
            "response_preview": info.response_preview,
            "client_request_id": info.client_request_id,
            "has_request_time": bool(info.request_time),
            "has_duration": info.execution_duration is not None,
            "metadata": _metadata_doc(info.trace_metadata),
            "tags": dict(sorted(info.tags.items())),
            "assessments": sorted(assessments, key=lambda a: (a["name"], json.dumps(a))),
        }
    )


def trace_doc(api: Api, trace: Any) -> dict[str, Any] | None:
    if trace is None:
        return None
    names = {s.span_id: s.name for s in trace.data.spans}
    return {"info": info_doc(api, trace.info, names), "spans": span_docs(api, trace)}


def error_doc(api: Api, call: Callable[[], Any], *, message: bool = True) -> dict[str, Any]:
    """``{"code", "message"}`` of the MlflowException ``call`` raises, or ``{"code": "ok"}``;
    ``message=False`` keeps the code only (for texts the spec does not fix)."""
    try:
        call()
    except api.error as exc:
        doc = {"code": str(exc.error_code)}
        if message:
            doc["message"] = api.labels.sub(str(exc.message))
        return doc
    return {"code": "ok"}
