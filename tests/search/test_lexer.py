"""The tokenizer: quoting rules (no escape processing) and positions for error messages."""

from __future__ import annotations

import pytest

from wayline.errors import InvalidParameter
from wayline.search.lexer import tokenize


def kinds(text: str) -> list[tuple[str, str]]:
    return [(token.kind, token.text) for token in tokenize(text)[:-1]]


def test_tokens_of_a_clause() -> None:
    assert kinds("params.a.b>=-1.5e3 AND tags.`x y` IN ('a','b')") == [
        ("word", "params.a.b"),
        ("op", ">="),
        ("number", "-1.5e3"),
        ("word", "AND"),
        ("qident", "tags.`x y`"),
        ("word", "IN"),
        ("punct", "("),
        ("string", "'a'"),
        ("punct", ","),
        ("string", "'b'"),
        ("punct", ")"),
    ]


@pytest.mark.parametrize(
    ("text", "token"),
    [
        ("'it''s'", "'it''s'"),
        ("'it\\'s'", "'it\\'s'"),
        ("'a\\'", "'a\\'"),
        ('"say ""hi"""', '"say ""hi"""'),
        ("`a``b`", "`a``b`"),
        ("'multi\nline'", "'multi\nline'"),
    ],
)
def test_quoted_runs_are_one_token(text: str, token: str) -> None:
    assert [t.text for t in tokenize(text)][:-1] == [token]


def test_end_token_and_keywords() -> None:
    tokens = tokenize("a and B")

    assert tokens[-1].kind == "end"
    assert tokens[-1].pos == 7
    assert [t.keyword for t in tokens] == [None, "AND", None, None]


def test_keyword_needs_no_dot() -> None:
    assert tokenize("tags.and")[0].keyword is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("'open", "Unterminated quote '"),
        ("`open", "Unterminated quote `"),
        ("a / b", "Invalid character '/' at position 2"),
        ("a\x00", "Invalid character"),
    ],
)
def test_bad_input(text: str, message: str) -> None:
    with pytest.raises(InvalidParameter, match=message):
        tokenize(text)
