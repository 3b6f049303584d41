from __future__ import annotations

import dataclasses

import pytest

from wayline.entities import Metric, Param, RunTag
from wayline.entities.builders import new_metric, new_param, new_tag


def test_fast_builders_are_in_use() -> None:
    # If an entity's fields change, the builders fall back to the (slower) constructors: update
    # the builder classes in builders.py to match the entity.
    assert new_metric is not Metric  # type: ignore[comparison-overlap]
    assert new_param is not Param
    assert new_tag is not RunTag


def test_built_entities_are_genuine_frozen_instances() -> None:
    metric = new_metric("loss", 0.5, 10, 2)
    assert type(metric) is Metric
    assert metric == Metric("loss", 0.5, 10, 2)
    assert hash(metric) == hash(Metric("loss", 0.5, 10, 2))
    assert new_metric("loss", 0.5, 10, 2, "r1") == Metric("loss", 0.5, 10, 2, run_id="r1")
    assert (new_param("a", "b"), new_tag("c", "d")) == (Param("a", "b"), RunTag("c", "d"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        metric.value = 1.0  # type: ignore[misc]


def test_run_info_columns_follow_the_entity_fields() -> None:
    from wayline.entities import RunInfo
    from wayline.store.sql.runs import INFO_FIELDS

    # Rows become RunInfo(*row): the selected columns must follow the dataclass's field order.
    expected = [f.name for f in dataclasses.fields(RunInfo)]
    assert [{"name": "run_name"}.get(n, n) for n in INFO_FIELDS] == expected
