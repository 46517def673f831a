"""Where the lifecycle worker's memory goes as projects pile up: a diagnostic for bench.soak.

Runs ``baobei dev`` with a probe loaded into the lifecycle worker (a ``sitecustomize`` on its
PYTHONPATH, nothing in the product's code), creates projects in batches like bench.soak and,
after each batch, asks the worker (SIGUSR1) for: RSS, glibc malloc's totals (``mallinfo2``: in use
/ free in its arenas), pymalloc's, live objects by type (``gc``) and, with ``--trace N``, a
``tracemalloc`` snapshot (N frames). SIGUSR2 runs ``malloc_trim(0)`` and records RSS before/after
(what the allocator held free but not returned). Prints the growth per project of each figure
between the first and last batch, and the top tracemalloc growth by traceback.

    .venv/bin/python -m bench.memprobe [--batches 4] [--per-batch 100] [--trace 0] [--env K=V ...]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import tempfile
import time
from functools import partial
from pathlib import Path
from typing import Any

SITECUSTOMIZE = """
import sys
if "worker" in sys.argv and "lifecycle" in sys.argv:
    from bench.memprobe import install
    install()
"""


def _rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _mallinfo() -> dict[str, int]:
    import ctypes

    class Mallinfo2(ctypes.Structure):
        _fields_ = [(n, ctypes.c_size_t) for n in
                    ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
                     "fordblks", "keepcost")]

    libc = ctypes.CDLL("libc.so.6")
    libc.mallinfo2.restype = Mallinfo2
    m = libc.mallinfo2()
    # arena: sbrk/arena bytes; hblkhd: mmapped chunks; uordblks: in use; fordblks: free in arenas.
    return {n: int(getattr(m, n)) // 1024 for n in ("arena", "hblkhd", "uordblks", "fordblks")}


def _pymalloc() -> dict[str, int]:
    """pymalloc arenas and blocks in use, from ``sys._debugmallocstats`` (it writes to fd 2)."""
    with tempfile.TemporaryFile() as tmp:
        saved = os.dup(2)
        try:
            os.dup2(tmp.fileno(), 2)
            sys._debugmallocstats()
            import ctypes

            ctypes.CDLL("libc.so.6").fflush(None)
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        tmp.seek(0)
        text = tmp.read().decode(errors="replace")
    out: dict[str, int] = {}
    for line in text.splitlines():
        if line.startswith("# arenas allocated current"):
            out["arenas"] = int(line.split("=")[1].replace(",", ""))
        elif line.startswith("# bytes in allocated blocks"):
            out["blocks_kib"] = int(line.split("=")[1].replace(",", "")) // 1024
    return out


def _anon_maps() -> dict[str, int]:
    """Anonymous mappings' RSS, split into the malloc heap and the rest (thread arenas, pymalloc,
    the Rust core's allocations)."""
    heap = anon = 0
    current = ""
    for line in Path("/proc/self/smaps").read_text().splitlines():
        parts = line.split()
        if "-" in parts[0] and len(parts) >= 5 and ":" in parts[3]:
            current = parts[5] if len(parts) > 5 else ""
        elif parts[0] == "Rss:":
            kib = int(parts[1])
            if current == "[heap]":
                heap += kib
            elif current == "":
                anon += kib
    return {"heap": heap, "anon": anon}


