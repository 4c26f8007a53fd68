"""A matcher for the JSON subset of CloudWatch Logs filter patterns our metric filters use.

moto does not evaluate JSON filter patterns, so the tests match sample CloudTrail records with this.
It follows https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html
("Using filter patterns to match terms in JSON log events"): `{ <expression> }` where an
expression is `($.path = "value")`, `!=`, `NOT EXISTS`, `IS NULL`, combined with `&&` and `||`
and parentheses (`&&` binds tighter than `||`); `*` in a string value is a wildcard; a selector
that does not exist never equals (and always differs from) a value. Anything else is refused, so a
pattern the matcher does not understand fails the test instead of passing it.
"""

from __future__ import annotations

import fnmatch
import re
from typing import Any

_TOKEN = re.compile(r'\s*(\(|\)|&&|\|\||NOT EXISTS|IS NULL|!=|=|\$\.[A-Za-z0-9_.\[\]]+|"(?:[^"\\]|\\.)*")')
_MISSING = object()


def matches(pattern: str, record: dict[str, Any]) -> bool:
    text = pattern.strip()
    if not (text.startswith("{") and text.endswith("}")):
        raise ValueError(f"not a JSON filter pattern: {pattern!r}")
    tokens = _tokenize(text[1:-1])
    parser = _Parser(tokens, record)
    result = parser.disjunction()
    if parser.position != len(tokens):
        raise ValueError(f"unexpected {tokens[parser.position]!r} in {pattern!r}")
    return result


def _tokenize(text: str) -> list[str]:
    tokens, position = [], 0
    while text[position:].strip():
        found = _TOKEN.match(text, position)
        if not found:
            raise ValueError(f"cannot read {text[position:]!r}")
        tokens.append(found.group(1))
        position = found.end()
    return tokens


def _select(record: dict[str, Any], selector: str) -> Any:
    value: Any = record
    for part in selector[2:].split("."):
        if not isinstance(value, dict) or part not in value:
            return _MISSING
        value = value[part]
    return value


class _Parser:
    def __init__(self, tokens: list[str], record: dict[str, Any]) -> None:
        self.tokens, self.record, self.position = tokens, record, 0

    def _next(self) -> str:
        token = self.tokens[self.position]
        self.position += 1
        return token

    def _peek(self) -> str | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def disjunction(self) -> bool:
        result = self.conjunction()
        while self._peek() == "||":
            self._next()
            result = self.conjunction() or result
        return result

    def conjunction(self) -> bool:
        result = self.term()
        while self._peek() == "&&":
            self._next()
            result = self.term() and result
        return result

    def term(self) -> bool:
        token = self._next()
        if token == "(":
            result = self.disjunction()
            if self._next() != ")":
                raise ValueError("unbalanced parentheses")
            return result
        if not token.startswith("$."):
            raise ValueError(f"expected a selector, got {token!r}")
        value = _select(self.record, token)
        operator = self._next()
        if operator == "NOT EXISTS":
            return value is _MISSING
        if operator == "IS NULL":
            return value is None
        literal = self._next()
        if not literal.startswith('"'):
            raise ValueError(f"only string values are supported, got {literal!r}")
        equal = value is not _MISSING and isinstance(value, str) and fnmatch.fnmatchcase(value, literal[1:-1])
        if operator == "=":
            return equal
        if operator == "!=":
            return not equal
        raise ValueError(f"unsupported operator {operator!r}")
