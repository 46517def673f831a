"""Persistence of the reporting service: keyword-only functions over a SQLAlchemy engine.

Every event is applied in one transaction with its ``processed_event`` row (exactly-once effect)
and its ``event_log`` row (the source for rebuilds); early-warning rows are written in that same
transaction, so a condition is raised once however often events are redelivered."""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
import structlog
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, col, select

from services.reporting import domain, events, health
from services.reporting.models import EventLog, ProjectView, metadata

log = structlog.get_logger(__name__)

T_PROJECT = metadata.tables["project_view"]
T_TASK = metadata.tables["task_view"]
T_COST = metadata.tables["cost_entry"]
T_STEP = metadata.tables["approval_step_view"]
T_DECISION = metadata.tables["approval_decision_view"]
T_WARNING = metadata.tables["warning"]
T_SETTING = metadata.tables["report_setting"]
T_LOG = metadata.tables["event_log"]
T_PROCESSED = metadata.tables["processed_event"]
T_ASSIGNEE = metadata.tables["assignee_task_summary"]
T_FORWARD = metadata.tables["event_forward"]
T_REVIEW = metadata.tables["project_review"]
# Finance sync: event types forwarded to notify.PublishEvent (webhook subscribers).
FORWARDED_TYPES = ("project.approved", "project.closed", "cost.recorded")
CONTRACTED = ("active", "closed")
OPEN_TASK_STATUSES = ("todo", "in_progress", "blocked")
CHUNK = 500


Conn = Session | Connection


def _dialect(conn: Conn) -> str:
    return (conn.get_bind() if isinstance(conn, Session) else conn).dialect.name


def _insert(conn: Conn) -> Any:
    return postgresql.insert if _dialect(conn) == "postgresql" else sqlite.insert


def _insert_ignore(conn: Conn, table: sa.Table, values: dict[str, Any]) -> bool:
    """INSERT … ON CONFLICT DO NOTHING; True when a row was inserted. On PostgreSQL a concurrent
    insert of the same key waits for the other transaction and then does nothing."""
    # RETURNING rather than rowcount: through an ORM session rowcount is not reliable (-1)
    return conn.execute(_insert_ignore_stmt(conn, table), values).first() is not None


_STATEMENTS: dict[tuple[str, str], Any] = {}


def _statement(conn: Conn, name: str, build: Callable[[Any], Any]) -> Any:
    """A dialect's statement (``build`` gets its ``insert``), built once and reused: an event runs
    several, and building and cache-keying them each time was a tenth of an ingest. Values come as
    execute parameters."""
    dialect = _dialect(conn)
    stmt = _STATEMENTS.get((dialect, name))
    if stmt is None:
        stmt = _STATEMENTS[(dialect, name)] = build(postgresql.insert if dialect == "postgresql" else sqlite.insert)
    return stmt


def _insert_ignore_stmt(conn: Conn, table: sa.Table) -> Any:
    """The table's INSERT … ON CONFLICT DO NOTHING RETURNING key."""
    key = next(iter(table.primary_key.columns))
    return _statement(conn, f"ignore:{table.name}",
                      lambda insert: insert(table).on_conflict_do_nothing().returning(key))


def _insert_nothing_stmt(conn: Conn, table: sa.Table) -> Any:
    """The table's INSERT … ON CONFLICT DO NOTHING (whether it inserted is not asked)."""
    return _statement(conn, f"nothing:{table.name}", lambda insert: insert(table).on_conflict_do_nothing())


def _utc(value: datetime | None) -> datetime | None:
    return domain.as_utc(value) if value is not None else None


def _view(row: ProjectView) -> domain.ProjectView:
    return domain.ProjectView(
        project_id=row.project_id,
        code=row.code,
        name=row.name,
        status=row.status,
        amount=row.amount,
        owner_id=row.owner_id,
        department_id=row.department_id,
        region=row.region,
        business_line=row.business_line,
        form_key=row.form_key,
        conflict_count=row.conflict_count,
        last_event_at=_utc(row.last_event_at),
        field_at={k: datetime.fromisoformat(v) for k, v in (row.field_at or {}).items()},
    )


# ---------------------------------------------------------------- settings


def thresholds(conn: Session | Engine | Connection) -> health.Thresholds:
    def read(c: Any) -> health.Thresholds:
        row = c.execute(sa.select(T_SETTING.c.value).where(T_SETTING.c.key == "health")).first()
        return health.Thresholds.from_json(row[0]) if row else health.Thresholds()

    if isinstance(conn, Engine):
        with conn.connect() as c:
            return read(c)
    return read(conn)


def set_thresholds(engine: Engine, *, value: health.Thresholds, now: datetime) -> health.Thresholds:
    health.validate_thresholds(value)
    with Session(engine) as session:
        stmt = _insert(session)(T_SETTING).values(key="health", value=value.as_json(), updated_at=now)
        session.execute(
            stmt.on_conflict_do_update(index_elements=["key"], set_={"value": value.as_json(), "updated_at": now})
        )
        session.commit()
    log.info("reporting.thresholds_set", **value.as_json())
    return value


# ---------------------------------------------------------------- ingest

# Statements of the ingest path, built once (their cache keys too); the WHERE values are bound
# as b_<column>, the SET values are the other execute parameters.
LIFECYCLE_COLUMNS = ("created_at", "submitted_at", "approved_at", "rejected_at", "closed_at")
PROJECT_COLUMNS = (*domain.SNAPSHOT_FIELDS, "amount_cents", "last_event_at", "field_at", "updated_at",
                   *LIFECYCLE_COLUMNS)
