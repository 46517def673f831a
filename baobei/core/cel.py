"""The one CEL engine of the system (celpy): form conditions and rules (registry), policy ``when``
conditions (approval) and delivery rule conditions (tasks) all compile and evaluate here.

Thread safety. celpy's ``CompiledRunner`` transpiles an expression to Python once (~5x faster
than the interpreter per evaluation), but its ``evaluate`` executes that code in the globals of the
``celpy.evaluation`` module: the activation (``base_activation``), the lambdas of the program
(``ex_<n>``, numbered per program, so two programs reuse the same names) and the result (``CEL``)
are module globals shared by every program and every thread. Two threads evaluating at once
could read the other's activation or run the other program's lambdas and so answer with another
project's data. ``evaluate`` below runs the transpiled code in a private copy of those globals for
each evaluation (a dict copy of ~100 entries, ~1 µs): nothing is shared but the immutable code
object, no lock is needed, and the answers are those of the interpreter.

Performance patch. celpy resolves every variable through ``cast(Union[Result, NameContainer],
...)``; building that ``Union`` hashes a dozen types on each lookup (a quarter of planning time).
``_speed_up_celpy`` replaces ``Union`` inside ``celpy.evaluation`` by an object whose indexing
returns ``object``: ``cast`` ignores its first argument, and the module's type aliases were built
at import and are unaffected.

Compiled programs are cached per expression text. The interpreter (``InterpretedRunner``, a fresh
evaluator per call, so thread-safe) stays the reference: it is used whenever the transpiled code
reports an error, and by ``problem`` whose messages name an unknown variable.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Mapping, Sequence
from typing import Any, Union

import celpy
import celpy.adapter
import celpy.evaluation
import celpy.evaluation as celpy_evaluation
from celpy.celparser import CELParseError, CELParser
from celpy.evaluation import TranspilerTree

__all__ = ["CELEvalError", "CELParseError", "evaluate", "evaluate_all", "is_bool", "parse_problem", "problem",
           "to_cel"]

CELEvalError = celpy.evaluation.CELEvalError
BoolType = celpy.celtypes.BoolType

# Compiling (lark parser, environment) is not thread-safe; compilation is rare (cached).
_compile_lock = threading.Lock()
# The transpiler logs every runtime error as "internal error": expected on the fallback path.
logging.getLogger("celpy.Transpiler").setLevel(logging.CRITICAL)


class _CheapUnion:
    """Stands in for ``typing.Union`` inside ``celpy.evaluation`` at run time (see the module doc)."""

    def __getitem__(self, _item: Any) -> Any:
        return object


def _speed_up_celpy() -> None:
    if getattr(celpy_evaluation, "Union", None) is Union:
        setattr(celpy_evaluation, "Union", _CheapUnion())  # noqa: B010 - a module global, on purpose


_speed_up_celpy()
# celpy builds one process-wide parser, with the tree class of the first environment created: the
# transpiler needs its ``TranspilerTree`` (the interpreter works on those too), so it goes first,
# and a parser built earlier for plain trees is replaced.
_parser = CELParser.CEL_PARSER
if _parser is not None and _parser.options.tree_class is not TranspilerTree:
    CELParser.CEL_PARSER = None
_fast_env = celpy.Environment(runner_class=celpy.CompiledRunner)
_reference_env = celpy.Environment()
_EVAL_GLOBALS: dict[str, Any] = celpy_evaluation.result.__globals__


@functools.lru_cache(maxsize=2048)
def _fast_program(expr: str) -> celpy.CompiledRunner:
    with _compile_lock:
        return _fast_env.program(_fast_env.compile(expr))  # type: ignore[return-value]


@functools.lru_cache(maxsize=2048)
def _reference_program(expr: str) -> celpy.Runner:
    with _compile_lock:
        return _reference_env.program(_reference_env.compile(expr))


def _run_compiled(runner: celpy.CompiledRunner, context: Mapping[str, Any]) -> Any:
    """``Transpiler.evaluate`` without its shared state: a fresh activation and private globals."""
    tp = runner.tp
    activation = tp.base_activation.clone()
    activation.identifiers.load_values(dict(context))
    scope = dict(_EVAL_GLOBALS)
    scope["base_activation"] = activation
    exec(tp.executable_code, scope)  # noqa: S102 - celpy's own transpiled code for a compiled expression
    value = scope["CEL"]
    if isinstance(value, CELEvalError):
        raise value
    return value


def evaluate(expr: str, context: Mapping[str, Any]) -> Any:
    """The value of ``expr`` over ``context`` (names → CEL values, see ``to_cel``). Raises
    ``CELParseError`` for a bad expression and ``CELEvalError`` when it cannot be evaluated on
    this data. Safe to call from any number of threads at once."""
    try:
        return _run_compiled(_fast_program(expr), context)
    except CELParseError:
        raise
    except Exception:  # noqa: BLE001, S110 - the interpreter is the reference: let it decide
        pass
    result = _reference_program(expr).evaluate(dict(context))
    if isinstance(result, CELEvalError):
        raise result
    return result


def evaluate_all(exprs: Sequence[str], context: Mapping[str, Any]) -> list[Any] | None:
    """All ``exprs`` as one program (``[(e0), (e1), ...]``): celpy's per-evaluation overhead once
    instead of once per expression. None when any of them fails (evaluate them one by one then)."""
    if not exprs:
        return []
    try:
        results = _run_compiled(_fast_program("[" + ", ".join(f"({e})" for e in exprs) + "]"), context)
    except Exception:  # noqa: BLE001 - one failing expression: the caller evaluates them singly
        return None
    return list(results)


def is_bool(value: Any) -> bool:
    """celpy's ``BoolType`` subclasses int, not bool."""
    return isinstance(value, bool | BoolType)


