"""Background imports (``import_job`` rows): queued with their upload, run by the registry's
import runner, their progress committed with each chunk, resumed after a restart.

A job runs the same two phases as a synchronous import (``store.imports``): every row is checked
first — any bad row fails the whole job unless ``skip_invalid``, nothing stored — then the good
rows are written in chunks, one transaction per chunk together with the job's progress. A job cut
off midway (restart, crash) is resumable: the next run checks the sheet again, rows whose key is
already stored (by this job or before it) are skipped, and the counts carry on from the last
committed chunk. A job that keeps being interrupted is failed with the reason."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import structlog
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from baobei.core.errors import DomainError, FieldViolation, NotFound, ValidationFailed
from services.registry import metrics
from services.registry.domain import import_jobs as jobs
from services.registry.domain import imports as rules
from services.registry.domain.import_jobs import ImportJob, JobStatus
from services.registry.domain.imports import ImportResult
from services.registry.models import ImportJobRow
from services.registry.store.conflicts import ConflictIndex
from services.registry.store.forms import find_form
from services.registry.store.imports import CHUNK_ROWS, apply_edits, check_sheet, write_rows
from services.registry.store.rows import now as _now
from services.registry.store.rows import utc

log = structlog.get_logger(__name__)

# Row errors kept on a job (a sheet can be all bad; the counts stay exact).
MAX_STORED_ERRORS = 2_000
# Normalisations and edits kept on a job (a typed 10,000-row sheet has tens of thousands; all counted).
MAX_STORED_CHANGES = 2_000
# A running job's runner refreshes its updated_at this often; one not refreshed for
# STALE_SECONDS lost its runner (the process stopped) and is taken up again.
HEARTBEAT_SECONDS = 5.0
STALE_SECONDS = 30.0


def job_of(row: ImportJobRow) -> ImportJob:
    return ImportJob(
        id=row.id, actor_id=row.actor_id, form_key=row.form_key, filename=row.filename, dry_run=row.dry_run,
        skip_invalid=row.skip_invalid, status=JobStatus(row.status), rows_total=row.rows_total,
        rows_checked=row.rows_checked, rows_done=row.rows_done, created=row.created, existing=row.existing,
        invalid=row.invalid, errors=list(row.errors or []), project_ids=list(row.project_ids or []),
        reason_zh=row.reason_zh, reason_en=row.reason_en, attempts=row.attempts,
        lifecycles_started=row.lifecycles_started, created_at=utc(row.created_at), updated_at=utc(row.updated_at),
        finished_at=utc(row.finished_at) if row.finished_at else None, updated=row.updated, unchanged=row.unchanged,
        updated_ids=list(row.updated_ids or []), changes=list(row.changes or []), changes_total=row.changes_total,
        actor_is_admin=row.actor_is_admin,
    )


def _not_found(job_id: str) -> NotFound:
    return NotFound(f"导入任务 {job_id} 不存在", f"import job {job_id} not found", code="import_job_not_found")


def create_job(
    *, session: Session, job_id: str, form_key: str, actor_id: str, data: bytes, filename: str, dry_run: bool,
    skip_invalid: bool, actor_is_admin: bool = True,
) -> ImportJob:
    """Queue an import (the form must exist; the sheet itself is read by the job)."""
    if find_form(session=session, key=form_key.strip()) is None:
        raise ValidationFailed(
            [FieldViolation("form_key", f"表单 {form_key} 不存在", f"form {form_key} does not exist")]
        )
    now = _now()
    row = ImportJobRow(
        id=job_id, actor_id=actor_id, form_key=form_key.strip(), filename=filename, data=data, dry_run=dry_run,
        skip_invalid=skip_invalid, status=JobStatus.QUEUED.value, created_at=now, updated_at=now,
        actor_is_admin=actor_is_admin,
    )
    session.add(row)
    session.flush()
    log.info("import_job.queued", job_id=job_id, form_key=form_key, actor=actor_id, bytes=len(data), dry_run=dry_run)
    return job_of(row)


def get_job(*, session: Session, job_id: str, viewer_id: str, viewer_is_admin: bool) -> ImportJob:
    """The job for its importer or an admin; anyone else is told it does not exist."""
    row = session.get(ImportJobRow, job_id) if job_id else None
    if row is None or not (viewer_is_admin or row.actor_id == viewer_id):
        raise _not_found(job_id)
    return job_of(row)


def mark_lifecycles_started(*, session: Session, job_id: str, viewer_id: str, viewer_is_admin: bool) -> ImportJob:
    """Record that the imported projects' lifecycles were started (by the edge or the CLI)."""
    row = session.get(ImportJobRow, job_id) if job_id else None
    if row is None or not (viewer_is_admin or row.actor_id == viewer_id):
        raise _not_found(job_id)
    if not row.lifecycles_started:
        row.lifecycles_started = True
        row.updated_at = _now()
        session.add(row)
        session.flush()
    return job_of(row)


