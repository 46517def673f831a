"""Summarise py-spy's collapsed stacks (``--format raw``) written by ``bench.lifecycle --profile``:
per process, the share of samples under each of a few markers (inclusive), and the top functions
by inclusive and by own samples.

    .venv/bin/python -m bench.spy_summary DIR [--top 25]"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^:()]*)(?::\d+)?\)$")


def frames(line: str) -> tuple[list[str], int]:
    stack, _, count = line.rpartition(" ")
    out = []
    for raw in stack.split(";"):
        m = _FRAME.match(raw.strip())
        out.append(f"{m['func']} ({m['file']})" if m else raw.strip())
    return out, int(count)


def summarise(path: Path, top: int) -> list[str]:
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        if not line.strip():
            continue
        stack, count = frames(line)
        total += count
        for f in set(stack):
            inclusive[f] += count
        own[stack[-1]] += count
    if not total:
        return [f"== {path.stem}: no samples"]
    lines = [f"== {path.stem}: {total} samples", "-- inclusive"]
    lines += [f"{c / total:6.1%}  {f}" for f, c in inclusive.most_common(top)]
    lines.append("-- own")
    lines += [f"{c / total:6.1%}  {f}" for f, c in own.most_common(top)]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("dir")
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    for path in sorted(Path(args.dir).glob("*.txt")):
        print("\n".join(summarise(path, args.top)))


if __name__ == "__main__":
    main()