_TIME_COLUMNS = ("last_event_at", "updated_at", *LIFECYCLE_COLUMNS)
_LOCK_PROJECT = (
    sa.select(*(T_PROJECT.c[k] for k in PROJECT_COLUMNS))
    .where(T_PROJECT.c.project_id == sa.bindparam("b_project_id"))
    .with_for_update()
)
_UPDATE_PROJECT = T_PROJECT.update().where(T_PROJECT.c.project_id == sa.bindparam("b_project_id"))
_PROJECT_STATUS = sa.select(T_PROJECT.c.status, T_PROJECT.c.field_at).where(
    T_PROJECT.c.project_id == sa.bindparam("b_project_id")
)
_CLOSE_PROJECT_STEPS = T_STEP.update().where(
    T_STEP.c.project_id == sa.bindparam("b_project_id"), T_STEP.c.closed_at.is_(None)
)
_CLOSE_EARLIER_STEPS = T_STEP.update().where(
    T_STEP.c.instance_id == sa.bindparam("b_instance_id"),
    T_STEP.c.step_index < sa.bindparam("b_step_index"),
    T_STEP.c.closed_at.is_(None),
)
_CLOSE_STEP = T_STEP.update().where(
    T_STEP.c.instance_id == sa.bindparam("b_instance_id"),
    T_STEP.c.step_index == sa.bindparam("b_step_index"),
    T_STEP.c.closed_at.is_(None),
)
_LOCK_TASK = (
    sa.select(T_TASK.c.last_event_at, T_TASK.c.assignee_id)
    .where(T_TASK.c.task_id == sa.bindparam("b_task_id"))
    .with_for_update()
)
_UPDATE_TASK = T_TASK.update().where(T_TASK.c.task_id == sa.bindparam("b_task_id"))
_STEP_VALUES = ("project_id", "step", "approvers", "opened_at")


def _upsert_step_stmt(conn: Conn) -> Any:
    def build(insert: Any) -> Any:
        stmt = insert(T_STEP)
        return stmt.on_conflict_do_update(index_elements=["instance_id", "step_index"],
                                          set_={k: stmt.excluded[k] for k in _STEP_VALUES})

    return _statement(conn, "upsert:approval_step_view", build)


@dataclass
class _Project:
    """A project row this transaction has locked (or inserted) and written: ``row`` holds its
    PROJECT_COLUMNS as stored (times in UTC), ``view`` the same as the domain reads it."""

    view: domain.ProjectView
    row: dict[str, Any]


@dataclass
class _Batch:
    """One ingest (or rebuild) transaction: its connection and time; the project rows it locked
    and wrote (nobody else can change them before it commits, so they are read once); the
    thresholds, read when first needed; the assignees whose summaries are recomputed at its end
    (from task_view, so once for the batch gives the rows each event's recomputation would)."""

    conn: Connection
    now: datetime
    projects: dict[str, _Project] = dataclasses.field(default_factory=dict)
    assignees: set[str] = dataclasses.field(default_factory=set)
    _thresholds: health.Thresholds | None = None

    @property
    def t(self) -> health.Thresholds:
        if self._thresholds is None:
            self._thresholds = thresholds(self.conn)
        return self._thresholds


def ingest(engine: Engine, *, event: domain.Event, fact: events.Fact, now: datetime) -> bool:
    """Record the event once (processed_event + event_log) and fold its fact (read, checked) into
    the read models, all in one transaction. Returns False for an event id seen before (nothing
    changes)."""
    return ingest_batch(engine, [(event, fact)], now=now) == 1


def ingest_batch(engine: Engine, items: Sequence[tuple[domain.Event, events.Fact]], *, now: datetime) -> int:
    """``ingest`` of several events, in order, in one transaction (the outbox relay's batch): one
    BEGIN/COMMIT, one insert of the processed ids (whose RETURNING says which are new: the first
    occurrence of a new id is applied, any other is a duplicate), one of the log rows and one of
    the forwarded ones. Events are applied one after the other with Core statements, so each sees
    the read models exactly as after the previous one's commit. A failing event rolls the whole
    batch back (the relay ships it again: events apply once by id). On PostgreSQL two batches
    touching the same projects in opposite orders may deadlock; the server aborts one, which fails
    its call and is shipped again. Returns the number applied (the others had been ingested
    before)."""
    done: list[tuple[domain.Event, bool | None]] = []
    with engine.begin() as conn:
        fresh = _record_processed(conn, [event.event_id for event, _ in items], now=now)
        batch = _Batch(conn, now)
        logged: list[dict[str, Any]] = []
        forwarded: list[dict[str, Any]] = []
        for event, fact in items:
            if event.event_id not in fresh:
                done.append((event, None))
                continue
            fresh.discard(event.event_id)
            assert event.at is not None
            at, payload = domain.as_utc(event.at), dict(event.payload)
            logged.append({"event_id": event.event_id, "type": event.type, "project_id": event.project_id, "at": at,
                           "actor_id": event.actor_id, "payload": payload, "received_at": now})
            done.append((event, _apply(batch, event, fact)))
            if event.type in FORWARDED_TYPES:
                # Outbox row in the same transaction: forwarded once the event is recorded, and only then.
                forwarded.append({"event_id": event.event_id, "type": event.type, "project_id": event.project_id,
                                  "at": at, "payload": payload, "created_at": now})
        if logged:
            conn.execute(T_LOG.insert(), logged)
        if forwarded:
            conn.execute(_insert_nothing_stmt(conn, T_FORWARD), forwarded)
        if batch.assignees:
            refresh_assignee_summaries(conn, batch.assignees)
    for event, stale in done:
        if stale is None:
            log.info("event.duplicate", project_id=event.project_id, event_id=event.event_id, type=event.type)
        else:
            log.info("event.ingested", project_id=event.project_id, event_id=event.event_id, type=event.type,
                     stale=stale)
    return sum(1 for _, stale in done if stale is not None)


