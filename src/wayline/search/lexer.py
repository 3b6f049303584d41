"""Tokenizer for filter strings and order_by clauses: one compiled regex, one pass."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from wayline.errors import InvalidParameter

TokenKind = Literal[
    "string",  # 'single quoted' (always a value)
    "dquoted",  # "double quoted" (a key in identifier position, a value elsewhere)
    "backtick",  # `back ticked` (always a key)
    "qident",  # prefix.`quoted key`, prefix."quoted key", prefix.sub.`quoted key`
    "number",
    "word",  # bare identifier, possibly dotted (params.a.b), or a keyword
    "op",  # = != < <= > >= (and anything else made of those characters, rejected later)
    "punct",  # ( ) ,
    "end",
]

# Quoted runs keep doubled quotes and backslash-quote pairs inside them, without decoding them:
# MLflow takes the text between the outer quotes literally, so `'it''s'` means it''s.
_SQ = r"'(?:''|\\'|[^'])*'"
_DQ = r'"(?:""|\\"|[^"])*"'
_BQ = r"`(?:``|[^`])*`"
_TOKEN = re.compile(
    rf"""
    (?P<ws>\s+)
    |(?P<string>{_SQ})
    |(?P<dquoted>{_DQ})
    |(?P<backtick>{_BQ})
    |(?P<qident>[^\W\d]\w*(?:\.\w+)*\.(?:{_BQ}|{_DQ}))
    |(?P<number>[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?(?![\w.]))
    |(?P<word>[^\W\d]\w*(?:\.\w+)*)
    |(?P<op>[<>=!]+)
    |(?P<punct>[(),])
    |(?P<bad>.)
    """,
    re.VERBOSE | re.DOTALL,
)

KEYWORDS = frozenset(
    {"AND", "OR", "NOT", "IN", "LIKE", "ILIKE", "RLIKE", "IS", "NULL", "ASC", "DESC", "NULLS"}
)


@dataclass(frozen=True, slots=True)
class Token:
    kind: TokenKind
    text: str
    pos: int

    @property
    def keyword(self) -> str | None:
        """The upper-cased keyword this token spells, if any (keywords are case-insensitive)."""
        if self.kind == "word":
            upper = self.text.upper()
            if upper in KEYWORDS:
                return upper
        return None


def tokenize(text: str) -> list[Token]:
    """Split ``text`` into tokens, ending with an ``end`` token; raise on a stray character."""
    tokens: list[Token] = []
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup
        if kind == "ws":
            continue
        if kind == "bad":
            raise InvalidParameter(_bad_character_message(text, match.start()))
        tokens.append(Token(kind, match.group(), match.start()))  # type: ignore[arg-type]
    tokens.append(Token("end", "", len(text)))
    return tokens


def _bad_character_message(text: str, pos: int) -> str:
    char = text[pos]
    if char in "'\"`":
        return f"Unterminated quote {char} at position {pos} in {text!r}."
    hint = ""
    if char in "/-:@#$%&*+?[]{}|~^" or not char.isprintable():
        hint = " Quote keys that contain special characters, e.g. metrics.`loss/val`."
    elif char.isdigit() or char == ".":
        hint = " Keys and values must be separated by a comparator; numbers cannot start a word."
    return f"Invalid character {char!r} at position {pos} in {text!r}.{hint}"


def unquote(token_text: str) -> str:
    """Drop the outer quotes only; the inside is taken literally (no escape processing)."""
    return token_text[1:-1]


__all__ = ["KEYWORDS", "Token", "TokenKind", "tokenize", "unquote"]
