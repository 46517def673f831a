"""Background imports: how a job's rows are split into chunks, the states a job goes through,
and what a resumed job counts. Pure."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from enum import StrEnum
from typing import TypeVar

T = TypeVar("T")

# Jobs at or above this many rows are worth running in the background (the CLI's choice).
BACKGROUND_ROWS = 2_000
# A job interrupted (restart, failure) this many times is given up.
MAX_ATTEMPTS = 3


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


UNFINISHED = frozenset({JobStatus.QUEUED, JobStatus.RUNNING})


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    """``items`` in consecutive slices of at most ``size`` (the last may be shorter)."""
    if size < 1:
        raise ValueError("chunk size must be at least 1")
    for start in range(0, len(items), size):
        yield items[start:start + size]


def resume_split(import_keys: Sequence[str], stored: dict[str, str], created_by_job: set[str]) -> tuple[int, int]:
    """Of a resumed job's rows found already stored (``stored``: import key → project id): how
    many this job created before it was interrupted, and how many existed before it (count as
    ``existing``). Rows created by the job were counted when their chunk committed."""
    mine = sum(1 for k in import_keys if stored.get(k) in created_by_job)
    return mine, len([k for k in import_keys if k in stored]) - mine


def give_up(attempts: int) -> bool:
    """Whether a job interrupted ``attempts`` times is marked failed instead of resumed."""
    return attempts >= MAX_ATTEMPTS