def _record_processed(conn: Connection, event_ids: Sequence[str], *, now: datetime) -> set[str]:
    """Insert the processed_event rows of these ids (one statement); the ids that were new. On
    PostgreSQL an id another transaction is inserting waits for it, then counts as seen."""
    unique = list(dict.fromkeys(event_ids))
    if not unique:
        return set()
    rows = conn.execute(_insert_ignore_stmt(conn, T_PROCESSED), [{"event_id": i, "processed_at": now} for i in unique])
    return {r[0] for r in rows}


def _apply(batch: _Batch, event: domain.Event, parsed: events.Fact | None) -> bool:
    """Fold one validated event into the read models; returns True when it was older than the state.
    The assignees whose tasks changed are added to ``batch.assignees`` (their summaries are the
    caller's: recomputed at the end of an ingest, all at once by a rebuild)."""
    conn, now = batch.conn, batch.now
    if isinstance(parsed, dict):
        stale = _apply_project(batch, event, parsed)
        if event.type in events.ENDS_APPROVAL:
            _close_steps(conn, project_id=event.project_id, at=domain.as_utc(event.at or now), outcome=event.type[8:])
        if event.type in ("project.closed", "project.cancelled"):
            evaluate_project(conn, project_id=event.project_id, now=now, t=batch.t)
        return stale
    if isinstance(parsed, events.TaskChange):
        stale, assignees = _apply_task(conn, event, parsed)
        batch.assignees |= assignees
        evaluate_project(conn, project_id=event.project_id, now=now, t=batch.t)
        for user in sorted(assignees - {""}):
            evaluate_user(conn, user_id=user, now=now, t=batch.t)
        return stale
    if isinstance(parsed, events.CostFact):
        _insert_ignore(
            conn,
            T_COST,
            {
                "cost_id": parsed.cost_id,
                "project_id": event.project_id,
                "task_id": parsed.task_id,
                "kind": parsed.kind,
                "amount_cents": parsed.amount_cents,
                "at": parsed.at,
            },
        )
        evaluate_project(conn, project_id=event.project_id, now=now, t=batch.t)
        return False
    if isinstance(parsed, events.StepOpened):
        _apply_step_opened(batch, event, parsed)
        return False
    if isinstance(parsed, events.Decided):
        _apply_decided(conn, event, parsed)
        return False
    if isinstance(parsed, events.Reviewed):
        return _apply_reviewed(conn, event, parsed)
    return False


def _apply_reviewed(conn: Connection, event: domain.Event, r: events.Reviewed) -> bool:
    """The latest review by event time wins (an older one arriving late changes nothing)."""
    assert event.at is not None
    at = domain.as_utc(event.at)
    values = {
        "outcome": r.outcome,
        "reason": r.reason,
        "lessons": r.lessons,
        "tags": list(r.tags),
        "delay_summary": r.delay_summary,
        "reviewed_at": at,
        "reviewed_by": event.actor_id,
        "event_id": event.event_id,
    }
    if _insert_ignore(conn, T_REVIEW, {"project_id": event.project_id, **values}):
        return False
    current = conn.execute(
        sa.select(T_REVIEW.c.reviewed_at, T_REVIEW.c.event_id).where(T_REVIEW.c.project_id == event.project_id)
    ).one()
    current_at = domain.as_utc(current.reviewed_at)
    if (at, event.event_id) < (current_at, current.event_id):
        return True
    conn.execute(T_REVIEW.update().where(T_REVIEW.c.project_id == event.project_id).values(**values))
    return False


def _lock_project(conn: Connection, project_id: str) -> _Project | None:
    """The project's row, locked until the transaction ends (concurrent events of one project
    serialise here); None when there is none."""
    found = conn.execute(_LOCK_PROJECT, {"b_project_id": project_id}).first()
    if found is None:
        return None
    row = dict(found._mapping)
    for key in _TIME_COLUMNS:
        row[key] = _utc(row[key])
    row["field_at"] = row["field_at"] or {}
    view = domain.ProjectView(
        project_id=project_id,
        **{key: row[key] for key in domain.SNAPSHOT_FIELDS},
        last_event_at=row["last_event_at"],
        field_at={k: datetime.fromisoformat(v) for k, v in row["field_at"].items()},
    )
    return _Project(view, row)


def _folded(
    current: _Project | None, event: domain.Event, snapshot: dict[str, Any], *, at: datetime, now: datetime
) -> tuple[domain.ProjectView, dict[str, Any]]:
    """The view after the event and the row values it writes (lifecycle times only when they move)."""
    view = current.view if current is not None else domain.ProjectView(project_id=event.project_id)
    after = domain.fold(view, event, snapshot)
    new: dict[str, Any] = {key: getattr(after, key) for key in domain.SNAPSHOT_FIELDS}
    new["amount_cents"] = int(after.amount * 100) if after.amount is not None else None
    new["last_event_at"] = after.last_event_at
    new["field_at"] = {k: v.isoformat() for k, v in after.field_at.items()}
    new["updated_at"] = now
    row = current.row if current is not None else {}
    first, last = events.LIFECYCLE_FIRST.get(event.type), events.LIFECYCLE_LAST.get(event.type)
    if first is not None and (row.get(first) is None or at < row[first]):
        new[first] = at
    if last is not None and (row.get(last) is None or at > row[last]):
        new[last] = at
    return after, new


def _apply_project(batch: _Batch, event: domain.Event, snapshot: dict[str, Any]) -> bool:
    """Fold a project event into its row: read (locked) once per transaction, then kept in
    ``batch.projects``; a new project is one INSERT, an existing one an UPDATE of what changed."""
    assert event.at is not None
    at, conn, project_id = domain.as_utc(event.at), batch.conn, event.project_id
    current = batch.projects.get(project_id)
    # A creation is most likely the project's first event: try the insert before any read.
    if current is None and event.type != "project.created":
        current = _lock_project(conn, project_id)
    if current is None:
        after, new = _folded(None, event, snapshot, at=at, now=batch.now)
        if conn.execute(_insert_ignore_stmt(conn, T_PROJECT), {"project_id": project_id, **new}).first() is not None:
            batch.projects[project_id] = _Project(after, {**dict.fromkeys(LIFECYCLE_COLUMNS), **new})
            return False
        # Inserted meanwhile (an earlier event, or another transaction that has now committed).
        current = _lock_project(conn, project_id)
        assert current is not None
    after, new = _folded(current, event, snapshot, at=at, now=batch.now)
    changed = {key: value for key, value in new.items() if current.row[key] != value}
    if changed:
        conn.execute(_UPDATE_PROJECT, {"b_project_id": project_id, **changed})
    batch.projects[project_id] = _Project(after, {**current.row, **changed})
    return domain.is_stale(current.view, event)


