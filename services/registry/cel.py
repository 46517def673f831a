"""CEL for forms: conditional fields (``required_when``/``visible_when``) and cross-field rules.
Expressions see ``fields`` (the submission's form fields, defaults applied) and ``project``
(name, amount as a number, region, business_line, start_date, end_date as ISO strings, customer).
Compiled and evaluated by ``baobei.core.cel`` (thread-safe, cached per expression); a rule that
cannot be evaluated on some data (e.g. it reads a field left empty) does not apply."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any

from baobei.core import cel

_FIELD_REF = re.compile(r"fields\s*\.\s*([A-Za-z_][A-Za-z0-9_]*)")
SAMPLE: dict[str, Any] = {"fields": {}, "project": {"name": "", "amount": 0.0, "region": "", "business_line": "",
                                                   "start_date": "", "end_date": "", "customer": {"name": ""}}}


def problem(expr: str) -> str:
    """Why ``expr`` is unusable ("" when fine): a parse error or an unknown top-level name."""
    kind, text = cel.problem(expr, activation(SAMPLE["fields"], SAMPLE["project"]))
    if kind == "parse":
        return text[:300]
    if kind == "undeclared":
        return f"undeclared reference to {text!r} (use fields.<key> or project.<name>)"
    return ""


INT64 = 2**63


def _plain(value: Any) -> Any:
    """JSON-ish values CEL can hold: ints beyond int64 become doubles, NaN/inf become text."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return value if -INT64 <= value < INT64 else float(value)
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else str(value)
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return str(value)


@functools.lru_cache(maxsize=1024)
def field_refs(exprs: tuple[str, ...]) -> frozenset[str] | None:
    """Field keys the expressions read as ``fields.<key>``; None when one uses ``fields`` any other
    way (``fields["a-b"]``, ``size(fields)``), then the activation carries every field."""
    keys: set[str] = set()
    for expr in exprs:
        dotted = _FIELD_REF.findall(expr)
        if len(re.findall(r"\bfields\b", expr)) != len(dotted):
            return None
        keys.update(dotted)
    return frozenset(keys)


def activation(
    fields: Mapping[str, Any], project: Mapping[str, Any], only: frozenset[str] | None = None
) -> dict[str, Any]:
    """``only``: convert just these fields (converting values to CEL is the costly part)."""
    chosen = dict(fields) if only is None else {k: fields[k] for k in only if k in fields}
    return {"fields": cel.to_cel(_plain(chosen)), "project": cel.to_cel(_plain(dict(project)))}


def holds(expr: str, act: Mapping[str, Any]) -> bool | None:
    """True/False, or None when the expression cannot be evaluated on this data or is not boolean."""
    return cel.holds(expr, act)
