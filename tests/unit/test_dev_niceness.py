"""``baobei dev`` starts its background child (the delivery worker) at a lower CPU priority, and
a restarted child keeps it; the other children run at the supervisor's own."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from cli.dev import BACKGROUND_NICENESS, Child

PRINT_NICENESS = [sys.executable, "-c", "import os; print(os.nice(0))"]


def run(child: Child) -> int:
    child.start()
    assert child.proc is not None
    assert child.proc.wait(30) == 0
    assert child.log is not None
    child.log.close()
    assert child.log_path is not None
    return int(child.log_path.read_text().split()[-1])


def test_a_background_child_runs_nicer_and_keeps_it_when_restarted(tmp_path: Path) -> None:
    own = os.nice(0)
    plain = Child("edge", PRINT_NICENESS, dict(os.environ), tmp_path / "edge.log")
    assert run(plain) == own
    background = Child("delivery-worker", PRINT_NICENESS, dict(os.environ), tmp_path / "delivery.log",
                       niceness=BACKGROUND_NICENESS)
    assert BACKGROUND_NICENESS > 0
    assert run(background) == min(own + BACKGROUND_NICENESS, 19)
    assert run(background) == min(own + BACKGROUND_NICENESS, 19)  # a restart starts it the same way