def _apply_task(conn: Connection, event: domain.Event, change: events.TaskChange) -> tuple[bool, set[str]]:
    """Upsert the task unless a newer event already wrote it; returns (stale, assignees whose tasks
    changed — "" for unassigned tasks)."""
    assert event.at is not None
    at = domain.as_utc(event.at)
    row = conn.execute(_LOCK_TASK, {"b_task_id": change.task_id}).first()
    if row is not None and _utc(row.last_event_at) is not None and at < _utc(row.last_event_at):  # type: ignore[operator]
        return True, set()
    values = {**change.values, "last_event_at": at}
    if row is None:
        conn.execute(
            T_TASK.insert(), {"task_id": change.task_id, "project_id": event.project_id, "created_at": at,
                              "status": "todo", **values}
        )
        return False, {values.get("assignee_id", "")}
    conn.execute(_UPDATE_TASK, {"b_task_id": change.task_id, **values})
    return False, {row.assignee_id, values.get("assignee_id", row.assignee_id)}


# A project status that ends approval → the outcome of the steps still open (as _close_steps).
STATUS_ENDS_STEP = {"active": "approved", "rejected": "rejected", "returned": "returned", "cancelled": "cancelled",
                    "closed": "closed"}


def _apply_step_opened(batch: _Batch, event: domain.Event, s: events.StepOpened) -> None:
    conn = batch.conn
    conn.execute(_upsert_step_stmt(conn), {"instance_id": s.instance_id, "step_index": s.step_index,
                                           "project_id": event.project_id, "step": s.step,
                                           "approvers": list(s.approvers), "opened_at": s.opened_at})
    # The previous steps of the instance are over once a later one opens (the first has none).
    if s.step_index > 0:
        conn.execute(_CLOSE_EARLIER_STEPS, {"b_instance_id": s.instance_id, "b_step_index": s.step_index,
                                            "closed_at": s.opened_at, "outcome": "approved"})
    # Registry and approval publish through separate outboxes: the project's end (approved,
    # rejected, …) may arrive before the opening of its last step. A step opened before the
    # project's current status was set, when that status ends approval, is over already.
    known = batch.projects.get(event.project_id)
    if known is not None:
        status, field_at = known.row["status"], known.row["field_at"]
    else:
        project = conn.execute(_PROJECT_STATUS, {"b_project_id": event.project_id}).first()
        status, field_at = (project.status, project.field_at or {}) if project is not None else ("", {})
    outcome = STATUS_ENDS_STEP.get(status)
    status_at = field_at.get("status")
    if outcome and status_at and datetime.fromisoformat(status_at) >= domain.as_utc(s.opened_at):
        conn.execute(_CLOSE_STEP, {"b_instance_id": s.instance_id, "b_step_index": s.step_index,
                                   "closed_at": datetime.fromisoformat(status_at), "outcome": outcome})


def _apply_decided(conn: Connection, event: domain.Event, d: events.Decided) -> None:
    conn.execute(
        _insert_nothing_stmt(conn, T_DECISION),
        {
            "event_id": event.event_id,
            "instance_id": d.instance_id,
            "step_index": d.step_index,
            "project_id": event.project_id,
            "step": d.step,
            "user_id": d.user_id,
            "action": d.action,
            "channel": d.channel,
            "at": d.at,
        },
    )
    if d.action in ("reject", "return"):
        conn.execute(_CLOSE_STEP, {"b_instance_id": d.instance_id, "b_step_index": d.step_index, "closed_at": d.at,
                                   "outcome": "rejected" if d.action == "reject" else "returned"})


def _close_steps(conn: Connection, *, project_id: str, at: datetime, outcome: str) -> None:
    conn.execute(_CLOSE_PROJECT_STEPS, {"b_project_id": project_id, "closed_at": at, "outcome": outcome})


# ---------------------------------------------------------------- summaries


def local_date(dialect: str, column: Any) -> Any:
    """Calendar day (Asia/Shanghai) of a timestamp column, computed by the database."""
    if dialect == "postgresql":
        return sa.cast(sa.func.timezone("Asia/Shanghai", column), sa.Date)
    return sa.func.date(column, "+8 hours")


def _assignee_aggregates(dialect: str) -> list[Any]:
    """tasks, done, on_time, first_done_at, last_done_at over task_view rows (productivity's figures)."""
    t = T_TASK.c
    done = t.status == "done"
    on_time = sa.and_(done, t.due.is_not(None), t.done_at.is_not(None), local_date(dialect, t.done_at) <= t.due)
    return [
        sa.func.count().label("tasks"),
        sa.func.coalesce(sa.func.sum(sa.case((done, 1), else_=0)), 0).label("done"),
        sa.func.coalesce(sa.func.sum(sa.case((on_time, 1), else_=0)), 0).label("on_time"),
        sa.func.min(t.done_at).label("first_done_at"),
        sa.func.max(t.done_at).label("last_done_at"),
    ]


SUMMARY_COLUMNS = ("tasks", "done", "on_time", "first_done_at", "last_done_at")


