"""Recursive-descent parser: filter strings and order_by clauses to the AST.

Grammar (AND binds tighter than OR; OR, parentheses and IN on string keys go beyond MLflow)::

    filter     := "" | or_expr
    or_expr    := and_expr ("OR" and_expr)*
    and_expr   := primary ("AND" primary)* ["AND"]      -- a trailing AND ends the filter
    primary    := "(" or_expr ")" | clause
    clause     := identifier comparator [value]
    order_by   := identifier ["ASC" | "DESC"]

Keys are validated by an ``EntityRules`` table, so this module knows nothing about runs.
"""

from __future__ import annotations

from wayline.errors import InvalidParameter
from wayline.search.ast import COMPARISON_OPERATORS, And, Comparator, Expr, Or, OrderBy
from wayline.search.lexer import Token, tokenize, unquote
from wayline.search.rules import EntityRules, RawIdentifier, RawValue

# Parentheses nest at most this deep, so a hostile filter cannot exhaust the stack.
MAX_DEPTH = 50

_WORD_COMPARATORS: frozenset[str] = frozenset({"LIKE", "ILIKE", "RLIKE", "IN"})
_COMPARATOR_HINT = "=, !=, <, <=, >, >=, LIKE, ILIKE, IN, NOT IN, IS NULL, IS NOT NULL"


def parse_filter(text: str | None, rules: EntityRules) -> Expr | None:
    """The AST of filter ``text``, or None when it is empty (match everything)."""
    if text is None or not text.strip():
        return None
    return _Parser(text, rules).filter()


def parse_order_by(clause: str, rules: EntityRules) -> OrderBy:
    """One order_by entry such as ``metrics.rmse DESC``."""
    return _Parser(clause, rules).order_by()