def _errors_json(result: ImportResult) -> list[dict[str, Any]]:
    return [{"row": n, "column": c, "field": p, "zh": v.zh, "en": v.en}
            for n, c, p, v in result.errors[:MAX_STORED_ERRORS]]


def _changes_json(result: ImportResult) -> list[dict[str, Any]]:
    return [{"row": c.row, "column": c.column, "field": c.field, "before": c.before, "after": c.after,
             "kind": c.kind} for c in result.changes[:MAX_STORED_CHANGES]]


def _finish(row: ImportJobRow, status: JobStatus, *, zh: str = "", en: str = "") -> None:
    now = _now()
    row.status = status.value
    row.reason_zh, row.reason_en = zh[:1000], en[:1000]
    row.updated_at = row.finished_at = now
    row.data = None  # the upload is not needed any more


def resume_interrupted(engine: Engine, *, stale_after: float = STALE_SECONDS) -> list[str]:
    """The jobs to run, oldest first: queued ones, and running ones whose runner stopped beating
    (a process that died or restarted midway) — put back in the queue, or failed after
    ``MAX_ATTEMPTS``. A running job with a fresh heartbeat belongs to a live runner and is left alone."""
    stale = _now() - timedelta(seconds=stale_after)
    with Session(engine) as session:
        rows = session.exec(
            select(ImportJobRow).where(col(ImportJobRow.status).in_([s.value for s in jobs.UNFINISHED]))
            .order_by(col(ImportJobRow.created_at))
        ).all()
        out = []
        for row in rows:
            if row.status == JobStatus.RUNNING.value:
                if utc(row.updated_at) > stale:
                    continue
                if jobs.give_up(row.attempts):
                    _finish(row, JobStatus.FAILED,
                            zh=f"导入任务被中断 {row.attempts} 次，已放弃；已导入的行保留，重新导入同一文件会跳过它们",
                            en=f"the import was interrupted {row.attempts} times and was given up; the rows "
                               "stored stay, and importing the same file again skips them")
                    log.warning("import_job.given_up", job_id=row.id, attempts=row.attempts)
                    session.add(row)
                    continue
                log.info("import_job.resumed", job_id=row.id, rows_done=row.rows_done, attempts=row.attempts)
                row.status = JobStatus.QUEUED.value
                session.add(row)
            out.append(row.id)
        session.commit()
        return out


def _claim(engine: Engine, job_id: str) -> bool:
    """Take a queued job (one runner wins: the update is conditional on its status)."""
    table = ImportJobRow.__table__  # type: ignore[attr-defined]
    with engine.begin() as conn:
        won = conn.execute(
            table.update().where(table.c.id == job_id, table.c.status == JobStatus.QUEUED.value)
            .values(status=JobStatus.RUNNING.value, attempts=table.c.attempts + 1, updated_at=_now())
        ).rowcount
    return bool(won)


def _heartbeat(engine: Engine, job_id: str, done: threading.Event) -> None:
    """Keep the running job's ``updated_at`` fresh (also while a big sheet is being parsed)."""
    table = ImportJobRow.__table__  # type: ignore[attr-defined]
    while not done.wait(HEARTBEAT_SECONDS):
        try:
            with engine.begin() as conn:
                conn.execute(table.update().where(table.c.id == job_id, table.c.status == JobStatus.RUNNING.value)
                             .values(updated_at=_now()))
        except Exception:  # noqa: BLE001 - a missed beat is retried; the job goes on
            log.warning("import_job.heartbeat_failed", job_id=job_id)