def install() -> None:
    """In the worker: tracemalloc when asked, and the SIGUSR1 / SIGUSR2 handlers."""
    import gc
    import tracemalloc
    from collections import Counter

    out = Path(os.environ["BAOBEI_BENCH_MEMPROBE_DIR"])
    frames = int(os.environ.get("BAOBEI_BENCH_MEMPROBE_TRACE", "0"))
    # tracemalloc starts at probe number TRACE_AT (default the first): it traces what is allocated after it.
    trace_at = int(os.environ.get("BAOBEI_BENCH_MEMPROBE_TRACE_AT", "1"))
    seq = [0]

    def name(o: object) -> str:
        t = type(o)
        return f"{getattr(t, '__module__', '?')}.{getattr(t, '__qualname__', t.__name__)}"

    def dump(*_: Any) -> None:
        try:
            _dump()
        except BaseException:  # never into the worker's event loop
            import traceback

            (out / "error.txt").write_text(traceback.format_exc())

    def _dump() -> None:
        seq[0] += 1
        gc.collect()
        types = Counter(name(o) for o in gc.get_objects())
        big = []
        for o in gc.get_objects():
            if isinstance(o, (dict, list, set, tuple)) or type(o).__name__ in ("deque", "OrderedDict"):
                try:
                    n = len(o)
                except Exception:
                    continue
                if n >= 500:
                    refs = [name(r) for r in gc.get_referrers(o)[:4] if r is not big]
                    sample = repr(list(o)[:3] if not isinstance(o, dict) else list(o.items())[:2])[:300]
                    big.append({"type": name(o), "len": n, "id": id(o), "referrers": refs, "sample": sample})
        # What tracked objects hold that the collector does not track (strings, bytes, protobuf
        # messages, atomic dicts): bytes by (holder type, held type), one level deep.
        held: Counter[str] = Counter()
        for o in gc.get_objects():
            for r in gc.get_referents(o):
                if not gc.is_tracked(r) and not isinstance(r, type):
                    try:
                        held[f"{name(o)} -> {name(r)}"] += sys.getsizeof(r)
                    except Exception:
                        held[f"{name(o)} -> {name(r)}"] += 0
        stats = {"held": dict(held.most_common(300)), "big": big,
                 "seq": seq[0], "rss": _rss_kib(), "malloc": _mallinfo(), "pymalloc": _pymalloc(),
                 "maps": _anon_maps(), "objects": sum(types.values()), "types": dict(types.most_common(400))}
        if frames and tracemalloc.is_tracing():
            stats["traced_kib"] = tracemalloc.get_traced_memory()[0] // 1024
            tracemalloc.take_snapshot().dump(str(out / f"snap-{seq[0]}.tm"))
        elif frames and seq[0] >= trace_at:
            tracemalloc.start(frames)
            stats["traced_kib"] = 0
        (out / f"stats-{seq[0]}.json").write_text(json.dumps(stats))

    def trim(*_: Any) -> None:
        import ctypes

        before = _rss_kib()
        ctypes.CDLL("libc.so.6").malloc_trim(0)
        (out / "trim.json").write_text(json.dumps({"before": before, "after": _rss_kib()}))

    signal.signal(signal.SIGUSR1, dump)
    signal.signal(signal.SIGUSR2, trim)


def _wait_file(path: Path, timeout: float = 300) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() or (path.parent / "error.txt").exists():
            if (path.parent / "error.txt").exists():
                raise RuntimeError((path.parent / "error.txt").read_text())
            time.sleep(0.5)
            return dict(json.loads(path.read_text()))
        time.sleep(0.5)
    raise TimeoutError(path)


async def drive(args: argparse.Namespace, probe: Path) -> list[dict[str, Any]]:
    # Imported here: the worker imports this module (install) and should not load the bench's.
    from bench.lifecycle import bounded
    from bench.soak import create, set_up, wait_waiting, worker_of
    from cli.devstack import launch, stack_env

    with tempfile.TemporaryDirectory() as data:
        env = stack_env()
        sc = probe / "sc"
        sc.mkdir(exist_ok=True)
        (sc / "sitecustomize.py").write_text(SITECUSTOMIZE)
        env["PYTHONPATH"] = f"{sc}{os.pathsep}{Path.cwd()}{os.pathsep}{env.get('PYTHONPATH', '')}"
        env["BAOBEI_BENCH_MEMPROBE_DIR"] = str(probe)
        env["BAOBEI_BENCH_MEMPROBE_TRACE"] = str(args.trace)
        env["BAOBEI_BENCH_MEMPROBE_TRACE_AT"] = str(args.trace_at)
        for kv in args.env:
            k, _, v = kv.partition("=")
            env[k] = v
        stack = launch(Path(data), env)
        try:
            rep, form = await set_up(stack)
            await create(rep, form, -1)
            await asyncio.sleep(2)
            worker = worker_of(stack)
            address = stack.env["BAOBEI_TEMPORAL_ADDRESS"]
            stats = []
            done = 0
            for b in range(args.batches + 1):
                if b:
                    t0 = time.perf_counter()
                    await bounded(args.concurrency,
                                  [partial(create, rep, form, i) for i in range(done, done + args.per_batch)])
                    done += args.per_batch
                    await wait_waiting(address, done + 1, 600)
                    print(f"batch {b}: {done} projects ({args.per_batch / (time.perf_counter() - t0):.1f}/s)",
                          file=sys.stderr)
                await asyncio.sleep(args.settle)
                os.kill(worker.pid, signal.SIGUSR1)
                s = _wait_file(probe / f"stats-{b + 1}.json")
                s["projects"] = done
                stats.append(s)
                print(f"  rss {s['rss'] // 1024} MiB  objects {s['objects']}  malloc {s['malloc']}  "
                      f"pymalloc {s['pymalloc']}  maps {s['maps']}", file=sys.stderr)
            os.kill(worker.pid, signal.SIGUSR2)
            trim = _wait_file(probe / "trim.json")
            print(f"malloc_trim(0): RSS {trim['before'] // 1024} → {trim['after'] // 1024} MiB", file=sys.stderr)
            await rep.aclose()
        finally:
            stack.stop()
    return stats