def refresh_assignee_summaries(session: Conn, assignee_ids: Iterable[str]) -> None:
    """Recompute the summary rows of the given assignees from task_view, in the caller's transaction.

    The row is locked (created if missing) before task_view is read: under READ COMMITTED that read
    sees every other transaction that changed this assignee's tasks and committed before we got the
    lock, and one still running recomputes after us — so concurrent task events never lose an
    update. Deterministic from task_view, hence idempotent and out-of-order safe (task_view itself
    keeps only the newest event per task). Locks are taken in sorted order (no deadlocks)."""
    aggregates = _assignee_aggregates(_dialect(session))
    for user in sorted(set(assignee_ids)):
        _insert_ignore(session, T_ASSIGNEE, {"assignee_id": user})
        session.execute(
            sa.select(T_ASSIGNEE.c.assignee_id).where(T_ASSIGNEE.c.assignee_id == user).with_for_update()
        ).one()
        row = session.execute(sa.select(*aggregates).where(T_TASK.c.assignee_id == user)).one()
        session.execute(
            T_ASSIGNEE.update()
            .where(T_ASSIGNEE.c.assignee_id == user)
            .values(**{k: getattr(row, k) for k in SUMMARY_COLUMNS})
        )


def recompute_summaries(conn: Conn) -> None:
    """Recompute every summary table from the read models (rebuilds, bulk loads), set-wise in SQL."""
    conn.execute(T_ASSIGNEE.delete())
    source = sa.select(T_TASK.c.assignee_id, *_assignee_aggregates(_dialect(conn))).group_by(T_TASK.c.assignee_id)
    conn.execute(T_ASSIGNEE.insert().from_select(["assignee_id", *SUMMARY_COLUMNS], source))


# ---------------------------------------------------------------- health and warnings


def _task_fact(r: Any) -> health.TaskFact:
    return health.TaskFact(
        task_id=r.task_id,
        project_id=r.project_id,
        name=r.name,
        assignee_id=r.assignee_id,
        status=r.status,
        start=r.start,
        due=r.due,
        finish=r.finish,
        baseline_finish=r.baseline_finish,
        estimate_hours=r.estimate_hours or 0.0,
        progress=r.progress or 0.0,
        milestone=bool(r.milestone),
        delay_reason=r.delay_reason,
        done_at=_utc(r.done_at),
    )


def _chunks(ids: Sequence[str]) -> Iterable[list[str]]:
    for i in range(0, len(ids), CHUNK):
        yield list(ids[i : i + CHUNK])


def tasks_of(conn: Any, project_ids: Sequence[str]) -> dict[str, list[health.TaskFact]]:
    out: dict[str, list[health.TaskFact]] = defaultdict(list)
    for chunk in _chunks(project_ids):
        for r in conn.execute(sa.select(T_TASK).where(T_TASK.c.project_id.in_(chunk))):
            out[r.project_id].append(_task_fact(r))
    return out


def costs_of(conn: Any, project_ids: Sequence[str]) -> dict[str, Decimal]:
    out: dict[str, Decimal] = {}
    for chunk in _chunks(project_ids):
        stmt = (
            sa.select(T_COST.c.project_id, sa.func.sum(T_COST.c.amount_cents))
            .where(T_COST.c.project_id.in_(chunk))
            .group_by(T_COST.c.project_id)
        )
        for pid, cents in conn.execute(stmt):
            out[pid] = Decimal(int(cents or 0)) / 100
    return out


def healths(conn: Any, project_ids: Sequence[str], *, now: datetime, t: health.Thresholds) -> dict[str, health.Health]:
    today = health.today_of(now)
    tasks, costs = tasks_of(conn, project_ids), costs_of(conn, project_ids)
    return {pid: health.assess(tasks.get(pid, []), costs.get(pid, Decimal("0")), t, today) for pid in project_ids}


def _record_conditions(
    session: Conn, conditions: list[health.WarningCondition], *, scope: Any, now: datetime
) -> tuple[int, int]:
    """Raise new conditions (insert-once by key) and clear those of ``scope`` that no longer hold."""
    raised = 0
    for c in conditions:
        inserted = _insert_ignore(
            session,
            T_WARNING,
            {
                "key": c.key,
                "kind": c.kind,
                "project_id": c.project_id,
                "user_id": c.user_id,
                "week": c.week,
                "title": c.title,
                "body": c.body,
                "recipient_ids": list(c.recipient_ids),
                "raised_at": now,
            },
        )
        if inserted:
            raised += 1
            log.info("warning.raised", key=c.key, kind=c.kind, project_id=c.project_id, user_id=c.user_id)
        else:
            # Still holding (or holding again): it stays raised; no second notification.
            session.execute(T_WARNING.update().where(T_WARNING.c.key == c.key).values(cleared_at=None))
    holding = [c.key for c in conditions]
    stmt = T_WARNING.update().where(scope, T_WARNING.c.cleared_at.is_(None))
    if holding:
        stmt = stmt.where(T_WARNING.c.key.not_in(holding))
    cleared = session.execute(stmt.values(cleared_at=now)).rowcount or 0  # type: ignore[attr-defined]
    return raised, cleared


def evaluate_project(session: Conn, *, project_id: str, now: datetime, t: health.Thresholds) -> tuple[int, int]:
    p = session.execute(
        sa.select(T_PROJECT.c.code, T_PROJECT.c.name, T_PROJECT.c.owner_id, T_PROJECT.c.status).where(
            T_PROJECT.c.project_id == project_id
        )
    ).first()
    h = healths(session, [project_id], now=now, t=t)[project_id]
    conditions = health.project_warnings(
        project_id=project_id,
        name=p.name if p else "",
        code=p.code if p else "",
        owner_id=p.owner_id if p else "",
        health=h,
        t=t,
        closed=bool(p and p.status in ("closed", "cancelled", "rejected")),
    )
    scope = sa.and_(T_WARNING.c.project_id == project_id, T_WARNING.c.kind.in_(("schedule_deviation", "cost_overrun")))
    return _record_conditions(session, conditions, scope=scope, now=now)