def run_job(
    engine: Engine, job_id: str, *, chunk_rows: int = CHUNK_ROWS, should_stop: Callable[[], bool] = lambda: False,
) -> JobStatus:
    """Run (or resume) a queued job to its end; the status it is left in. ``should_stop`` is asked
    between chunks: when it says yes the job goes back to ``queued``, for the next start."""
    if not _claim(engine, job_id):
        with Session(engine) as session:
            row = session.get(ImportJobRow, job_id)
            return JobStatus(row.status) if row is not None else JobStatus.FAILED
    done = threading.Event()
    beat = threading.Thread(target=_heartbeat, args=(engine, job_id, done), name=f"import-beat-{job_id[:8]}",
                            daemon=True)
    beat.start()
    # expire_on_commit off: the rows the check loaded in bulk keep answering look-ups after each
    # progress commit.
    try:
        with Session(engine, expire_on_commit=False) as session:
            job = session.get(ImportJobRow, job_id)
            assert job is not None
            try:
                return _run(session, job, job.created, job.updated, chunk_rows, should_stop)
            except DomainError as err:
                session.rollback()
                job = session.get(ImportJobRow, job_id)
                assert job is not None
                job.errors = [{"row": 0, "column": "", "field": v.field, "zh": v.zh, "en": v.en}
                              for v in err.violations[:MAX_STORED_ERRORS]]
                _finish(job, JobStatus.FAILED, zh=err.zh, en=err.en)
            except Exception as err:  # noqa: BLE001 - a job's failure is recorded on the job, never lost
                session.rollback()
                log.exception("import_job.failed", job_id=job_id)
                job = session.get(ImportJobRow, job_id)
                assert job is not None
                _finish(job, JobStatus.FAILED, zh=f"导入中断：{err}；已导入的行保留，重新导入同一文件会跳过它们",
                        en=f"the import stopped: {err}; the rows stored stay, and importing the same file again "
                           "skips them")
            session.add(job)
            session.commit()
            return JobStatus.FAILED
    finally:
        done.set()


def _run(session: Session, job: ImportJobRow, created_before: int, updated_before: int, chunk_rows: int,
         should_stop: Callable[[], bool]) -> JobStatus:
    def progress(checked: int, result: ImportResult) -> None:
        job.rows_total, job.rows_checked = result.rows, checked
        job.invalid = result.invalid
        job.errors = _errors_json(result)
        job.updated_at = _now()
        session.add(job)
        session.commit()

    checked = check_sheet(session=session, form_key=job.form_key, actor_id=job.actor_id, data=job.data or b"",
                          filename=job.filename, actor_is_admin=job.actor_is_admin, progress=progress)
    result = checked.result
    job.rows_total, job.rows_checked, job.invalid = result.rows, result.rows, result.invalid
    job.existing = jobs.existing_on_resume(result.existing, created_before)
    job.unchanged = jobs.unchanged_on_resume(result.unchanged, updated_before)
    job.errors = _errors_json(result)
    if not (created_before or updated_before):
        # A resumed job keeps the changes its first full check listed: the rows it has stored or
        # edited since read back as existing or unchanged, with nothing to report.
        job.changes, job.changes_total = _changes_json(result), len(result.changes)
    refused = rules.refusal(result, skip_invalid=job.skip_invalid, dry_run=job.dry_run)
    if refused is not None:
        _finish(job, JobStatus.FAILED, zh=refused.zh, en=refused.en)
        session.add(job)
        session.commit()
        return JobStatus.FAILED
    if job.dry_run:
        job.created, job.updated, job.rows_done = len(checked.ready), len(checked.edits), result.rows
        _finish(job, JobStatus.DONE)
        session.add(job)
        session.commit()
        return JobStatus.DONE
    # The edits of coded rows, together in one transaction with their count (a resumed job finds
    # those it made unchanged, so none is made twice).
    apply_edits(session, checked.ctx, checked.edits, result)
    job.updated = updated_before + len(checked.edits)
    job.updated_ids = [*job.updated_ids, *result.updated_ids]
    # Rows settled before the chunks: existing ones (this job's earlier chunks included), bad ones,
    # and coded ones (edited or unchanged).
    job.rows_done = result.existing + result.invalid + result.unchanged + len(checked.edits)
    job.updated_at = _now()
    session.add(job)
    session.commit()
    at = _now()
    index = ConflictIndex(session)
    for chunk in jobs.chunks(checked.ready, chunk_rows):
        if should_stop():
            job.status = JobStatus.QUEUED.value  # the next start takes it up at once
            session.add(job)
            session.commit()
            log.info("import_job.paused", job_id=job.id, rows_done=job.rows_done)
            return JobStatus.QUEUED
        ids = write_rows(session, checked, chunk, index, actor_id=job.actor_id, at=at)
        job.project_ids = [*job.project_ids, *ids]
        job.created += len(ids)
        job.rows_done += len(chunk)
        job.updated_at = _now()
        session.add(job)
        session.commit()  # the chunk and the progress that counts it, together
        metrics.CREATED.labels("import").inc(len(ids))
    _finish(job, JobStatus.DONE)
    session.add(job)
    session.commit()
    log.info("import_job.done", job_id=job.id, created=job.created, existing=job.existing, updated=job.updated,
             unchanged=job.unchanged, invalid=job.invalid)
    return JobStatus.DONE
