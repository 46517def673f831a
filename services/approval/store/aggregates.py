"""Loading an approval instance into the domain's dataclasses (one set of queries, inside the
caller's transaction, after the instance row is locked) and persisting what a transition did.

Task changes are conditional updates on the status that was read: a task changed by anyone else
in between (a concurrent decision, a retried activity) makes the transition fail as already
decided instead of taking effect twice."""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, TypeVar

import sqlalchemy as sa
import structlog
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from baobei.core.errors import NotFound
from services.approval import domain
from services.approval.domain.closings import closed_tasks
from services.approval.mapping import utc
from services.approval.models import (
    ApprovalCC,
    ApprovalDecision,
    ApprovalDelegation,
    ApprovalInstance,
    ApprovalLinkUse,
    ApprovalStep,
    ApprovalTask,
    ApprovalTaskClosing,
)
from services.approval.store.common import now_utc

log = structlog.get_logger("services.approval.store")
D = TypeVar("D")


def _table(model: Any) -> sa.Table:
    table: sa.Table = model.__table__
    return table


INSTANCES, STEPS, TASKS = _table(ApprovalInstance), _table(ApprovalStep), _table(ApprovalTask)
DECISIONS, CCS, LINK_USES = _table(ApprovalDecision), _table(ApprovalCC), _table(ApprovalLinkUse)
DELEGATIONS, CLOSINGS = _table(ApprovalDelegation), _table(ApprovalTaskClosing)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return utc(value)
    if isinstance(value, list | dict):
        return copy.deepcopy(value)
    return value


def to_domain(cls: type[D], row: Any) -> D:
    """A table row as the domain dataclass of the same field names (UTC datetimes, own copies
    of JSON values)."""
    return cls(**{f.name: _plain(getattr(row, f.name)) for f in dataclasses.fields(cls)})  # type: ignore[arg-type]


_field_names: dict[type, tuple[str, ...]] = {}


def _names(cls: type) -> tuple[str, ...]:
    """The field names of a domain dataclass, in order (read once per class: ``dataclasses.fields``
    builds its tuple on every call, and every persisted row asked for it twice)."""
    found = _field_names.get(cls)
    if found is None:
        found = _field_names[cls] = tuple(f.name for f in dataclasses.fields(cls))
    return found


def _values(obj: Any) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in _names(type(obj))}


def delegation(row: ApprovalDelegation | sa.Row[Any]) -> domain.Delegation:
    return domain.Delegation(user_id=row.user_id, delegate_id=row.delegate_id, starts_at=utc(row.starts_at),
                             ends_at=utc(row.ends_at))


def delegations_of(session: Session, user_ids: Sequence[str]) -> list[domain.Delegation]:
    if not user_ids:
        return []
    stmt = select(ApprovalDelegation).where(col(ApprovalDelegation.user_id).in_(list(user_ids)))
    return [delegation(r) for r in session.exec(stmt).all()]


def delegations_to(session: Session, delegate_id: str) -> list[domain.Delegation]:
    rows = session.exec(select(ApprovalDelegation).where(ApprovalDelegation.delegate_id == delegate_id)).all()
    return [delegation(r) for r in rows]


def _record(cls: type[D], row: sa.Row[Any]) -> D:
    """A row of a Core select as the domain dataclass (UTC datetimes; its JSON values are its own,
    decoded for this row)."""
    return cls(**{k: utc(v) if isinstance(v, datetime) else v for k, v in row._mapping.items()})


_LOCK = sa.select(INSTANCES).where(INSTANCES.c.id == sa.bindparam("instance_id")).with_for_update()
_LOCK_PROJECT = sa.select(INSTANCES).where(INSTANCES.c.project_id == sa.bindparam("project_id")).with_for_update()
_TASK_INSTANCE = sa.select(TASKS.c.instance_id).where(TASKS.c.id == sa.bindparam("task_id"))


def lock(session: Session, instance_id: str) -> domain.Instance:
    """The instance row, locked until the transaction ends (PostgreSQL row lock; SQLite holds the
    write lock since BEGIN IMMEDIATE): transitions of one instance are serialised. Read straight
    into the domain's instance (for ``load``)."""
    found = session.connection().execute(_LOCK, {"instance_id": instance_id}).first()
    if found is None:
        raise NotFound(f"审批实例不存在：{instance_id}", f"unknown approval instance: {instance_id}")
    return _record(domain.Instance, found)


