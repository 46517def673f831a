"""The proto breaking-change check: ``buf breaking`` (buf from the npm registry, pinned in
proto/package-lock.json) of proto/ against the image of the last release, proto/release.binpb.

    python -m cli.tools.proto_breaking            # CI: fail on a wire/JSON-breaking change
    python -m cli.tools.proto_breaking --cut-release   # at a release: the new baseline image

Rules in proto/buf.yaml (WIRE_JSON: old and new services talk during a rolling upgrade)."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from cli.tools import web

ROOT = Path(__file__).resolve().parents[2]
PROTO = ROOT / "proto"
RELEASE_IMAGE = PROTO / "release.binpb"


def buf_bin() -> Path:
    """buf from proto/node_modules, installed from the lock (``npm ci``) when missing or stale."""
    buf = PROTO / "node_modules" / ".bin" / "buf"
    lock, stamp = PROTO / "package-lock.json", PROTO / "node_modules" / ".package-lock.json"
    if not buf.exists() or not stamp.exists() or lock.stat().st_mtime > stamp.stat().st_mtime:
        code = subprocess.call(web._npm("ci", "--no-audit", "--no-fund"), cwd=PROTO, env=web._env())
        if code:
            raise SystemExit(f"npm ci in proto/ failed ({code})")
    return buf


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="proto-breaking", description=__doc__.splitlines()[0])
    parser.add_argument("--cut-release", action="store_true", help="write proto/release.binpb from proto/")
    args = parser.parse_args(argv)
    buf = str(buf_bin())
    if args.cut_release:
        code = subprocess.call([buf, "build", "-o", str(RELEASE_IMAGE)], cwd=PROTO)
        if code == 0:
            print(f"release image written: {RELEASE_IMAGE.relative_to(ROOT)}")
        return code
    if not RELEASE_IMAGE.exists():
        print("proto/release.binpb is missing: cut one with --cut-release", file=sys.stderr)
        return 2
    code = subprocess.call([buf, "breaking", "--against", str(RELEASE_IMAGE)], cwd=PROTO)
    if code == 0:
        print("proto: no breaking change against the last release")
    return code


if __name__ == "__main__":
    sys.exit(main())
