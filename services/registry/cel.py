"""CEL for forms: conditional fields (``required_when``/``visible_when``) and cross-field rules.
Expressions see ``fields`` (the submission's form fields, defaults applied) and ``project``
(name, amount as a number, region, business_line, start_date, end_date as ISO strings, customer).
Compiled programs are cached per expression text; a rule that cannot be evaluated on some data
(e.g. it reads a field left empty) does not apply."""

from __future__ import annotations

import functools
import logging
import re
import threading
from collections.abc import Mapping
from typing import Any

import celpy
from celpy.celparser import CELParseError

_lock = threading.Lock()
# CompiledRunner turns the AST into Python once: ~4x faster than the interpreter per evaluation.
# It runs the code against a module-global activation, so evaluations are serialised by _eval_lock
# (the registry serves from a thread pool). The interpreter checks definitions at PUT, where its
# error messages name an unknown variable.
_env = celpy.Environment(runner_class=celpy.CompiledRunner)
_check_env = celpy.Environment()
_eval_lock = threading.Lock()
# A rule reading an empty field is "not applicable", not an error worth a log line per submission.
logging.getLogger("celpy.Transpiler").setLevel(logging.CRITICAL)
_FIELD_REF = re.compile(r"fields\s*\.\s*([A-Za-z_][A-Za-z0-9_]*)")
SAMPLE: dict[str, Any] = {"fields": {}, "project": {"name": "", "amount": 0.0, "region": "", "business_line": "",
                                                   "start_date": "", "end_date": "", "customer": {"name": ""}}}


@functools.lru_cache(maxsize=1024)
def _program(expr: str) -> Any:
    with _lock:
        return _env.program(_env.compile(expr))


def problem(expr: str) -> str:
    """Why ``expr`` is unusable ("" when fine): a parse error or an unknown top-level name."""
    if not expr.strip():
        return "empty expression"
    try:
        with _lock:
            prog = _check_env.program(_check_env.compile(expr))
        _program(expr)
    except CELParseError as err:
        return " ".join(str(err).split())[:300]
    except Exception as err:  # noqa: BLE001 - any compiler failure means a bad expression
        return (" ".join(str(err).split()) or type(err).__name__)[:300]
    try:
        prog.evaluate(activation(SAMPLE["fields"], SAMPLE["project"]))
    except celpy.CELEvalError as err:
        text = str(err.args[0]) if err.args else str(err)
        if "undeclared reference" in text:
            name = text.split("'")[1] if text.count("'") >= 2 else "?"
            return f"undeclared reference to {name!r} (use fields.<key> or project.<name>)"
    except Exception:  # noqa: BLE001 - other runtime errors depend on the data
        pass
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
    return {"fields": celpy.json_to_cel(_plain(chosen)), "project": celpy.json_to_cel(_plain(dict(project)))}


def holds(expr: str, act: Mapping[str, Any]) -> bool | None:
    """True/False, or None when the expression cannot be evaluated on this data or is not boolean."""
    try:
        prog = _program(expr)
        with _eval_lock:
            result = prog.evaluate(dict(act))
    except Exception:  # noqa: BLE001 - missing keys etc.: the rule does not apply
        return None
    if isinstance(result, bool | celpy.celtypes.BoolType):  # BoolType subclasses int, not bool
        return bool(result)
    return None