def evaluate_user(session: Conn, *, user_id: str, now: datetime, t: health.Thresholds) -> tuple[int, int]:
    rows = session.execute(
        sa.select(T_TASK).where(T_TASK.c.assignee_id == user_id, T_TASK.c.status.in_(OPEN_TASK_STATUSES))
    )
    conditions = health.overload_warnings(user_id, [_task_fact(r) for r in rows], t, health.today_of(now))
    scope = sa.and_(T_WARNING.c.user_id == user_id, T_WARNING.c.kind == "over_capacity")
    return _record_conditions(session, conditions, scope=scope, now=now)


def evaluate_all(engine: Engine, *, now: datetime) -> tuple[int, int]:
    """Re-check every project with open tasks and every person with open tasks (planned value and
    overdue tasks move with time, without events)."""
    with Session(engine) as session:
        t = thresholds(session)
        open_ = T_TASK.c.status.in_(OPEN_TASK_STATUSES)
        projects = [r[0] for r in session.execute(sa.select(T_TASK.c.project_id).where(open_).distinct())]
        users = [r[0] for r in session.execute(sa.select(T_TASK.c.assignee_id).where(open_).distinct()) if r[0]]
        raised = cleared = 0
        for pid in projects:
            r, c = evaluate_project(session, project_id=pid, now=now, t=t)
            raised, cleared = raised + r, cleared + c
        for uid in users:
            r, c = evaluate_user(session, user_id=uid, now=now, t=t)
            raised, cleared = raised + r, cleared + c
        session.commit()
    log.info("warnings.evaluated", projects=len(projects), users=len(users), raised=raised, cleared=cleared)
    return raised, cleared


@dataclass(frozen=True)
class WarningRow:
    key: str
    kind: str
    project_id: str
    user_id: str
    week: str
    title: str
    body: str
    recipient_ids: tuple[str, ...]
    raised_at: datetime
    notified_at: datetime | None
    cleared_at: datetime | None


def _warning(r: Any) -> WarningRow:
    return WarningRow(
        key=r.key,
        kind=r.kind,
        project_id=r.project_id,
        user_id=r.user_id,
        week=r.week,
        title=r.title,
        body=r.body,
        recipient_ids=tuple(r.recipient_ids or ()),
        raised_at=domain.as_utc(r.raised_at),
        notified_at=_utc(r.notified_at),
        cleared_at=_utc(r.cleared_at),
    )


def list_warnings(
    engine: Engine, *, all_projects: bool, project_ids: Sequence[str], user_id: str, include_cleared: bool
) -> list[WarningRow]:
    stmt = sa.select(T_WARNING)
    if not all_projects:
        clauses: list[Any] = [T_WARNING.c.project_id.in_(sorted(set(project_ids)))] if project_ids else []
        if user_id:
            clauses.append(T_WARNING.c.user_id == user_id)
        if not clauses:
            return []
        stmt = stmt.where(sa.or_(*clauses))
    if not include_cleared:
        stmt = stmt.where(T_WARNING.c.cleared_at.is_(None))
    with engine.connect() as conn:
        return [_warning(r) for r in conn.execute(stmt.order_by(T_WARNING.c.raised_at.desc(), T_WARNING.c.key))]


def pending_notifications(engine: Engine, *, limit: int = 50) -> list[WarningRow]:
    """The outbox: raised warnings not yet handed to notify."""
    with engine.connect() as conn:
        stmt = (
            sa.select(T_WARNING).where(T_WARNING.c.notified_at.is_(None)).order_by(T_WARNING.c.raised_at).limit(limit)
        )
        return [_warning(r) for r in conn.execute(stmt)]


def mark_notified(engine: Engine, *, key: str, at: datetime) -> None:
    with Session(engine) as session:
        session.execute(T_WARNING.update().where(T_WARNING.c.key == key).values(notified_at=at))
        session.commit()


@dataclass(frozen=True)
class ForwardRow:
    event_id: str
    type: str
    project_id: str
    at: datetime
    payload: dict[str, Any]
    created_at: datetime
    sent_at: datetime | None


def _forward(r: Any) -> ForwardRow:
    return ForwardRow(
        event_id=r.event_id,
        type=r.type,
        project_id=r.project_id,
        at=domain.as_utc(r.at),
        payload=dict(r.payload or {}),
        created_at=domain.as_utc(r.created_at),
        sent_at=_utc(r.sent_at),
    )


def pending_forwards(engine: Engine, *, limit: int = 50) -> list[ForwardRow]:
    """The finance sync outbox: forwarded-type events not yet handed to notify, oldest first."""
    with engine.connect() as conn:
        stmt = (
            sa.select(T_FORWARD)
            .where(T_FORWARD.c.sent_at.is_(None))
            .order_by(T_FORWARD.c.created_at, T_FORWARD.c.event_id)
            .limit(limit)
        )
        return [_forward(r) for r in conn.execute(stmt)]


def forwards(engine: Engine, *, project_id: str = "") -> list[ForwardRow]:
    stmt = sa.select(T_FORWARD).order_by(T_FORWARD.c.created_at, T_FORWARD.c.event_id)
    if project_id:
        stmt = stmt.where(T_FORWARD.c.project_id == project_id)
    with engine.connect() as conn:
        return [_forward(r) for r in conn.execute(stmt)]


_MARK_FORWARDED = (
    T_FORWARD.update().where(T_FORWARD.c.event_id.in_(sa.bindparam("b_event_ids", expanding=True)))
    .values(sent_at=sa.bindparam("b_sent_at"))
)


def mark_forwarded(engine: Engine, *, event_ids: list[str], at: datetime) -> None:
    """The events handed to notify (one statement for a forwarded batch)."""
    if event_ids:
        with engine.begin() as conn:
            conn.execute(_MARK_FORWARDED, {"b_event_ids": event_ids, "b_sent_at": at})