class _Parser:
    def __init__(self, text: str, rules: EntityRules) -> None:
        self.text = text
        self.rules = rules
        self.tokens = tokenize(text)
        self.index = 0

    @property
    def current(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        if token.kind != "end":
            self.index += 1
        return token

    def at_end(self) -> bool:
        return self.current.kind == "end"

    def at_keyword(self, *keywords: str) -> bool:
        return self.current.keyword in keywords

    def at_punct(self, char: str) -> bool:
        return self.current.kind == "punct" and self.current.text == char

    def fail(self, expected: str) -> InvalidParameter:
        token = self.current
        found = "the end of the filter" if token.kind == "end" else repr(token.text)
        return InvalidParameter(
            f"Invalid filter {self.text!r}: expected {expected} at position {token.pos}, "
            f"found {found}."
        )

    # filters

    def filter(self) -> Expr:
        expr = self.or_expr(0)
        if not self.at_end():
            raise self.fail("AND, OR or the end of the filter")
        return expr

    def or_expr(self, depth: int) -> Expr:
        operands = [self.and_expr(depth)]
        while self.at_keyword("OR"):
            self.advance()
            operands.append(self.and_expr(depth))
        return _combine(Or, operands)

    def and_expr(self, depth: int) -> Expr:
        operands = [self.primary(depth)]
        while self.at_keyword("AND"):
            self.advance()
            if self.at_end():  # MLflow tolerates a trailing AND
                break
            operands.append(self.primary(depth))
        return _combine(And, operands)

    def primary(self, depth: int) -> Expr:
        if self.at_punct("("):
            if depth >= MAX_DEPTH:
                raise InvalidParameter(f"Filter nests parentheses deeper than {MAX_DEPTH} levels.")
            self.advance()
            expr = self.or_expr(depth + 1)
            if not self.at_punct(")"):
                raise self.fail("')' or another clause joined by AND/OR")
            self.advance()
            return expr
        if self.at_keyword("NOT"):
            raise InvalidParameter(
                f"Invalid filter {self.text!r}: NOT is not supported as an operator; "
                "use '!=' or 'NOT IN' in the clause instead."
            )
        return self.clause()

    def clause(self) -> Expr:
        ident = self.identifier()
        comparator = self.comparator(ident)
        if comparator in ("IS NULL", "IS NOT NULL"):
            raw = RawValue("none", None, "")
        else:
            raw = self.value(ident, comparator)
        return self.rules.comparison(ident, comparator, raw)

    def identifier(self) -> RawIdentifier:
        token = self.current
        if token.kind == "word" and token.keyword is None:
            self.advance()
            prefix, dot, key = token.text.partition(".")
            return RawIdentifier(prefix if dot else None, key if dot else prefix, token.text)
        if token.kind in ("backtick", "dquoted"):
            self.advance()
            return RawIdentifier(None, unquote(token.text), token.text)
        if token.kind == "qident":
            self.advance()
            # The quoted part is the last segment: span.attributes.`a.b` is key attributes.a.b.
            quote = min(i for i in (token.text.find("`"), token.text.find('"')) if i >= 0)
            prefix, _, middle = token.text[: quote - 1].partition(".")
            key = (
                f"{middle}.{unquote(token.text[quote:])}" if middle else unquote(token.text[quote:])
            )
            return RawIdentifier(prefix, key, token.text)
        raise self.fail("a key such as metrics.rmse, params.alpha or tags.`my tag`")

    def comparator(self, ident: RawIdentifier) -> Comparator:
        token = self.current
        if token.kind == "op":
            if token.text not in COMPARISON_OPERATORS:
                raise InvalidParameter(
                    f"Invalid comparator '{token.text}' after '{ident.text}': "
                    f"use one of {_COMPARATOR_HINT}."
                )
            self.advance()
            return token.text  # type: ignore[return-value]
        keyword = token.keyword
        if keyword in _WORD_COMPARATORS:
            self.advance()
            return keyword  # type: ignore[return-value]
        if keyword == "NOT":
            self.advance()
            if not self.at_keyword("IN"):
                raise self.fail(f"IN after NOT ('{ident.text} NOT IN (...)')")
            self.advance()
            return "NOT IN"
        if keyword == "IS":
            self.advance()
            negated = self.at_keyword("NOT")
            if negated:
                self.advance()
            if not self.at_keyword("NULL"):
                raise self.fail("NULL (IS NULL / IS NOT NULL)")
            self.advance()
            return "IS NOT NULL" if negated else "IS NULL"
        raise self.fail(f"a comparator ({_COMPARATOR_HINT}) after '{ident.text}'")

    def value(self, ident: RawIdentifier, comparator: str) -> RawValue:
        token = self.current
        if token.kind in ("string", "dquoted"):
            self.advance()
            return RawValue("string", unquote(token.text), token.text)
        if token.kind == "number":
            self.advance()
            return RawValue("number", token.text, token.text)
        if token.kind in ("word", "backtick", "qident"):
            self.advance()
            return RawValue("bare", None, token.text)
        if self.at_punct("("):
            return self.value_list()
        raise self.fail(f"a value after '{ident.text} {comparator}'")

    def value_list(self) -> RawValue:
        start = self.advance().pos
        items: list[str] = []
        while not self.at_punct(")"):
            token = self.current
            if token.kind not in ("string", "dquoted"):
                raise self.fail("a quoted string in the list, e.g. ('a', 'b')")
            items.append(unquote(self.advance().text))
            if self.at_punct(","):
                self.advance()
            elif not self.at_punct(")"):
                raise self.fail("',' or ')' in the list")
        end = self.advance().pos + 1
        if not items:
            raise InvalidParameter(
                f"Invalid filter {self.text!r}: expected a non-empty list of quoted strings "
                f"at position {start}."
            )
        return RawValue("list", tuple(items), self.text[start:end])

    # order_by

    def order_by(self) -> OrderBy:
        if self.at_end():
            raise InvalidParameter("Invalid order_by clause '': expected '<key> [ASC|DESC]'.")
        ident = self.identifier()
        ascending = True
        if self.at_keyword("ASC", "DESC"):
            ascending = self.advance().keyword == "ASC"
        if not self.at_end():
            raise InvalidParameter(
                f"Invalid order_by clause {self.text!r}: expected '<key> [ASC|DESC]' "
                f"(found {self.current.text!r} at position {self.current.pos}). "
                f"{self.rules.entity.capitalize()}s lacking the key come last in both directions; "
                "NULLS FIRST/LAST is not supported."
            )
        return self.rules.order_by(ident, self.text, ascending)


def _combine(node: type[And] | type[Or], operands: list[Expr]) -> Expr:
    """One operand stands alone; nested nodes of the same kind are flattened."""
    if len(operands) == 1:
        return operands[0]
    flat: list[Expr] = []
    for operand in operands:
        if isinstance(operand, node):
            flat.extend(operand.operands)
        else:
            flat.append(operand)
    return node(tuple(flat))


__all__ = ["MAX_DEPTH", "parse_filter", "parse_order_by"]
