"""The floors of the code base, read from every module's imports (the AST, so imports inside
functions count too, and ``importlib.import_module`` / ``__import__`` with a literal name).

    cli/        the ``baobei`` command, ``baobei dev``, the e2e/bench harness, demo data, dev tools
      ↓ may import every floor below
    edge/       the HTTP edge
      ↓ baobei/ (services over gRPC, never imported); of workflows/ only the contract modules
      ↓ it starts, signals and updates workflows with
    services/   workflows/    the gRPC services; the Temporal workflows and activities
      ↓ baobei/ (services never import workflows/; workflows reach services over gRPC)
    baobei/     ground floor: shared plumbing (baobei.core) and the stubs generated from proto/

Nothing imports upwards: the deployed components (services, worker, edge) run without ``cli``."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FLOORS = ("baobei", "services", "workflows", "edge", "cli")

# Which of our top-level packages each floor must not import.
FORBIDDEN: dict[str, frozenset[str]] = {
    "baobei": frozenset({"services", "workflows", "edge", "cli"}),
    "services": frozenset({"workflows", "edge", "cli"}),
    "workflows": frozenset({"edge", "cli"}),
    "edge": frozenset({"services", "cli"}),
    "cli": frozenset(),
}

# The edge starts, signals and updates workflows, so it shares their argument and result types;
# these modules hold only such types (dataclasses, names, constants), no workflow or activity code.
EDGE_MAY_IMPORT_FROM_WORKFLOWS = frozenset(
    {
        "workflows.contracts",
    }
)

# Known violations being removed by another change; each names the importing file and the floor.
ALLOWED_VIOLATIONS: frozenset[tuple[str, str]] = frozenset()


def _literal_prefix(node: ast.expr) -> str | None:
    """The module name a dynamic import starts with, when it is written in the source."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr) and node.values:
        first = node.values[0]
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            return first.value
    return None


def imported_modules(path: Path, module: str) -> Iterator[str]:
    """Absolute names of what ``path`` (module ``module``) imports; ``from a import b`` yields
    ``a.b`` (b may be a module or a name in a: both are checked against the rules)."""
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = module.split(".")
                anchor = parts[: len(parts) - node.level + (1 if is_package else 0)]
                base = ".".join([*anchor, base] if base else anchor)
            yield from (f"{base}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Call) and node.args:
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
            if name in ("import_module", "__import__"):
                prefix = _literal_prefix(node.args[0])
                if prefix:
                    yield prefix.rstrip(".")


def _edge_may_import(name: str) -> bool:
    return any(name == allowed or name.startswith(f"{allowed}.") for allowed in EDGE_MAY_IMPORT_FROM_WORKFLOWS)


def violations(root: Path) -> list[tuple[str, str, str]]:
    """(importing file, its floor, imported name) for every import that breaks the floors."""
    found: list[tuple[str, str, str]] = []
    for floor in FLOORS:
        for path in sorted((root / floor).rglob("*.py")):
            rel = path.relative_to(root)
            module = ".".join(rel.with_suffix("").parts).removesuffix(".__init__")
            for name in imported_modules(path, module):
                target = name.split(".")[0]
                if target not in FLOORS or target == floor:
                    continue
                edge_into_workflows = floor == "edge" and target == "workflows" and not _edge_may_import(name)
                if target in FORBIDDEN[floor] or edge_into_workflows:
                    found.append((rel.as_posix(), floor, name))
    return found


def test_no_floor_imports_upwards() -> None:
    found = [v for v in violations(ROOT) if (v[0], v[2].split(".")[0]) not in ALLOWED_VIOLATIONS]
    assert found == [], "imports against the floors (see this module's docstring):\n" + "\n".join(
        f"  {file} ({floor}) imports {name}" for file, floor, name in found
    )


def test_the_allowances_are_still_needed() -> None:
    # An allowance whose import is gone must go too, or it would hide the next violation.
    used = {(file, name.split(".")[0]) for file, _, name in violations(ROOT)}
    assert used >= ALLOWED_VIOLATIONS, f"no longer needed, delete: {sorted(ALLOWED_VIOLATIONS - used)}"


def test_the_check_sees_every_kind_of_import(tmp_path: Path) -> None:
    # The rules against a made-up tree, so a checker that sees nothing cannot pass the tests above.
    def write(rel: str, text: str) -> None:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text, encoding="utf-8")

    write("baobei/core/a.py", "import edge.app\n")
    write("baobei/core/b.py", "def f():\n    from cli import main\n")
    write("services/s/x.py", "import importlib\nimportlib.import_module('workflows.worker')\n")
    write("services/s/ok.py", "from baobei.core import errors\nfrom . import x\n")
    write("workflows/w.py", "__import__(f'edge.{name}')\n")
    write("edge/routes/r.py", "from workflows.contracts.lifecycle import P\nfrom workflows import contracts\n")
    write("edge/bad.py", "from workflows import worker\nfrom workflows.activities.registry import x\n")
    write("edge/rel/__init__.py", "from .. import app\n")
    write("edge/svc.py", "from services.registry import domain\n")
    write("cli/main.py", "import edge.server\nimport workflows.worker\nimport services.registry.server\n")
    assert sorted(violations(tmp_path)) == [
        ("baobei/core/a.py", "baobei", "edge.app"),
        ("baobei/core/b.py", "baobei", "cli.main"),
        ("edge/bad.py", "edge", "workflows.activities.registry.x"),
        ("edge/bad.py", "edge", "workflows.worker"),
        ("edge/svc.py", "edge", "services.registry.domain"),
        ("services/s/x.py", "services", "workflows.worker"),
        ("workflows/w.py", "workflows", "edge"),
    ]