# ---------------------------------------------------------------- portfolio


@dataclass(frozen=True)
class Filters:
    department_id: str = ""
    region: str = ""
    business_line: str = ""
    owner_id: str = ""
    status: str = ""
    form_key: str = ""
    period_from: datetime | None = None
    period_to: datetime | None = None

    def clauses(self) -> list[Any]:
        c = T_PROJECT.c
        out: list[Any] = []
        for key in ("department_id", "region", "business_line", "owner_id", "status", "form_key"):
            if getattr(self, key):
                out.append(c[key] == getattr(self, key))
        if self.period_from:
            out.append(c.created_at >= self.period_from)
        if self.period_to:
            out.append(c.created_at < self.period_to)
        return out

    @property
    def empty(self) -> bool:
        return not self.clauses()


@dataclass(frozen=True)
class Scope:
    all_projects: bool
    project_ids: tuple[str, ...] = ()
    filters: Filters = Filters()
    # (project id, paths) of values the caller may not read ("amount", "region", "business_line"):
    # the registry decides per form; here they are blank, summed as nothing and matched by no filter.
    withheld: tuple[tuple[str, frozenset[str]], ...] = ()

    def hidden_ids(self, path: str) -> list[str]:
        return sorted(pid for pid, paths in self.withheld if path in paths)

    def value(self, path: str, column_name: str = "") -> Any:
        """SQL: the project column of ``path`` (named ``column_name`` when it differs), NULL where
        the value is withheld."""
        column, ids = T_PROJECT.c[column_name or path], self.hidden_ids(path)
        return sa.case((T_PROJECT.c.project_id.in_(ids), sa.null()), else_=column) if ids else column

    @property
    def nothing(self) -> bool:
        return not self.all_projects and not self.project_ids

    @property
    def unrestricted(self) -> bool:
        return self.all_projects and self.filters.empty

    def where(self) -> list[Any]:
        out = self.filters.clauses()
        for path in ("region", "business_line"):
            if getattr(self.filters, path) and self.hidden_ids(path):
                out.append(T_PROJECT.c.project_id.not_in(self.hidden_ids(path)))
        if not self.all_projects:
            out.append(T_PROJECT.c.project_id.in_(sorted(set(self.project_ids))))
        return out


@dataclass(frozen=True)
class PortfolioRow:
    view: domain.ProjectView
    registered_at: datetime | None
    health: health.Health


@dataclass(frozen=True)
class PortfolioData:
    project_count: int
    by_status: dict[str, int]
    total_amount: Decimal
    contracted_amount: Decimal
    overdue_tasks: int
    active_tasks: int
    approvals_waiting: int
    approvals_avg_hours: float
    approvals_max_hours: float
    projects: tuple[PortfolioRow, ...]


def _project_ids_subquery(scope: Scope) -> Any:
    return sa.select(T_PROJECT.c.project_id).where(*scope.where())


def _row_view(r: Any) -> domain.ProjectView:
    return domain.ProjectView(
        project_id=r.project_id,
        code=r.code,
        name=r.name,
        status=r.status,
        amount=Decimal(r.amount_cents) / 100 if r.amount_cents is not None else None,
        owner_id=r.owner_id,
        department_id=r.department_id,
        region=r.region,
        business_line=r.business_line,
        form_key=r.form_key,
        conflict_count=r.conflict_count,
        last_event_at=_utc(r.last_event_at),
    )


def _withhold(view: domain.ProjectView, scope: Scope) -> domain.ProjectView:
    paths = dict(scope.withheld).get(view.project_id)
    if not paths:
        return view
    return dataclasses.replace(
        view, amount=None if "amount" in paths else view.amount,
        region="" if "region" in paths else view.region,
        business_line="" if "business_line" in paths else view.business_line,
    )


def portfolio(engine: Engine, *, scope: Scope, now: datetime, limit: int = 0, offset: int = 0) -> PortfolioData:
    """Counts and sums over every matching project (in SQL), plus per-project health for a page."""
    if scope.nothing:
        return PortfolioData(0, {}, Decimal("0.00"), Decimal("0.00"), 0, 0, 0, 0.0, 0.0, ())
    c = T_PROJECT.c
    today = health.today_of(now)
    with engine.connect() as conn:
        where = scope.where()
        by_status: dict[str, int] = {}
        total = contracted = 0
        for status, n, cents in conn.execute(
            sa.select(c.status, sa.func.count(), sa.func.sum(scope.value("amount", "amount_cents"))).where(*where)
            .group_by(c.status)
        ):
            by_status[status or domain.UNKNOWN_STATUS] = int(n)
            total += int(cents or 0)
            if status in CONTRACTED:
                contracted += int(cents or 0)
        tstmt = sa.select(
            sa.func.count(),
            sa.func.sum(sa.case((sa.and_(T_TASK.c.due.is_not(None), T_TASK.c.due < today), 1), else_=0)),
        ).where(T_TASK.c.status.in_(OPEN_TASK_STATUSES))
        if not scope.unrestricted:
            tstmt = tstmt.where(T_TASK.c.project_id.in_(_project_ids_subquery(scope)))
        active_tasks, overdue = conn.execute(tstmt).one()
        waiting = sa.select(T_STEP.c.opened_at).where(T_STEP.c.closed_at.is_(None))
        waiting = waiting.where(
            T_STEP.c.project_id.in_(sa.select(c.project_id).where(*where, c.status == "pending_approval"))
        )
        ages = [max((now - domain.as_utc(r[0])).total_seconds() / 3600, 0.0) for r in conn.execute(waiting)]
        page = sa.select(T_PROJECT).where(*where).order_by(c.last_event_at.desc(), c.project_id)
        if limit > 0:
            page = page.limit(limit).offset(max(offset, 0))
        rows = list(conn.execute(page))
        t = thresholds(conn)
        hs = healths(conn, [r.project_id for r in rows], now=now, t=t)
    return PortfolioData(
        project_count=sum(by_status.values()),
        by_status=by_status,
        total_amount=Decimal(total) / 100,
        contracted_amount=Decimal(contracted) / 100,
        overdue_tasks=int(overdue or 0),
        active_tasks=int(active_tasks or 0),
        approvals_waiting=len(ages),
        approvals_avg_hours=round(sum(ages) / len(ages), 2) if ages else 0.0,
        approvals_max_hours=round(max(ages), 2) if ages else 0.0,
        projects=tuple(PortfolioRow(_withhold(_row_view(r), scope), _utc(r.created_at), hs[r.project_id])
                       for r in rows),
    )


