"""The in-memory evaluator: same semantics as the SQL compiler, over plain mappings."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wayline.errors import InvalidParameter
from wayline.search import Comparison, Identifier, Record, matches, parse_run_filter
from wayline.search.evaluate import compare_value, like_pattern

RECORD = Record(
    metrics={"rmse": 0.5, "nan": math.nan, "zero": 0.0},
    params={"alpha": "0.5", "name": "Hello_World%", "empty": ""},
    tags={"team": "ML"},
    attributes={"status": "FINISHED", "start_time": 1000, "end_time": None, "run_name": "r"},
    datasets=[{"name": "train", "digest": "d1", "context": "training"}, {"name": "test"}],
)

CASES: list[tuple[str, bool]] = [
    ("metrics.rmse < 1", True),
    ("metrics.rmse = 0.5", True),
    ("metrics.rmse > 0.5", False),
    # NaN compares as IEEE 754 says: unequal to everything, neither less nor greater.
    ("metrics.nan != 1", True),
    ("metrics.nan != 0", True),
    ("metrics.nan = 0", False),
    ("metrics.nan < 1", False),
    ("metrics.nan <= 0", False),
    ("metrics.nan > -1", False),
    ("metrics.nan >= 0", False),
    ("metrics.zero = 0", True),
    ("metrics.missing != 1", False),  # a missing key never matches
    ("params.alpha = '0.5'", True),
    ("params.alpha != '0.5'", False),
    ("params.missing != 'x'", False),
    ("params.missing IS NULL", True),
    ("params.empty IS NOT NULL", True),
    ("params.empty = ''", True),
    ("params.name LIKE 'Hello%'", True),
    ("params.name LIKE 'hello%'", False),
    ("params.name ILIKE 'hello%'", True),
    ("params.name LIKE 'Hello_World_'", True),
    ("params.name LIKE 'Hello\\_World\\%'", True),
    ("params.name LIKE 'Hello\\%World%'", False),
    ("params.name LIKE 'Hello.World%'", False),  # regex characters are literal
    ("tags.team IN ('ML', 'DS')", True),
    ("tags.team NOT IN ('ML')", False),
    ("tags.missing NOT IN ('ML')", False),
    ("status = 'FINISHED'", True),
    ("start_time >= 1000", True),
    ("created < 1000", False),
    ("end_time != 5", False),  # no end time: no match
    ("run_name ILIKE 'R'", True),
    ("dataset.name = 'test'", True),
    ("dataset.context = 'training'", True),
    ("dataset.context != 'training'", False),  # the other input has no context
    ("dataset.digest NOT IN ('d2')", True),
    ("dataset.name = 'train' AND dataset.context = 'training'", True),
    ("metrics.rmse > 1 OR params.alpha = '0.5'", True),
    ("(metrics.rmse > 1 OR params.alpha = '0.5') AND tags.team = 'DS'", False),
    ("", True),
]


@pytest.mark.parametrize(("filter_string", "expected"), CASES, ids=[f for f, _ in CASES])
def test_matches(filter_string: str, expected: bool) -> None:
    assert matches(parse_run_filter(filter_string), RECORD) is expected


def test_empty_record_matches_only_absence() -> None:
    empty = Record()

    assert matches(None, empty)
    assert matches(parse_run_filter("params.a IS NULL AND tags.t IS NULL"), empty)
    assert not matches(parse_run_filter("params.a != 'x'"), empty)
    assert not matches(parse_run_filter("dataset.name != 'x'"), empty)


def test_strings_and_numbers_never_compare_equal() -> None:
    assert not compare_value("1", "=", 1)
    assert not compare_value(1, "=", "1")
    assert not compare_value(True, "=", 1)
    assert compare_value(1, "=", 1.0)


def test_rlike_for_later_entities() -> None:
    clause = Comparison(Identifier("tag", "t"), "RLIKE", "^ab+c")

    assert matches(clause, Record(tags={"t": "abbbc-x"}))
    assert not matches(clause, Record(tags={"t": "xabc"}))
    with pytest.raises(InvalidParameter, match="Invalid regular expression"):
        matches(Comparison(Identifier("tag", "t"), "RLIKE", "("), Record(tags={"t": "x"}))


@pytest.mark.parametrize(
    ("pattern", "text", "ignore_case", "expected"),
    [
        ("%", "", False, True),
        ("_", "", False, False),
        ("a%b", "a\nb", False, True),
        ("A%", "abc", True, True),
        ("\\\\%", "\\x", False, True),
        ("trailing\\", "trailing\\", False, True),
        ("[a]", "[a]", False, True),
        ("x*", "xx", False, False),
    ],
)
def test_like_pattern(pattern: str, text: str, ignore_case: bool, expected: bool) -> None:
    assert (like_pattern(pattern, ignore_case).fullmatch(text) is not None) is expected


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=12), other=st.text(max_size=12))
def test_escaped_text_matches_only_itself(text: str, other: str) -> None:
    pattern = "".join("\\" + ch if ch in "_%\\" else ch for ch in text)

    assert like_pattern(pattern, False).fullmatch(text) is not None
    assert (like_pattern(pattern, False).fullmatch(other) is not None) is (other == text)
