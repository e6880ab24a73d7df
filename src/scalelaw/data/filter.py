"""The row-filter language of ``--where``, ``--fit-where`` and ``read_runs(where=)``, parsed without eval.

A filter compares columns with numbers, strings or other columns and joins the
comparisons with ``and``/``or``/``not`` and parentheses::

    params < 1e9 and dataset == 'rw'
    run in ['cosine_24000', 'wsdcon_9']      not (run in ['a', 'b'])
    1e6 <= params < 1e9                      in_paper_fit      `val loss` > 2

Operators: ``== != < <= > >=``, ``in``/``not in`` a bracketed list of literals,
``and or not`` (also ``& | ~``), ``True``/``False``. A bare column must hold true/false.
Nothing in the expression can call a function or reach Python: it is tokenized by a
regular expression and parsed by the recursive-descent parser below into a small tree
of comparisons that numpy evaluates. Expressions are capped at ``MAX_LENGTH``
characters and ``MAX_DEPTH`` levels of nesting.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Union

import numpy as np
import pandas as pd

from scalelaw.errors import InputError

MAX_LENGTH = 10_000
MAX_DEPTH = 64

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
    | (?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
    | (?P<quoted>`[^`]+`)
    | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
    | (?P<op>==|!=|<=|>=|<|>|\(|\)|\[|\]|,|&|\||~|-)
    )""",
    re.VERBOSE,
)
_KEYWORDS = {"and", "or", "not", "in", "True", "False", "true", "false"}
_COMPARISONS = {"==", "!=", "<", "<=", ">", ">="}
Literal = Union[float, str, bool]


@dataclass(frozen=True)
class Column:
    name: str


@dataclass(frozen=True)
class Value:
    value: Literal


@dataclass(frozen=True)
class Compare:
    op: str
    left: Column | Value
    right: Column | Value


@dataclass(frozen=True)
class Member:
    column: Column | Value
    values: tuple[Literal, ...]
    negate: bool


@dataclass(frozen=True)
class Logical:
    op: str  # "and", "or" or "not"
    parts: tuple[Node, ...]


@dataclass(frozen=True)
class Truth:
    operand: Column | Value


Node = Union[Compare, Member, Logical, Truth]


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    position = 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            rest = text[position:].lstrip()
            hint = " (use == to compare)" if rest.startswith("=") else ""
            column = len(text) - len(rest) + 1
            raise ValueError(f"unexpected character {rest[:1]!r} at character {column}{hint}")
        kind = match.lastgroup or ""
        token = match.group(kind)
        if kind == "name" and token in _KEYWORDS:
            kind = "keyword"
        out.append((kind, token))
        position = match.end()
    return out


