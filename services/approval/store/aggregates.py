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
from services.approval.mapping import utc
from services.approval.models import (
    ApprovalCC,
    ApprovalDecision,
    ApprovalDelegation,
    ApprovalInstance,
    ApprovalLinkUse,
    ApprovalStep,
    ApprovalTask,
)

log = structlog.get_logger("services.approval.store")
D = TypeVar("D")


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


def _values(obj: Any) -> dict[str, Any]:
    return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}


def delegation(row: ApprovalDelegation) -> domain.Delegation:
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


def lock_instance(session: Session, instance_id: str) -> ApprovalInstance:
    """The instance row, locked until the transaction ends (PostgreSQL row lock; SQLite holds the
    write lock since BEGIN IMMEDIATE): transitions of one instance are serialised."""
    stmt = (
        select(ApprovalInstance)
        .where(ApprovalInstance.id == instance_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    row = session.exec(stmt).first()
    if row is None:
        raise NotFound(f"审批实例不存在：{instance_id}", f"unknown approval instance: {instance_id}")
    return row


def steps(session: Session, instance_id: str) -> list[ApprovalStep]:
    stmt = (
        select(ApprovalStep)
        .where(ApprovalStep.instance_id == instance_id)
        .order_by(col(ApprovalStep.step_index))
        .execution_options(populate_existing=True)
    )
    return list(session.exec(stmt).all())


def decisions(session: Session, instance_id: str) -> list[ApprovalDecision]:
    stmt = select(ApprovalDecision).where(ApprovalDecision.instance_id == instance_id)
    return list(session.exec(stmt.order_by(col(ApprovalDecision.at), col(ApprovalDecision.id))).all())


def load(session: Session, row: ApprovalInstance, *, links: Iterable[str] = ()) -> domain.Approval:
    """The instance with its steps, every task, its audit trail, its carbon copies, the
    delegations of its approvers and which of ``links`` were used."""
    tasks = session.exec(
        select(ApprovalTask).where(ApprovalTask.instance_id == row.id).execution_options(populate_existing=True)
    ).all()
    cc = session.exec(select(ApprovalCC).where(ApprovalCC.instance_id == row.id).order_by(col(ApprovalCC.created_at)))
    used = frozenset(link for link in links if link and session.get(ApprovalLinkUse, link) is not None)
    return domain.Approval(
        instance=to_domain(domain.Instance, row),
        steps=[to_domain(domain.Step, s) for s in steps(session, row.id)],
        tasks=[to_domain(domain.Task, t) for t in tasks],
        decisions=[to_domain(domain.Decision, d) for d in decisions(session, row.id)],
        cc=[to_domain(domain.CcCopy, c) for c in cc.all()],
        delegations=delegations_of(session, sorted({t.approver_id for t in tasks})),
        used_links=used,
    )


def _changes(before: Any, after: Any) -> dict[str, Any]:
    old = _values(before)
    return {k: v for k, v in _values(after).items() if old[k] != v}


def persist(session: Session, before: domain.Approval, t: domain.Transition) -> None:
    """Write what ``t`` changed relative to ``before`` (the state it was computed from), insert its
    new rows, flush, and log its events. Raises ``already_decided`` when a task it changes was
    changed by someone else since it was read."""
    after = t.approval
    if before.instance.id != after.instance.id:
        raise ValueError("a transition persists onto the instance it was computed from")
    changes = _changes(before.instance, after.instance)
    if changes:
        session.execute(sa.update(ApprovalInstance).where(col(ApprovalInstance.id) == after.instance.id)
                        .values(**changes).execution_options(synchronize_session=False))
    old_steps = {s.step_index: s for s in before.steps}
    for s in after.steps:
        changes = _changes(old_steps[s.step_index], s)
        if changes:
            session.execute(sa.update(ApprovalStep).where(col(ApprovalStep.instance_id) == s.instance_id,
                                                          col(ApprovalStep.step_index) == s.step_index)
                            .values(**changes).execution_options(synchronize_session=False))
    old_tasks = {x.id: x for x in before.tasks}
    for task in after.tasks:
        if task.id not in old_tasks:
            continue
        was = old_tasks[task.id]
        changes = _changes(was, task)
        if changes:
            result = session.execute(
                sa.update(ApprovalTask)
                .where(col(ApprovalTask.id) == task.id, col(ApprovalTask.status) == was.status)
                .values(**changes)
                .execution_options(synchronize_session=False)
            )
            if result.rowcount != 1:  # type: ignore[attr-defined]
                raise domain.already_decided()
    insert_new(session, t)


def insert_new(session: Session, t: domain.Transition) -> None:
    for task in t.new_tasks:
        session.add(ApprovalTask(**_values(task)))
    rows = [ApprovalDecision(**{k: v for k, v in _values(d).items() if k != "id"}) for d in t.new_decisions]
    session.add_all(rows)
    for c in t.new_cc:
        session.add(ApprovalCC(**_values(c)))
    session.flush()
    for d, r in zip(t.new_decisions, rows, strict=True):
        d.id = r.id
    if t.link_use is not None:
        session.add(ApprovalLinkUse(**_values(t.link_use)))
        try:
            session.flush()
        except IntegrityError as err:
            raise domain.link_used() from err
    for event in t.events:
        log.info(event.name, **event.fields)


def insert_instance(session: Session, approval: domain.Approval) -> None:
    """A newly planned instance with its steps."""
    session.add(ApprovalInstance(**_values(approval.instance)))
    session.flush()  # the steps' foreign key
    for s in approval.steps:
        session.add(ApprovalStep(**{k: v for k, v in _values(s).items() if k != "id"}))