def lock_project(session: Session, project_id: str) -> list[domain.Instance]:
    """Every instance of a project, locked until the transaction ends (as ``lock``), in the
    order the database returns them."""
    return [_record(domain.Instance, r) for r in session.connection().execute(_LOCK_PROJECT,
                                                                              {"project_id": project_id})]


def task_instance(session: Session, task_id: str) -> str | None:
    """The instance a task belongs to (None: no such task)."""
    found: str | None = session.connection().execute(_TASK_INSTANCE, {"task_id": task_id}).scalar()
    return found


def steps(session: Session, instance_id: str) -> list[ApprovalStep]:
    stmt = (
        select(ApprovalStep)
        .where(ApprovalStep.instance_id == instance_id)
        .order_by(col(ApprovalStep.step_index))
        .execution_options(populate_existing=True)
    )
    return list(session.exec(stmt).all())


_TASKS_OF = sa.select(TASKS).where(TASKS.c.instance_id == sa.bindparam("instance_id"))
_STEPS_OF = (sa.select(STEPS).where(STEPS.c.instance_id == sa.bindparam("instance_id"))
             .order_by(STEPS.c.step_index))
_DECISIONS_OF = (sa.select(DECISIONS).where(DECISIONS.c.instance_id == sa.bindparam("instance_id"))
                 .order_by(DECISIONS.c.at, DECISIONS.c.id))
_CC_OF = sa.select(CCS).where(CCS.c.instance_id == sa.bindparam("instance_id")).order_by(CCS.c.created_at)
_DELEGATIONS_OF = sa.select(DELEGATIONS).where(DELEGATIONS.c.user_id.in_(sa.bindparam("user_ids", expanding=True)))
_LINK_USED = sa.select(LINK_USES.c.link_id).where(LINK_USES.c.link_id == sa.bindparam("link_id"))


def load(session: Session, row: ApprovalInstance | domain.Instance, *, links: Iterable[str] = ()) -> domain.Approval:
    """The instance with its steps, every task, its audit trail, its carbon copies, the
    delegations of its approvers and which of ``links`` were used (Core selects straight into the
    domain's dataclasses: the ORM's identity map has no part in a transition). ``row``: the locked
    instance (``lock``), or an instance row read otherwise (reads)."""
    conn = session.connection()
    key = {"instance_id": row.id}
    tasks = [_record(domain.Task, r) for r in conn.execute(_TASKS_OF, key)]
    approvers = sorted({t.approver_id for t in tasks})
    used = frozenset(link for link in links if link and conn.execute(_LINK_USED, {"link_id": link}).first()
                     is not None)
    return domain.Approval(
        instance=row if isinstance(row, domain.Instance) else to_domain(domain.Instance, row),
        steps=[_record(domain.Step, r) for r in conn.execute(_STEPS_OF, key)],
        tasks=tasks,
        decisions=[_record(domain.Decision, r) for r in conn.execute(_DECISIONS_OF, key)],
        cc=[_record(domain.CcCopy, r) for r in conn.execute(_CC_OF, key)],
        delegations=[delegation(r) for r in conn.execute(_DELEGATIONS_OF, {"user_ids": approvers})]
        if approvers else [],
        used_links=used,
    )


def _changes(before: Any, after: Any) -> dict[str, Any]:
    old = _values(before)
    return {k: v for k, v in _values(after).items() if old[k] != v}


# Updates built once (their compiled forms are cached per set of changed columns): the SET clause
# is the changed columns passed with the key (parameters named key_*, apart from the columns).
_UPDATE_INSTANCE = sa.update(INSTANCES).where(INSTANCES.c.id == sa.bindparam("key_id"))
_UPDATE_STEP = sa.update(STEPS).where(STEPS.c.instance_id == sa.bindparam("key_instance_id"),
                                      STEPS.c.step_index == sa.bindparam("key_step_index"))
_UPDATE_TASK = sa.update(TASKS).where(TASKS.c.id == sa.bindparam("key_id"),
                                      TASKS.c.status == sa.bindparam("key_status"))