def holds(expr: str, context: Mapping[str, Any]) -> bool | None:
    """True/False, or None when the expression cannot be evaluated on this data or is not boolean."""
    try:
        result = evaluate(expr, context)
    except Exception:  # noqa: BLE001 - missing keys etc.: the condition does not apply
        return None
    return bool(result) if is_bool(result) else None


def parse_problem(expr: str) -> str:
    """Why ``expr`` does not compile ("" when it does). An expression the transpiler cannot
    handle is still fine: ``evaluate`` falls back to the interpreter for it."""
    if not expr.strip():
        return "empty expression"
    try:
        _reference_program(expr)
    except CELParseError as err:
        return " ".join(str(err).split())
    except Exception as err:  # noqa: BLE001 - any compiler failure means a bad expression
        return " ".join(str(err).split()) or type(err).__name__
    return ""


def problem(expr: str, sample: Mapping[str, Any]) -> tuple[str, str]:
    """(kind, text) of what is wrong with ``expr`` ("", "" when fine): ``("parse", message)``, or
    ``("undeclared", name)`` when it reads a variable ``sample`` does not have. Other runtime
    errors depend on the data and are not problems of the expression."""
    parsed = parse_problem(expr)
    if parsed:
        return "parse", parsed
    try:
        result = _reference_program(expr).evaluate(dict(sample))
        if isinstance(result, CELEvalError):
            raise result
    except CELEvalError as err:
        text = str(err.args[0]) if err.args else str(err)
        if "undeclared reference" in text:
            return "undeclared", text.split("'")[1] if text.count("'") >= 2 else text
    except Exception:  # noqa: BLE001, S110 - other runtime errors depend on the data
        pass
    return "", ""


def to_cel(value: Any) -> Any:
    """``celpy.json_to_cel`` for plain JSON values, with a direct dispatch on the exact type
    (about twice as fast; activations are built once per evaluation)."""
    kind = type(value)
    if kind is str:
        return celpy.celtypes.StringType(value)
    if kind is bool:
        return celpy.celtypes.BoolType(value)
    if kind is int:
        return celpy.celtypes.IntType(value)
    if kind is float:
        return celpy.celtypes.DoubleType(value)
    if kind is dict:
        return celpy.celtypes.MapType({celpy.celtypes.StringType(k): to_cel(v) for k, v in value.items()})
    if kind is list:
        return celpy.celtypes.ListType([to_cel(v) for v in value])
    return celpy.adapter.json_to_cel(value)