@dataclass(frozen=True)
class ProjectReport:
    row: PortfolioRow
    tasks: tuple[health.TaskFact, ...]
    burndown: health.Burndown


def project_report(engine: Engine, *, project_id: str, now: datetime) -> ProjectReport | None:
    with engine.connect() as conn:
        r = conn.execute(sa.select(T_PROJECT).where(T_PROJECT.c.project_id == project_id)).first()
        if r is None:
            return None
        t = thresholds(conn)
        tasks = tasks_of(conn, [project_id]).get(project_id, [])
        cost = costs_of(conn, [project_id]).get(project_id, Decimal("0"))
    today = health.today_of(now)
    h = health.assess(tasks, cost, t, today)
    tasks.sort(key=lambda x: (x.start or x.due or date.max, x.task_id))
    return ProjectReport(
        row=PortfolioRow(_row_view(r), _utc(r.created_at), h),
        tasks=tuple(tasks),
        burndown=health.burndown(tasks, today),
    )


# ---------------------------------------------------------------- event log / rebuild


def project_views(engine: Engine, *, all_projects: bool, project_ids: Sequence[str]) -> list[domain.ProjectView]:
    """Read models of all projects or of the given ids (unknown ids are skipped), most recently
    changed first."""
    if not all_projects and not project_ids:
        return []
    stmt = select(ProjectView)
    if not all_projects:
        stmt = stmt.where(col(ProjectView.project_id).in_(sorted(set(project_ids))))
    stmt = stmt.order_by(col(ProjectView.last_event_at).desc(), col(ProjectView.project_id))
    with Session(engine) as session:
        return [_view(r) for r in session.exec(stmt)]


def event_log(engine: Engine, *, project_id: str) -> list[dict[str, Any]]:
    """The project's logged events in event-time order (for analytics and tests)."""
    with Session(engine) as session:
        rows = session.exec(
            select(EventLog).where(EventLog.project_id == project_id).order_by(col(EventLog.at), col(EventLog.event_id))
        )
        return [
            {
                "event_id": r.event_id,
                "type": r.type,
                "at": domain.as_utc(r.at),
                "actor_id": r.actor_id,
                "payload": r.payload,
            }
            for r in rows
        ]


@dataclass(frozen=True)
class RegistryProject:
    """A project as the registry has it (the source of truth for its own fields)."""

    project_id: str
    # Read-model fields, read and checked (events.project_snapshot).
    snapshot: dict[str, Any]
    created_at: datetime | None
    updated_at: datetime | None


@dataclass(frozen=True)
class RebuildResult:
    events: int
    projects: int
    tasks: int


def rebuild(
    engine: Engine,
    *,
    projects: Sequence[RegistryProject],
    now: datetime,
    read: Callable[[domain.Event], tuple[domain.Event, events.Fact | None]],
) -> RebuildResult:
    """Recompute every read model in one transaction: empty them, re-fold the event log in event
    order, then apply the registry's current projects (newer than any event by construction, so
    they win field by field). ``read`` types a logged event (its payload as the kind's message has
    it) and reads its fact; None for a type reporting no longer folds. Warnings keep their rows:
    a condition raised before is not raised (nor notified) again."""
    n_events = 0
    with Session(engine) as session:
        for table in (T_PROJECT, T_TASK, T_COST, T_STEP, T_DECISION, T_ASSIGNEE, T_REVIEW):
            session.execute(table.delete())
        batch = _Batch(session.connection(), now)
        stmt = sa.select(T_LOG).order_by(T_LOG.c.at, T_LOG.c.received_at, T_LOG.c.event_id)
        for r in session.execute(stmt).all():
            event = domain.Event(
                event_id=r.event_id,
                type=r.type,
                project_id=r.project_id,
                at=domain.as_utc(r.at),
                actor_id=r.actor_id,
                payload=r.payload or {},
            )
            try:
                event, parsed = read(event)
            except Exception as err:  # noqa: BLE001 - an event stored by an older version: skip, say so
                log.warning("rebuild.event_skipped", event_id=r.event_id, error=str(err))
                continue
            _apply(batch, event, parsed)
            n_events += 1
        for p in projects:
            at = p.updated_at or now
            event = domain.Event(
                event_id=f"registry:{p.project_id}",
                type="project.snapshot",
                project_id=p.project_id,
                at=at,
            )
            _apply_project(batch, event, p.snapshot)
            if p.created_at:
                session.execute(
                    T_PROJECT.update()
                    .where(T_PROJECT.c.project_id == p.project_id)
                    .where(sa.or_(T_PROJECT.c.created_at.is_(None), T_PROJECT.c.created_at > p.created_at))
                    .values(created_at=p.created_at)
                )
                batch.projects.pop(p.project_id, None)  # its created_at may have moved: read it again
        recompute_summaries(session)
        n_tasks = session.execute(sa.select(sa.func.count()).select_from(T_TASK)).scalar_one()
        session.commit()
    log.info("reporting.rebuilt", events=n_events, projects=len(projects), tasks=n_tasks)
    return RebuildResult(events=n_events, projects=len(projects), tasks=int(n_tasks))


def utc_now() -> datetime:
    return datetime.now(UTC)
