"""Parsing a JSON request body safely, before FastAPI and pydantic see it.

- Numbers with a fraction or exponent become ``Decimal`` (money is never a float).
- A number no field can hold — an integer outside int64, a decimal of 1e19 or more, smaller than
  1e-40, with more than 40 digits, ``NaN`` / ``Infinity`` — is a 422 naming its field
  (``amount``, ``fields.size``, ``tasks[3].lag_days``). The parser hooks see only the number's
  text and never build its digits (``1e999999999`` would be a gigabyte once written out; an
  integer of 10,000 digits is refused before ``int()``).
- Nesting deeper than :data:`MAX_DEPTH` is a 422 on ``body``; the tree is walked without recursion
  and the C parser's own recursion guard stops absurd depths first.

Invalid JSON is left to FastAPI, which reports ``json_invalid``."""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from typing import Any

from baobei.core.errors import FieldViolation, ValidationFailed

MAX_DEPTH = 64
MAX_DIGITS = 40
INT64_MAX = 2**63 - 1
MAX_ADJUSTED_EXPONENT = 18  # 1e19 > INT64_MAX: beyond any amount, count or day offset
MIN_ADJUSTED_EXPONENT = -40


class _OutOfRange:
    """Stands in for a number that is refused; the walk reports where it was."""

    __slots__ = ()


OUT_OF_RANGE = _OutOfRange()


def _parse_int(text: str) -> int | _OutOfRange:
    if len(text.lstrip("-")) > 19:
        return OUT_OF_RANGE
    value = int(text)
    return value if -INT64_MAX - 1 <= value <= INT64_MAX else OUT_OF_RANGE


def _parse_float(text: str) -> Decimal | _OutOfRange:
    if len(text) > 2 * MAX_DIGITS:
        return OUT_OF_RANGE
    try:
        value = Decimal(text)
    except InvalidOperation:
        return OUT_OF_RANGE
    if not value.is_finite():
        return OUT_OF_RANGE
    if value and not MIN_ADJUSTED_EXPONENT <= value.adjusted() <= MAX_ADJUSTED_EXPONENT:
        return OUT_OF_RANGE
    if len(value.as_tuple().digits) > MAX_DIGITS:
        return OUT_OF_RANGE
    return value


def _parse_constant(_text: str) -> _OutOfRange:
    return OUT_OF_RANGE  # NaN, Infinity, -Infinity


def _path(parent: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{parent}[{key}]"
    return f"{parent}.{key}" if parent else str(key)


def _too_deep() -> ValidationFailed:
    return ValidationFailed(
        [
            FieldViolation(
                "body",
                f"JSON 嵌套层级过深（最多 {MAX_DEPTH} 层）",
                f"JSON is nested too deeply (at most {MAX_DEPTH} levels)",
            )
        ]
    )


def check_tree(value: Any) -> None:
    """Raise the 422 for nesting beyond :data:`MAX_DEPTH` or any out-of-range number."""
    bad: list[str] = []
    stack: list[tuple[Any, str, int]] = [(value, "", 1)]
    while stack:
        node, path, depth = stack.pop()
        if isinstance(node, dict):
            items: Any = node.items()
        elif isinstance(node, list):
            items = enumerate(node)
        else:
            if node is OUT_OF_RANGE:
                bad.append(path or "body")
            continue
        if depth > MAX_DEPTH:
            raise _too_deep()
        stack.extend((child, _path(path, key), depth + 1) for key, child in items)
    if bad:
        raise ValidationFailed(
            [FieldViolation(p, "数值超出允许范围", "number out of range") for p in sorted(set(bad))[:20]]
        )


def parse(body: bytes) -> Any:
    """The body as JSON (``Decimal`` for fractions), or 422 as above. ``ValueError`` for text that
    is not JSON at all."""
    try:
        value = json.loads(body, parse_float=_parse_float, parse_int=_parse_int, parse_constant=_parse_constant)
    except RecursionError:
        raise _too_deep() from None
    check_tree(value)
    return value
