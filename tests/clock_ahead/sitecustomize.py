"""Loaded at start-up by every Python process of a ``baobei test --clock-ahead DAYS`` run (this
directory comes first on PYTHONPATH, which child processes inherit).

The clock itself is moved by libfaketime (LD_PRELOAD, ``FAKETIME=+<DAYS>d``, also inherited, so
the C libraries of the process — SQLite, OpenSSL, gRPC core, Temporal's core — and the Temporal
test server see the same date). Its monotonic clock stays real (``FAKETIME_DONT_FAKE_MONOTONIC``),
which keeps lock and event timeouts right but makes libfaketime 0.9.10 refuse the absolute
monotonic ``clock_nanosleep`` behind ``time.sleep`` (EINVAL): sleep with ``select`` instead."""

from __future__ import annotations

import os

if os.environ.get("BAOBEI_TEST_CLOCK_AHEAD_DAYS") and "faketime" in os.environ.get("LD_PRELOAD", ""):
    import select
    import time

    def _sleep(seconds: float) -> None:
        if seconds < 0:
            raise ValueError("sleep length must be non-negative")
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            select.select([], [], [], left)

    time.sleep = _sleep
