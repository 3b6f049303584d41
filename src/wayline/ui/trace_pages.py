"""An experiment's traces (``/experiments/<id>/traces``) and one trace's view
(``/experiments/<id>/traces/<trace_id>``), with the JSON pages of spans the view loads and the
form that adds feedback to a trace.

The list is one ``search_traces`` call; its filter, sort, page size and page are query
parameters, and a bad filter is shown inline with the parser's message. The trace page renders
the trace's info and assessments on the server; its spans, of which there may be 50,000, are
fetched by ``static/trace-view.js`` page by page from ``.../spans`` and drawn as a virtualised
tree and waterfall, so the page is interactive before the last span arrives.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlencode

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from wayline.entities import PagedList
from wayline.entities.assessment import (
    Assessment,
    AssessmentSource,
    AssessmentSourceType,
    Feedback,
)
from wayline.entities.trace import TraceInfo
from wayline.errors import InvalidParameter, WaylineError
from wayline.store.backend import Store
from wayline.store.traces import SPANS_PAGE_LIMIT
from wayline.ui.forms import local_path, read_form, see_other
from wayline.ui.templating import Pages
from wayline.ui.trace_tree import spans_page_json

PAGE_SIZES = (25, 50, 100, 250, 500)
DEFAULT_PAGE_SIZE = 50
# URL value -> the trace search's order_by key.
SORTS = {"time": "timestamp_ms", "duration": "execution_time_ms"}
FEEDBACK_SOURCE_ID = "wayline-ui"
SPANS_PAGE_UI = 2000


@dataclass(frozen=True)
class TraceListState:
    """What the URL says the traces list shows."""

    filter: str = ""
    sort: str = "time"
    descending: bool = True
    page_size: int = DEFAULT_PAGE_SIZE
    page_token: str = ""
    previous_tokens: tuple[str, ...] = ()

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> TraceListState:
        size = query.get("per_page", "")
        prev = query.get("prev")
        return cls(
            filter=query.get("filter", "").strip(),
            sort=query.get("sort", "time") if query.get("sort") in SORTS else "time",
            descending=query.get("dir", "desc") != "asc",
            page_size=int(size)
            if size.isdigit() and int(size) in PAGE_SIZES
            else DEFAULT_PAGE_SIZE,
            page_token=query.get("page_token", ""),
            previous_tokens=tuple(prev.split(",")) if prev is not None else (),
        )

    @property
    def page_number(self) -> int:
        return len(self.previous_tokens) + 1

    def order_by(self) -> list[str]:
        direction = "DESC" if self.descending else "ASC"
        # Then the trace id, so traces of equal time or duration keep one order across pages.
        return [f"{SORTS[self.sort]} {direction}", "request_id ASC"]

    def query(self, **changes: Any) -> str:
        """This state's URL query with ``changes``; any change but the page starts at page 1."""
        state = replace(self, **changes)
        if not {"page_token", "previous_tokens"} & changes.keys():
            state = replace(state, page_token="", previous_tokens=())
        pairs = [("filter", state.filter)] if state.filter else []
        if state.sort != "time" or not state.descending:
            pairs += [("sort", state.sort), ("dir", "desc" if state.descending else "asc")]
        if state.page_size != DEFAULT_PAGE_SIZE:
            pairs.append(("per_page", str(state.page_size)))
        if state.page_token:
            pairs += [("page_token", state.page_token), ("prev", ",".join(state.previous_tokens))]
        return "?" + urlencode(pairs)

    def sort_link(self, sort: str) -> str:
        """A header sorts descending first; clicking it again flips the order."""
        return self.query(sort=sort, descending=not self.descending if sort == self.sort else True)

    def next_page(self, token: str) -> str:
        return self.query(
            page_token=token, previous_tokens=(*self.previous_tokens, self.page_token)
        )

    def previous_page(self) -> str | None:
        if not self.previous_tokens:
            return None
        *before, last = self.previous_tokens
        return self.query(page_token=last, previous_tokens=tuple(before))


def total_tokens(info: TraceInfo) -> int | None:
    """The trace's total token count, from its usage metadata; None when it has none."""
    try:
        usage = info.token_usage
    except ValueError:  # metadata written by a foreign client, not JSON
        return None
    if not isinstance(usage, dict):
        return None
    total = usage.get("total_tokens")
    if isinstance(total, int):
        return total
    parts = [usage.get(k) for k in ("input_tokens", "output_tokens")]
    return sum(p for p in parts if isinstance(p, int)) if any(parts) else None


def user_tags(info: TraceInfo) -> list[tuple[str, str]]:
    return sorted((k, v) for k, v in info.tags.items() if not k.startswith("mlflow."))


def json_text(value: Any) -> str:
    """An assessment or form value as compact JSON text (``"yes"``, ``0.8``, ``true``)."""
    return json.dumps(value, ensure_ascii=False, default=str)


