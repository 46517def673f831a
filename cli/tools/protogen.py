"""Regenerates ``baobei/<service>/v1/*`` from ``proto/``; ``--check`` fails on drift.

    python -m cli.tools.protogen [--check]
"""

from __future__ import annotations

import filecmp
import shutil
import sys
import tempfile
from importlib import resources
from pathlib import Path

from grpc_tools import protoc

ROOT = Path(__file__).resolve().parents[2]
PROTO = ROOT / "proto"
SERVICES = ("registry", "approval", "tasks", "reporting", "notify")


def generate(out: Path) -> None:
    include = str(resources.files("grpc_tools") / "_proto")
    files = sorted(str(p.relative_to(PROTO)) for p in PROTO.rglob("*.proto") if "node_modules" not in p.parts)
    args = [
        "protoc",
        f"-I{PROTO}",
        f"-I{include}",
        f"--python_out={out}",
        f"--pyi_out={out}",
        f"--grpc_python_out={out}",
        *files,
    ]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed")
    for service in SERVICES:
        for pkg in (out / "baobei" / service, out / "baobei" / service / "v1"):
            (pkg / "__init__.py").touch()


def _generated(root: Path) -> dict[str, Path]:
    return {
        str(p.relative_to(root)): p
        for service in SERVICES
        for p in (root / "baobei" / service).rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }


def main(argv: list[str] | None = None) -> int:
    check = "--check" in (argv if argv is not None else sys.argv[1:])
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp)
        generate(fresh)
        want, have = _generated(fresh), _generated(ROOT)
        drift = sorted(
            name
            for name in want.keys() | have.keys()
            if name not in want
            or name not in have
            or not filecmp.cmp(want[name], have[name], shallow=False)
        )
        if check:
            for name in drift:
                print(f"drift: {name}", file=sys.stderr)
            if drift:
                print("generated code differs from proto/: run python -m cli.tools.protogen", file=sys.stderr)
            return 1 if drift else 0
        for service in SERVICES:
            shutil.rmtree(ROOT / "baobei" / service, ignore_errors=True)
            shutil.copytree(fresh / "baobei" / service, ROOT / "baobei" / service)
        print(f"generated {len(want)} files")
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
