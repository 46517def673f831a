"""The processes of a running ``baobei dev`` (children of its supervisor), named by role: the
benchmarks read their CPU time and memory from /proc (psutil) and attach py-spy to them."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import psutil

from baobei.core.settings import SERVICES


def role_of(cmdline: list[str]) -> str:
    """``worker`` (lifecycle), ``delivery-worker``, ``edge``, a service name, ``temporal``,
    ``redis``, ``smtp-sink`` or ``other``."""
    joined = " ".join(cmdline)
    if "cli.main" in joined:
        if "worker" in cmdline and "delivery" in cmdline:
            return "delivery-worker"
        for role in ("worker", "edge", "smtp-sink"):
            if role in cmdline:
                return role
        for service in SERVICES:
            if service in cmdline:
                return service
    if cmdline and Path(cmdline[0]).name == "temporal":
        return "temporal"
    if "redis" in joined:
        return "redis"
    return "other"


def stack_processes(supervisor_pid: int) -> dict[str, psutil.Process]:
    """Role → process for the supervisor's children (the last one seen of a role wins: a restart)."""
    found: dict[str, psutil.Process] = {}
    for child in psutil.Process(supervisor_pid).children(recursive=True):
        try:
            found[role_of(child.cmdline())] = child
        except psutil.NoSuchProcess:
            continue
    found.pop("other", None)
    return found


def cpu_seconds(procs: dict[str, psutil.Process]) -> dict[str, float]:
    """User + system CPU seconds each process has used so far (0 for one that is gone)."""
    out: dict[str, float] = {}
    for role, proc in procs.items():
        try:
            t = proc.cpu_times()
            out[role] = t.user + t.system
        except psutil.NoSuchProcess:
            out[role] = 0.0
    return out


def rss_mib(proc: psutil.Process) -> float:
    return float(proc.memory_info().rss) / (1024 * 1024)


@dataclass
class Profiler:
    """py-spy ``record`` on each process (collapsed stacks, one file per role) while it runs."""

    out_dir: Path
    procs: dict[str, psutil.Process]
    rate: int = int(os.environ.get("BENCH_SPY_RATE", "50"))
    running: list[subprocess.Popen[bytes]] | None = None

    def __enter__(self) -> Profiler:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.running = [
            subprocess.Popen(
                [str(Path(sys.executable).parent / "py-spy"), "record", "--pid", str(p.pid),
                 "--rate", str(self.rate), "--nonblocking",
                 # BENCH_SPY_GIL=1: only samples of the thread holding the GIL (CPU, not
                 # runnable threads waiting for a core on a busy machine)
                 *(["--gil"] if os.environ.get("BENCH_SPY_GIL") else []),
                 "--format", "raw", "--output", str(self.out_dir / f"{role}.txt")],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )
            for role, p in self.procs.items() if role not in ("temporal", "redis")
        ]
        return self

    def __exit__(self, *_: object) -> None:
        for proc in self.running or []:
            proc.send_signal(2)  # SIGINT: py-spy writes its output and exits
        for proc in self.running or []:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