class _Parser:
    """Recursive descent over the token list; ``depth`` bounds nesting."""

    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.at = 0
        self.depth = 0

    def peek(self) -> tuple[str, str]:
        return self.tokens[self.at] if self.at < len(self.tokens) else ("end", "")

    def take(self, *accepted: str) -> str | None:
        kind, token = self.peek()
        if token in accepted and kind in {"op", "keyword"}:
            self.at += 1
            return token
        return None

    def expect(self, token: str) -> None:
        if self.take(token) is None:
            raise ValueError(f"expected {token!r}, found {self.peek()[1] or 'the end'!r}")

    def parse(self) -> Node:
        node = self.disjunction()
        if self.peek()[0] != "end":
            raise ValueError(f"unexpected {self.peek()[1]!r} after a complete condition")
        return node

    def nested(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ValueError(f"nested more than {MAX_DEPTH} levels deep")

    def disjunction(self) -> Node:
        parts = [self.conjunction()]
        while self.take("or", "|"):
            parts.append(self.conjunction())
        return parts[0] if len(parts) == 1 else Logical("or", tuple(parts))

    def conjunction(self) -> Node:
        parts = [self.negation()]
        while self.take("and", "&"):
            parts.append(self.negation())
        return parts[0] if len(parts) == 1 else Logical("and", tuple(parts))

    def negation(self) -> Node:
        if self.take("not", "~"):
            self.nested()
            node = Logical("not", (self.negation(),))
            self.depth -= 1
            return node
        return self.comparison()

    def comparison(self) -> Node:
        if self.take("("):
            self.nested()
            inner = self.disjunction()
            self.expect(")")
            self.depth -= 1
            return inner
        left = self.operand()
        if self.take("in"):
            return Member(left, self.literal_list(), negate=False)
        if self.peek() == ("keyword", "not") and self.tokens[self.at + 1 : self.at + 2] == [("keyword", "in")]:
            self.at += 2
            return Member(left, self.literal_list(), negate=True)
        links: list[Node] = []
        while self.peek()[1] in _COMPARISONS and self.peek()[0] == "op":
            op = self.peek()[1]
            self.at += 1
            right = self.operand()
            links.append(Compare(op, left, right))
            left = right
        if not links:
            return Truth(left)
        return links[0] if len(links) == 1 else Logical("and", tuple(links))

    def operand(self) -> Column | Value:
        kind, token = self.peek()
        if kind == "name":
            self.at += 1
            return Column(token)
        if kind == "quoted":
            self.at += 1
            return Column(token[1:-1])
        return Value(self.literal())

    def literal(self) -> Literal:
        kind, token = self.peek()
        sign = -1.0 if kind == "op" and token == "-" else 1.0
        if sign < 0:
            self.at += 1
            kind, token = self.peek()
        self.at += 1
        if kind == "number":
            value = sign * float(token)
            if not math.isfinite(value):
                raise ValueError(f"the number {token} is out of range")
            return value
        if sign < 0:
            raise ValueError(f"expected a number after '-', found {token or 'the end'!r}")
        if kind == "string":
            return re.sub(r"\\(.)", r"\1", token[1:-1])
        if kind == "keyword" and token in {"True", "False", "true", "false"}:
            return token.lower() == "true"
        self.at -= 1
        raise ValueError(f"expected a column, number or string, found {token or 'the end'!r}")

    def literal_list(self) -> tuple[Literal, ...]:
        closing = "]" if self.take("[") else ")" if self.take("(") else None
        if closing is None:
            raise ValueError(f"'in' needs a list like ['a', 'b'], found {self.peek()[1] or 'the end'!r}")
        values = [self.literal()]
        while self.take(","):
            if self.peek()[1] == closing:
                break
            values.append(self.literal())
        self.expect(closing)
        return tuple(values)


def parse_filter(expression: str) -> Node:
    """The parsed filter; a malformed expression is a ValueError saying what is wrong."""
    if len(expression) > MAX_LENGTH:
        raise ValueError(f"the filter is longer than {MAX_LENGTH} characters")
    if not expression.strip():
        raise ValueError("the filter is empty")
    return _Parser(expression).parse()


def filter_columns(expression: str) -> frozenset[str]:
    """The column names a filter reads (so that readers keep those columns); ValueError if malformed."""
    names: set[str] = set()
    stack: list[Node | Column | Value] = [parse_filter(expression)]
    while stack:
        node = stack.pop()
        if isinstance(node, Column):
            names.add(node.name)
        elif isinstance(node, Compare):
            stack += [node.left, node.right]
        elif isinstance(node, Member):
            stack.append(node.column)
        elif isinstance(node, Truth):
            stack.append(node.operand)
        elif isinstance(node, Logical):
            stack += list(node.parts)
    return frozenset(names)


def row_mask(table: pd.DataFrame, expression: str) -> np.ndarray:
    """A boolean array: the rows of ``table`` for which the filter holds (ValueError if malformed)."""
    return _evaluate(parse_filter(expression), table)


def filter_rows(table: pd.DataFrame, expression: str, *, file: str | None = None) -> pd.DataFrame:
    """The rows of ``table`` the filter keeps, re-indexed; a bad filter is an InputError naming ``file``."""
    try:
        mask = row_mask(table, expression)
    except ValueError as exc:
        raise InputError(f"cannot apply filter {expression!r}: {exc}", file=file) from None
    return table[mask].reset_index(drop=True)


def _evaluate(node: Node, table: pd.DataFrame) -> np.ndarray:
    if isinstance(node, Logical):
        masks = [_evaluate(part, table) for part in node.parts]
        if node.op == "not":
            return ~masks[0]
        combine = np.logical_and if node.op == "and" else np.logical_or
        return combine.reduce(masks)
    if isinstance(node, Truth):
        values = _values(node.operand, table)
        if values.dtype != bool:
            name = node.operand.name if isinstance(node.operand, Column) else repr(node.operand.value)
            raise ValueError(f"{name} is not a true/false column; compare it, e.g. {name} == 'value'")
        return values
    if isinstance(node, Member):
        values = _values(node.column, table)
        found = np.zeros(len(table), dtype=bool)
        for literal in node.values:
            found |= _compare("==", values, _broadcast(literal, len(table)))
        return ~found if node.negate else found
    return _compare(node.op, _values(node.left, table), _values(node.right, table))


def _broadcast(literal: Literal, n: int) -> np.ndarray:
    return np.full(n, literal, dtype=object if isinstance(literal, str) else type(literal))


def _values(operand: Column | Value, table: pd.DataFrame) -> np.ndarray:
    if isinstance(operand, Value):
        return _broadcast(operand.value, len(table))
    if operand.name not in table.columns:
        known = ", ".join(str(c) for c in list(table.columns)[:20])
        raise ValueError(f"no column {operand.name!r}; columns: {known}")
    column = table[operand.name]
    if pd.api.types.is_bool_dtype(column):
        return column.to_numpy(dtype=bool)
    if pd.api.types.is_numeric_dtype(column):
        return column.to_numpy(dtype=float)
    return column.to_numpy(dtype=object)


def _is_text(values: np.ndarray) -> bool:
    return values.dtype == object


def _compare(op: str, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Element-wise comparison; text with text, numbers (and true/false) with numbers.

    A missing value compares false, except under ``!=`` (as in pandas). Text compared
    with a number is read as a number; text that holds no number at all is an error.
    """
    if not len(left):
        return np.zeros(0, dtype=bool)
    if _is_text(left) != _is_text(right):
        text = left if _is_text(left) else right
        numbers = pd.to_numeric(pd.Series(text), errors="coerce").to_numpy(dtype=float)
        if np.all(np.isnan(numbers)) and pd.notna(text).any():
            raise ValueError(f"cannot compare text with a number using {op}")
        left, right = (numbers, right) if _is_text(left) else (left, numbers)
    if _is_text(left):
        present = np.asarray(pd.notna(left) & pd.notna(right), dtype=bool)
        out = np.full(len(left), op == "!=")
        if present.any():
            out[present] = _OPS[op](left[present].astype(str), right[present].astype(str))
        return out
    with np.errstate(invalid="ignore"):
        return np.asarray(_OPS[op](left.astype(float), right.astype(float)), dtype=bool)


_OPS = {
    "==": np.equal,
    "!=": np.not_equal,
    "<": np.less,
    "<=": np.less_equal,
    ">": np.greater,
    ">=": np.greater_equal,
}
