"""The registry's import runner: one background thread that runs queued import jobs one at a
time (an import is CPU-bound; one at a time keeps the service answering). At start, and every
``SCAN_SECONDS`` while idle, it takes up queued jobs and those a stopped process left running
(``store.import_jobs.resume_interrupted``: their heartbeat went stale)."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable

import structlog
from sqlalchemy.engine import Engine

from services.registry.store import import_jobs

log = structlog.get_logger(__name__)
SCAN_SECONDS = 10.0


class ImportRunner:
    def __init__(self, engine: Engine, *, scan_seconds: float = SCAN_SECONDS) -> None:
        self.engine = engine
        self.scan_seconds = scan_seconds
        self._queue: queue.Queue[str] = queue.Queue()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._scanned = 0.0
        self._until: Callable[[], bool] | None = None

    def start(self, *, until: Callable[[], bool] | None = None) -> None:
        """Queue the interrupted jobs and start the thread (once); it ends when ``until()`` says
        so (the server stopped), re-queuing its job after the chunk in progress."""
        if self._thread is not None:
            return
        self._until = until
        self._scan()
        self._thread = threading.Thread(target=self._loop, name="registry-imports", daemon=True)
        self._thread.start()

    def submit(self, job_id: str) -> None:
        self._queue.put(job_id)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop after the chunk in progress (the job is resumed by the next start)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _scan(self) -> None:
        try:
            for job_id in import_jobs.resume_interrupted(self.engine):
                self._queue.put(job_id)
        except Exception:  # noqa: BLE001 - the next scan tries again
            log.exception("import_job.scan_failed")
        self._scanned = time.monotonic()

    def _stopping(self) -> bool:
        return self._stop.is_set() or (self._until is not None and self._until())

    def _loop(self) -> None:
        while not self._stopping():
            try:
                job_id = self._queue.get(timeout=0.5)
            except queue.Empty:
                if time.monotonic() - self._scanned >= self.scan_seconds:
                    self._scan()
                continue
            try:
                import_jobs.run_job(self.engine, job_id, should_stop=self._stopping)
            except Exception:  # noqa: BLE001 - the thread outlives any one job
                log.exception("import_job.runner_error", job_id=job_id)
