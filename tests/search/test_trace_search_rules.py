"""Trace filters and order_by (spec search-syntax.md §7) as parsed, before any database."""

from __future__ import annotations

import pytest

from wayline.errors import InvalidParameter
from wayline.search import Comparison, Identifier, IdentifierKind, OrderBy, Value
from wayline.search.lexer import tokenize
from wayline.search.traces import parse_trace_filter, parse_trace_order_by


def c(kind: IdentifierKind, key: str, comparator: str, value: Value = None) -> Comparison:
    return Comparison(Identifier(kind, key), comparator, value)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("trace.status = 'OK'", c("attribute", "status", "=", "OK")),
        ("status IN ('OK', 'ERROR')", c("attribute", "status", "IN", ("OK", "ERROR"))),
        ("timestamp > 1700000000000", c("attribute", "timestamp_ms", ">", 1700000000000)),
        ("trace.execution_time <= 5", c("attribute", "execution_time_ms", "<=", 5)),
        ("attributes.end_time > 1", c("attribute", "end_time_ms", ">", 1)),
        ("trace.trace_id = 'tr-1'", c("attribute", "request_id", "=", "tr-1")),
        ("trace.name LIKE 'ag%'", c("attribute", "name", "LIKE", "ag%")),
        ("attribute.run_id = 'r'", c("attribute", "run_id", "=", "r")),
        ("trace.prompt = 'qa/2'", c("attribute", "prompt", "=", "qa/2")),
        ("trace.text ILIKE '%x%'", c("attribute", "text", "ILIKE", "%x%")),
        ("tags.env IS NULL", c("tag", "env", "IS NULL")),
        ("tag.env RLIKE '^p'", c("tag", "env", "RLIKE", "^p")),
        ("metadata.`mlflow.trace.user` = 'a'", c("metadata", "mlflow.trace.user", "=", "a")),
        ("request_metadata.k != 'v'", c("metadata", "k", "!=", "v")),
        ("span.type = 'LLM'", c("span", "type", "=", "LLM")),
        ("span.content LIKE '%a%'", c("span", "content", "LIKE", "%a%")),
        ("span.attributes.model = 'x'", c("span", "attributes.model", "=", "x")),
        # A quoted last segment after a dotted prefix: the key keeps its dots.
        (
            "span.attributes.`mlflow.spanType` = 'LLM'",
            c("span", "attributes.mlflow.spanType", "=", "LLM"),
        ),
        ("span.attributes.\"a b\" IN ('x')", c("span", "attributes.a b", "IN", ("x",))),
        ("feedback.score > 0.5", c("feedback", "score", ">", 0.5)),
        ("feedback.score >= 1", c("feedback", "score", ">=", 1.0)),
        ("feedback.label = 'true'", c("feedback", "label", "=", "true")),
        ("expectation.`the answer` IS NOT NULL", c("expectation", "the answer", "IS NOT NULL")),
        ("issue.id = 'i-1'", c("issue", "id", "=", "i-1")),
    ],
)
def test_trace_filters_parse(text: str, expected: Comparison) -> None:
    assert parse_trace_filter(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("feedback.label = true", "quoted string value for feedback.label"),
        ("feedback.score > '1'", "unquoted number for feedback.score"),
        ("span.kind = 'x'", "Invalid span attribute 'kind'"),
        ("span.attributes = 'x'", "Span attribute name cannot be empty"),
        ("trace.prompt = 'qa'", "Expected format: prompt = 'name/version'"),
        ("tags.t RLIKE '['", "Invalid regular expression"),
        ("issue.name = 'x'", "Invalid issue attribute 'name'"),
        ("trace.session_id = 'x'", "mlflow.trace.session"),
        ("experiment_id = '1'", "pass the experiment ids"),
        ("trace.text = 'x'", "Invalid comparator '='"),
        ("bogus.k = 'x'", "Invalid entity type 'bogus'"),
        ("trace.timestamp_ms = '1'", "Expected numeric value type"),
    ],
)
def test_bad_trace_filters_say_what_to_fix(text: str, message: str) -> None:
    with pytest.raises(InvalidParameter, match=message.replace("(", r"\(")):
        parse_trace_filter(text)


def test_order_by_keys_and_aliases() -> None:
    assert parse_trace_order_by(["timestamp DESC", "tags.env", "trace.name ASC"]) == [
        OrderBy(Identifier("attribute", "timestamp_ms"), False),
        OrderBy(Identifier("tag", "env"), True),
        OrderBy(Identifier("attribute", "name"), True),
    ]
    for bad in (["span.name"], ["metadata.k"], ["text"], ["timestamp", "timestamp_ms"]):
        with pytest.raises(InvalidParameter):
            parse_trace_order_by(bad)


def test_quoted_key_after_a_dotted_prefix_is_one_token() -> None:
    [token, end] = tokenize("span.attributes.`a.b`")
    assert (token.kind, token.text, end.kind) == ("qident", "span.attributes.`a.b`", "end")
