"""Splitting log-batch payloads within MLflow's limits."""

from __future__ import annotations

from wayline.entities import Metric, Param, RunTag
from wayline.tracking.batching import chunk_batch


def test_small_metric_batch_is_one_request() -> None:
    metrics = [Metric("m", 1.0, 0, s) for s in range(1000)]
    chunks = list(chunk_batch(metrics, [], []))
    assert len(chunks) == 1 and len(chunks[0][0]) == 1000


def test_limits_on_every_family_and_in_total() -> None:
    metrics = [Metric("m", 1.0, 0, s) for s in range(2500)]
    params = [Param(f"p{i}", "v") for i in range(250)]
    tags = [RunTag(f"t{i}", "v") for i in range(250)]
    chunks = list(chunk_batch(metrics, params, tags))
    for m, p, t in chunks:
        assert len(m) <= 1000 and len(p) <= 100 and len(t) <= 100
        assert len(m) + len(p) + len(t) <= 1000
    assert sum(len(m) for m, _, _ in chunks) == 2500
    assert sum(len(p) for _, p, _ in chunks) == 250
    assert sum(len(t) for _, _, t in chunks) == 250


def test_repeated_param_is_dropped_and_conflicting_one_goes_to_another_request() -> None:
    params = [Param("a", "1"), Param("a", "1"), Param("b", "2"), Param("a", "9")]
    chunks = list(chunk_batch([], params, []))
    assert [[(p.key, p.value) for p in ps] for _, ps, _ in chunks] == [
        [("a", "1"), ("b", "2")],
        [("a", "9")],
    ]


def test_repeated_tag_keeps_last_value() -> None:
    chunks = list(chunk_batch([], [], [RunTag("k", "1"), RunTag("k", "2")]))
    assert chunks == [([], [], [RunTag("k", "2")])]