def parse_value(text: str) -> Any:
    """A feedback value typed in a form: JSON when it is (``true``, ``4``, ``{"a": 1}``),
    else the text itself, so ``good`` needs no quotes."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def _here(request: Request) -> str:
    return request.url.path + (f"?{request.url.query}" if request.url.query else "")


class TracePages:
    def __init__(self, store: Store, pages: Pages) -> None:
        self.store = store
        self.pages = pages

    def routes(self) -> list[tuple[str, Callable[[Request], Awaitable[Response]], str]]:
        """``(path, endpoint, method)`` of the traces pages, for ``add_ui_pages``."""
        trace = "/experiments/{experiment_id}/traces/{trace_id}"
        return [
            ("/experiments/{experiment_id}/traces", self.list, "GET"),
            (trace, self.trace, "GET"),
            (f"{trace}/spans", self.spans, "GET"),
            (f"{trace}/assessments", self.add_feedback, "POST"),
        ]

    async def list(self, request: Request) -> Response:
        experiment_id = request.path_params["experiment_id"]
        experiment = await run_in_threadpool(self.store.get_experiment, experiment_id)
        state = TraceListState.from_query(request.query_params)
        traces: PagedList[TraceInfo] = PagedList()
        error = None
        try:
            traces = await run_in_threadpool(
                self.store.search_traces,
                [experiment_id],
                state.filter or None,
                state.page_size,
                state.order_by(),
                state.page_token or None,
            )
        except InvalidParameter as exc:
            error = exc.message
        context = {
            "title": f"Traces · {experiment.name}",
            "experiment": experiment,
            "state": state,
            "traces": traces,
            "tokens": {info.trace_id: total_tokens(info) for info in traces},
            "tags": {info.trace_id: user_tags(info) for info in traces},
            "page_sizes": PAGE_SIZES,
            "error": error,
            "next_link": state.next_page(traces.token) if traces.token else None,
            "previous_link": state.previous_page(),
        }
        return self.pages.render("traces.html", context, status_code=400 if error else 200)

    async def _info(self, request: Request) -> tuple[str, TraceInfo]:
        experiment_id = request.path_params["experiment_id"]
        info = await run_in_threadpool(self.store.get_trace_info, request.path_params["trace_id"])
        return experiment_id, info

    async def trace(self, request: Request) -> Response:
        experiment_id, info = await self._info(request)
        if info.experiment_id != experiment_id:
            query = f"?{request.url.query}" if request.url.query else ""
            return see_other(f"/experiments/{info.experiment_id}/traces/{info.trace_id}{query}")
        experiment = await run_in_threadpool(self.store.get_experiment, experiment_id)
        base = f"/experiments/{experiment_id}/traces/{info.trace_id}"
        context = {
            "title": f"Trace {info.trace_id}",
            "experiment": experiment,
            "info": info,
            "tags": user_tags(info),
            "system_tags": sorted((k, v) for k, v in info.tags.items() if k.startswith("mlflow.")),
            "metadata": sorted(info.trace_metadata.items()),
            "total_tokens": total_tokens(info),
            "usage": _usage(info),
            "assessments": sorted(
                info.assessments, key=lambda a: (a.create_time_ms or 0, a.assessment_id or "")
            ),
            "json_text": json_text,
            "spans_url": f"{base}/spans",
            "feedback_url": f"{base}/assessments",
            "here": _here(request),
            "selected": request.query_params.get("span", ""),
        }
        return self.pages.render("trace.html", context)

    async def spans(self, request: Request) -> Response:
        """One page of the trace's spans as JSON; errors as the API's JSON error body."""
        try:
            experiment_id, info = await self._info(request)
            if info.experiment_id != experiment_id:
                raise InvalidParameter(
                    f"Trace {info.trace_id!r} is not in experiment {experiment_id!r}."
                )
            size = request.query_params.get("max_results", str(SPANS_PAGE_UI))
            if not size.isdigit() or not 0 < int(size) <= SPANS_PAGE_LIMIT:
                raise InvalidParameter(f"max_results must be between 1 and {SPANS_PAGE_LIMIT}.")
            page = await run_in_threadpool(
                self.store.get_spans,
                info.trace_id,
                int(size),
                request.query_params.get("page_token") or None,
            )
        except WaylineError as exc:
            body = {"error_code": exc.error_code, "message": exc.message}
            return Response(orjson.dumps(body), exc.http_status, media_type="application/json")
        return Response(
            spans_page_json(page, info.request_time_ms * 1_000_000),
            media_type="application/json",
            headers={"cache-control": "no-store"},
        )

    async def add_feedback(self, request: Request) -> Response:
        """Post/redirect/get: a human's feedback on the trace (or on one of its spans)."""
        form = await read_form(request)
        experiment_id, info = await self._info(request)
        if info.experiment_id != experiment_id:
            raise InvalidParameter(
                f"Trace {info.trace_id!r} is not in experiment {experiment_id!r}."
            )
        assessment = Assessment(
            name=form.required("name"),
            trace_id=info.trace_id,
            source=AssessmentSource(AssessmentSourceType.HUMAN, FEEDBACK_SOURCE_ID),
            feedback=Feedback(parse_value(form.required("value"))),
            span_id=form.get("span_id").strip() or None,
            rationale=form.get("rationale").strip() or None,
        )
        await run_in_threadpool(self.store.create_assessment, assessment)
        fallback = f"/experiments/{experiment_id}/traces/{info.trace_id}"
        return see_other(local_path(form.get("return_to"), fallback) + "#assessments")


def _usage(info: TraceInfo) -> list[tuple[str, int]]:
    try:
        usage = info.token_usage
    except ValueError:
        return []
    if not isinstance(usage, dict):
        return []
    return [(k, v) for k, v in usage.items() if isinstance(v, int)]


__all__ = ["TraceListState", "TracePages", "parse_value", "total_tokens"]