def report(stats: list[dict[str, Any]], probe: Path, top: int, baseline: int) -> None:
    first, last = stats[min(baseline, len(stats) - 2)], stats[-1]
    n = last["projects"] - first["projects"]
    print(f"growth per project between {first['projects']} and {last['projects']} projects (KiB):")
    print(f"  rss {(last['rss'] - first['rss']) / n:.1f}")
    for group in ("malloc", "pymalloc", "maps"):
        for k in last[group]:
            print(f"  {group}.{k} {(last[group][k] - first[group].get(k, 0)) / n:.2f}")
    if "traced_kib" in last:
        print(f"  tracemalloc traced {(last['traced_kib'] - first['traced_kib']) / n:.1f}")
    print(f"objects per project: {(last['objects'] - first['objects']) / n:.1f}; by type:")
    if "held" in last:
        print("untracked objects held by tracked ones, growth in KiB per project (holder -> held):")
        more = {k: v - first.get("held", {}).get(k, 0) for k, v in last["held"].items()}
        for k, v in sorted(more.items(), key=lambda kv: -kv[1])[:top]:
            print(f"  {v / 1024 / n:8.2f}  {k}")
    grown = {t: c - first["types"].get(t, 0) for t, c in last["types"].items()}
    for t, c in sorted(grown.items(), key=lambda kv: -kv[1])[:top]:
        print(f"  {c / n:8.2f}  {t}")
    a, b = probe / f"snap-{first['seq']}.tm", probe / f"snap-{last['seq']}.tm"
    if b.exists():
        import tracemalloc

        # The first probe started tracing: without its snapshot, the last one is all the growth.
        later = tracemalloc.Snapshot.load(str(b))
        diff = (later.compare_to(tracemalloc.Snapshot.load(str(a)), "traceback") if a.exists()
                else later.compare_to(tracemalloc.Snapshot([], later.traceback_limit), "traceback"))
        print("tracemalloc growth by traceback:")
        for d in diff[:top]:
            print(f"  {d.size_diff / 1024 / n:8.2f} KiB/project  {d.count_diff / n:6.1f} blocks/project")
            for line in d.traceback.format(most_recent_first=True)[:24]:
                print(f"      {line}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batches", type=int, default=4)
    parser.add_argument("--per-batch", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--settle", type=float, default=5.0, help="seconds idle before each probe")
    parser.add_argument("--trace", type=int, default=0, help="tracemalloc frames (0: off)")
    parser.add_argument("--trace-at", type=int, default=1, help="start tracing at this probe (1: before the projects)")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--baseline", type=int, default=1, help="compare the last batch with this one (0: before)")
    parser.add_argument("--env", action="append", default=[], help="K=V for the stack (e.g. MALLOC_ARENA_MAX=2)")
    parser.add_argument("--keep", default="", help="keep the probe's files in this dir")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        probe = Path(args.keep or tmp)
        probe.mkdir(parents=True, exist_ok=True)
        stats = asyncio.run(drive(args, probe))
        report(stats, probe, args.top, args.baseline)


if __name__ == "__main__":
    main()
