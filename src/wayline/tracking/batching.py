"""Splitting values into log-batch requests within MLflow's limits (spec rest-tracking §4.1)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from wayline.entities import Metric, Param, RunTag

MAX_METRICS = 1000
MAX_PARAMS = 100
MAX_TAGS = 100
MAX_ITEMS = 1000

Batch = tuple[list[Metric], list[Param], list[RunTag]]


def chunk_batch(
    metrics: Sequence[Metric], params: Sequence[Param], tags: Sequence[RunTag]
) -> Iterator[Batch]:
    """Yield (metrics, params, tags) chunks that each fit in one log-batch request.

    Params and tags go first, as MLflow's client sends them. A param key repeated with the same
    value is dropped (it would be a no-op); with a different value it goes to a later chunk, so
    the store reports the conflict instead of rejecting the whole chunk for a duplicate key. A
    repeated tag key keeps its last value, which is what setting the tags one by one would do.
    """
    if len(metrics) <= MAX_METRICS and not params and not tags:
        yield list(metrics), [], []
        return
    param_chunks = _param_chunks(params)
    tag_list = list({tag.key: tag for tag in tags}.values())
    chunk_m: list[Metric] = []
    chunk_p: list[Param] = []
    chunk_t: list[RunTag] = []
    for group in param_chunks:
        for param in group:
            if len(chunk_p) == MAX_PARAMS:
                yield chunk_m, chunk_p, chunk_t
                chunk_m, chunk_p, chunk_t = [], [], []
            chunk_p.append(param)
        if len(param_chunks) > 1:
            # Keys repeat between groups: end the chunk so no request holds a key twice.
            yield chunk_m, chunk_p, chunk_t
            chunk_m, chunk_p, chunk_t = [], [], []
    for tag in tag_list:
        if len(chunk_t) == MAX_TAGS or len(chunk_p) + len(chunk_t) == MAX_ITEMS:
            yield chunk_m, chunk_p, chunk_t
            chunk_m, chunk_p, chunk_t = [], [], []
        chunk_t.append(tag)
    for metric in metrics:
        if len(chunk_m) + len(chunk_p) + len(chunk_t) == MAX_ITEMS:
            yield chunk_m, chunk_p, chunk_t
            chunk_m, chunk_p, chunk_t = [], [], []
        chunk_m.append(metric)
    if chunk_m or chunk_p or chunk_t:
        yield chunk_m, chunk_p, chunk_t


def _param_chunks(params: Sequence[Param]) -> list[list[Param]]:
    """Params in groups without a repeated key, dropping exact repeats."""
    groups: list[dict[str, Param]] = []
    for param in params:
        for group in groups:
            seen = group.get(param.key)
            if seen is None:
                group[param.key] = param
                break
            if seen.value == param.value:
                break
        else:
            groups.append({param.key: param})
    return [list(group.values()) for group in groups]
