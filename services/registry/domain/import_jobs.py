"""Background imports: how a job's rows are split into chunks, the states a job goes through,
and what a resumed job counts. Pure."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar

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


@dataclass
class ImportJob:
    """A background import as the importer sees it (errors: {row, column, field, zh, en})."""

    id: str
    actor_id: str
    form_key: str
    filename: str
    dry_run: bool
    skip_invalid: bool
    status: JobStatus
    rows_total: int
    rows_checked: int
    rows_done: int
    created: int
    existing: int
    invalid: int
    errors: list[dict[str, Any]]
    project_ids: list[str]
    reason_zh: str
    reason_en: str
    attempts: int
    lifecycles_started: bool
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None = None
    # Rows with a project code: projects edited, rows equal to their project.
    updated: int = 0
    unchanged: int = 0
    updated_ids: list[str] = field(default_factory=list)
    # The first normalisations and edits ({row, column, field, before, after, kind}); all counted.
    changes: list[dict[str, Any]] = field(default_factory=list)
    changes_total: int = 0
    actor_is_admin: bool = True


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    """``items`` in consecutive slices of at most ``size`` (the last may be shorter)."""
    if size < 1:
        raise ValueError("chunk size must be at least 1")
    for start in range(0, len(items), size):
        yield items[start:start + size]


def existing_on_resume(existing_checked: int, created_before: int) -> int:
    """Rows that existed before a resumed job: its check finds the rows the job itself stored
    before it was interrupted as already imported too (one per created project, whose key is
    unique), and those were counted as created when their chunk committed."""
    return max(0, existing_checked - created_before)


def unchanged_on_resume(unchanged_checked: int, updated_before: int) -> int:
    """Coded rows equal to their project in a resumed job: the edits the job made before it was
    interrupted read back unchanged, and those were counted as updated when they committed."""
    return max(0, unchanged_checked - updated_before)


def give_up(attempts: int) -> bool:
    """Whether a job interrupted ``attempts`` times is marked failed instead of resumed."""
    return attempts >= MAX_ATTEMPTS