def persist(session: Session, before: domain.Approval, t: domain.Transition) -> None:
    """Write what ``t`` changed relative to ``before`` (the state it was computed from), insert its
    new rows and log its events. Raises ``already_decided`` when a task it changes was changed by
    someone else since it was read."""
    after = t.approval
    if before.instance.id != after.instance.id:
        raise ValueError("a transition persists onto the instance it was computed from")
    conn = session.connection()
    changes = _changes(before.instance, after.instance)
    if changes:
        conn.execute(_UPDATE_INSTANCE, {**changes, "key_id": after.instance.id})
    old_steps = {s.step_index: s for s in before.steps}
    for s in after.steps:
        changes = _changes(old_steps[s.step_index], s)
        if changes:
            conn.execute(_UPDATE_STEP, {**changes, "key_instance_id": s.instance_id, "key_step_index": s.step_index})
    old_tasks = {x.id: x for x in before.tasks}
    for task in after.tasks:
        if task.id not in old_tasks:
            continue
        was = old_tasks[task.id]
        changes = _changes(was, task)
        if changes:
            result = conn.execute(_UPDATE_TASK, {**changes, "key_id": task.id, "key_status": was.status})
            if result.rowcount != 1:
                raise domain.already_decided()
    insert_new(session, t)
    closings = closed_tasks(before, t)
    if closings:
        now = now_utc()
        conn.execute(_INSERT_CLOSINGS, [
            {"task_id": c.task_id, "instance_id": c.instance_id, "project_id": c.project_id,
             "approver_id": c.approver_id, "outcome": c.outcome, "actor_id": c.actor_id, "created_at": now,
             "relayed": False}
            for c in closings
        ])
    log_events(t)


def log_events(t: domain.Transition) -> None:
    for event in t.events:
        log.info(event.name, **event.fields)


def _without_id(obj: Any) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in _names(type(obj)) if name != "id"}


# Decisions get autoincrement ids the callers read back (in the order of the parameters, also
# when several are inserted in one statement: RETURNING, SQLite >= 3.35 and PostgreSQL).
_INSERT_DECISIONS = DECISIONS.insert().returning(DECISIONS.c.id, sort_by_parameter_order=True)
# The other inserts, built once too. Steps' and closings' autoincrement keys are read by nobody:
# inline, so a single row is not inserted with RETURNING (PostgreSQL) to fetch it.
_INSERT_INSTANCE, _INSERT_TASKS, _INSERT_CC = INSTANCES.insert(), TASKS.insert(), CCS.insert()
_INSERT_LINK_USE = LINK_USES.insert()
_INSERT_STEPS, _INSERT_CLOSINGS = STEPS.insert().inline(), CLOSINGS.insert().inline()


def insert_new(session: Session, t: domain.Transition) -> None:
    """The rows ``t`` adds (tasks, audit trail with their ids set, carbon copies, the used action
    link: ``link_used`` when it was used before), one statement per table; its events are
    logged by the caller (``log_events``)."""
    conn = session.connection()
    if t.new_tasks:
        conn.execute(_INSERT_TASKS, [_values(x) for x in t.new_tasks])
    if t.new_decisions:
        ids = conn.execute(_INSERT_DECISIONS, [_without_id(d) for d in t.new_decisions]).scalars().all()
        for d, new_id in zip(t.new_decisions, ids, strict=True):
            d.id = new_id
    if t.new_cc:
        conn.execute(_INSERT_CC, [_values(c) for c in t.new_cc])
    if t.link_use is not None:
        try:
            conn.execute(_INSERT_LINK_USE, [_values(t.link_use)])
        except IntegrityError as err:
            raise domain.link_used() from err


def insert_instance(session: Session, approval: domain.Approval) -> None:
    """A newly planned instance with its steps."""
    conn = session.connection()
    conn.execute(_INSERT_INSTANCE, [_values(approval.instance)])  # first: the steps' foreign key
    if approval.steps:
        conn.execute(_INSERT_STEPS, [_without_id(s) for s in approval.steps])


def insert_planned(session: Session, planned: domain.Approval, opening: domain.Transition) -> None:
    """A newly planned instance with a step opened on it (``opening``, computed on ``planned``
    before anything was written): the instance and its steps as the opening left them, and the
    rows it adds, in one go — what inserting ``planned`` and persisting ``opening`` onto it would
    write (a new instance has no task an opening could close). Its events are not logged here:
    the caller logs them after the planning's."""
    if opening.approval.instance.id != planned.instance.id or planned.tasks:
        raise ValueError("an opening of the planned instance, before it has tasks")
    insert_instance(session, opening.approval)
    insert_new(session, opening)
