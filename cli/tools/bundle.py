"""Sizes of the built web app (web/dist/assets): each file raw and gzipped, largest first. The
issue's budget: no file over 1 MB gzipped (tests/browser/test_performance.py checks it)."""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path

BUDGET_GZIP = 1_000_000


@dataclass(frozen=True)
class Asset:
    name: str
    raw: int
    gzipped: int


def assets(dist: Path) -> list[Asset]:
    out = []
    for path in sorted((dist / "assets").glob("*")):
        if path.suffix in (".js", ".css"):
            data = path.read_bytes()
            out.append(Asset(path.name, len(data), len(gzip.compress(data, compresslevel=9))))
    return sorted(out, key=lambda a: a.gzipped, reverse=True)


def table(items: list[Asset]) -> str:
    lines = [f"{'file':48} {'raw KB':>10} {'gzip KB':>10}"]
    lines += [f"{a.name:48} {a.raw / 1024:10.1f} {a.gzipped / 1024:10.1f}" for a in items]
    lines.append(f"{'total':48} {sum(a.raw for a in items) / 1024:10.1f} {sum(a.gzipped for a in items) / 1024:10.1f}")
    return "\n".join(lines)
