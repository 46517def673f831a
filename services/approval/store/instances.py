"""Planning an instance, opening its steps, recording decisions and firing SLA timers. Each method
locks the instance, loads it, lets the domain compute the transition and persists it, in one
transaction through ``run_once`` (request-id idempotency: retried activities and double clicks
take effect once)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import structlog
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from baobei.approval.v1 import approval_service_pb2 as pb
from baobei.core.db import record_response, run_once
from baobei.core.errors import Conflict, NotFound
from services.approval import domain, mapping, notice_outbox, reporting_outbox
from services.approval.models import ApprovalInstance, ApprovalStep, processed_request
from services.approval.store import aggregates
from services.approval.store.calendar import calendar_of
from services.approval.store.common import (
    M_FIRE_TIMER,
    M_OPEN_STEP,
    M_PLAN_CHAIN,
    M_RECORD_DECISION,
    now_utc,
    stored_response,
)

log = structlog.get_logger("services.approval.store")
# (instance id, project id, planning inputs, [(step name, planned approvers)])
Submission = tuple[str, str, dict[str, Any], list[tuple[str, list[str]]]]


def _purpose(approval: domain.Approval) -> tuple[str, str]:
    return approval.instance.purpose, approval.instance.subject_id


def step_response(approval: domain.Approval, step: domain.Step) -> pb.StepState:
    due, _ = step.timers()
    return mapping.step_state_to_proto(step, approval.decisions_of(step.step_index), due)


def instance_proto(approval: domain.Approval) -> pb.Instance:
    dues = {s.step_index: s.timers()[0] for s in approval.steps if s.status == domain.STEP_PENDING}
    return mapping.instance_to_proto(approval.instance, approval.steps, approval.decisions, approval.cc, dues)


def project_instances(session: Session, project_id: str) -> list[domain.Approval]:
    """Every submission of a project, locked (a new one supersedes what is open of them)."""
    return [aggregates.load(session, r) for r in aggregates.lock_project(session, project_id)]


def open_locked(session: Session, loaded: domain.Approval, step_index: int, *,
                report_scope: str, report_key: str, notice: pb.NoticeSpec | None = None) -> pb.OpenStepResponse:
    """Open a step of the locked instance as ``loaded`` (OpenStep, and RecordDecision opening
    the next step in its transaction): persist it and publish its reporting event and (when
    ``notice`` is given) the approval requests of the tasks it creates."""
    loaded = with_calendar(session, loaded)
    opened = domain.open_step(loaded, step_index, now_utc())
    aggregates.persist(session, loaded, opened.transition)
    return _opening_answer(session, opened, report_scope=report_scope, report_key=report_key, notice=notice)


def with_calendar(session: Session, approval: domain.Approval) -> domain.Approval:
    """Only an opening reads the company calendar: the step freezes it (Step.timers)."""
    return dataclasses.replace(approval, calendar=calendar_of(session))


def _opening_answer(session: Session, opened: domain.Opened, *, report_scope: str, report_key: str,
                    notice: pb.NoticeSpec | None) -> pb.OpenStepResponse:
    """The answer of an opening persisted in this transaction, with its reporting event and (when
    ``notice`` is given) the approval requests of the tasks it created."""
    instance = opened.transition.approval.instance
    purpose = (instance.purpose, instance.subject_id)
    out = pb.OpenStepResponse(
        step=mapping.step_state_to_proto(opened.step, opened.decisions, opened.due),
        tasks=[mapping.task_to_proto(t, purpose=purpose) for t in opened.tasks],
        auto_approved=opened.auto_approved,
        timers=[mapping.timer_to_proto(t) for t in opened.timers],
        due_at=mapping.timestamp(opened.due),
        cc=opened.cc,
    )
    reporting_outbox.opened(session, scope=report_scope, key=report_key, instance_id=instance.id,
                            project_id=instance.project_id, resp=out)
    # Only the tasks this opening created (none when the step was open already).
    out.notices_published = notice_outbox.publish(session, notice, project_id=instance.project_id,
                                                  step_name=opened.step.name, tasks=opened.transition.new_tasks) > 0
    return out


def _open_next(session: Session, decided: domain.Decided,
               req: pb.OpenStepRequest) -> pb.OpenStepResponse | None:
    """The next step opened in the decision's transaction, when the decision settled its step
    approved and ``req`` asks for the step right after it; None otherwise (the caller opens it
    later with OpenStep). Recorded under ``req.request_id`` as an OpenStep: that later call (or
    a retry) returns this opening."""
    after = decided.transition.approval
    nxt = after.step(req.step_index)
    if (not req.request_id.strip() or req.instance_id != after.instance.id or decided.outcome != domain.OUTCOME_APPROVED
            or req.step_index != decided.step.step_index + 1 or nxt is None):
        return None
    if nxt.status == domain.STEP_WAITING and domain.opening_refusal(after, req.step_index) is not None:
        return None  # OpenStep would refuse it: the decision stands, the caller's OpenStep answers
    stored = stored_response(session, M_OPEN_STEP, req.request_id)
    if stored is not None:
        return pb.OpenStepResponse.FromString(stored)
    return _open_as_request(session, after, req)


def _open_as_request(session: Session, loaded: domain.Approval,
                     req: pb.OpenStepRequest) -> pb.OpenStepResponse:
    """Open ``req``'s step inside another call's transaction and record it under ``req.request_id``
    as an OpenStep, so that a later OpenStep with that id (or a retry) returns this opening; its
    approval requests (``req.notice``) are published with it."""
    out = open_locked(session, loaded, req.step_index, report_scope=req.report_scope.strip(),
                      report_key=req.report_key, notice=req.notice if req.HasField("notice") else None)
    record_response(session, processed_request, method=M_OPEN_STEP, request_id=req.request_id, response=out)
    return out


def _asks_for(approval: domain.Approval, req: pb.OpenStepRequest, first: int) -> bool:
    """``req`` asks for step ``first`` of this instance (``req.instance_id`` empty — the caller
    cannot know the id before planning — or this instance's), under a request id, and the step can
    open: the instance is pending and has it (a chain without steps is approved at once)."""
    instance = approval.instance
    return bool(req.request_id.strip() and req.instance_id in ("", instance.id) and req.step_index == first
                and instance.status == domain.INSTANCE_PENDING and approval.step(first) is not None)


def open_first_step(session: Session, approval: domain.Approval, req: pb.OpenStepRequest,
                    first: int) -> pb.OpenStepResponse | None:
    """Step ``first`` of a chain just resumed (and persisted), opened in that call's transaction
    when ``req`` asks for it (``_asks_for``); None otherwise (the caller opens it later with
    OpenStep)."""
    if not _asks_for(approval, req, first):
        return None
    stored = stored_response(session, M_OPEN_STEP, req.request_id)
    if stored is not None:
        return pb.OpenStepResponse.FromString(stored)
    # As OpenStep would see it: the rows just written, locked (the call holds the instance's lock).
    row = aggregates.lock(session, approval.instance.id)
    return _open_as_request(session, aggregates.load(session, row), req)


# The first step of a chain being planned, opened before anything is written (``first_opening``):
# the domain's opening, or the answer recorded before under the OpenStep request id.
FirstOpening = domain.Opened | pb.OpenStepResponse


def first_opening(session: Session, planned: domain.Approval, req: pb.OpenStepRequest | None) -> FirstOpening | None:
    """The first step of a chain being planned, opened on the planned instance when ``req`` asks
    for it (``_asks_for`` step 0); None otherwise. ``planned`` is what loading the instance after
    writing it would give — no tasks, audit trail, carbon copies, delegations (of no task's
    approvers) or used links; only the steps' database ids, which no opening reads, are not known
    yet — so the opening is the one OpenStep would make, and ``save_planned`` writes the instance
    with it instead of writing, locking and loading it back, then persisting the opening. The
    answer recorded before under the OpenStep request id, if any, instead."""
    if req is None or not _asks_for(planned, req, 0):
        return None
    stored = stored_response(session, M_OPEN_STEP, req.request_id)
    if stored is not None:
        return pb.OpenStepResponse.FromString(stored)
    return domain.open_step(with_calendar(session, planned), 0, now_utc())


def answer_first(session: Session, opening: FirstOpening, req: pb.OpenStepRequest) -> pb.OpenStepResponse:
    """The answer of ``first_opening`` once ``save_planned`` wrote it: its events logged, its
    reporting event and approval requests published, recorded under ``req.request_id`` as an
    OpenStep (a later OpenStep with that id, or a retry, returns it)."""
    if isinstance(opening, pb.OpenStepResponse):
        return opening
    aggregates.log_events(opening.transition)
    out = _opening_answer(session, opening, report_scope=req.report_scope.strip(), report_key=req.report_key,
                          notice=req.notice if req.HasField("notice") else None)
    record_response(session, processed_request, method=M_OPEN_STEP, request_id=req.request_id, response=out)
    return out


def save_planned(session: Session, before: Sequence[domain.Approval], planned: domain.Planned,
                 open_first: pb.OpenStepRequest | None = None) -> FirstOpening | None:
    """Write the earlier submissions as the planning left them and the new instance; with its first
    step opened (``first_opening``, in the order OpenStep would come: after the earlier submissions
    were written) when ``open_first`` asks for it. That opening, for ``answer_first``."""
    for old, t in zip(before, planned.previous, strict=True):
        aggregates.persist(session, old, t)
    opening = first_opening(session, planned.approval, open_first)
    if isinstance(opening, domain.Opened):
        aggregates.insert_planned(session, planned.approval, opening.transition)
    else:
        aggregates.insert_instance(session, planned.approval)
    return opening


class InstanceStore:
    engine: Engine

    def plan_chain(
        self,
        *,
        request_id: str,
        facts: domain.ProjectFacts,
        submitter_id: str,
        policy: domain.Policy | None,
        steps: Sequence[domain.PlannedStep],
        inputs: dict[str, Any] | None = None,
        purpose: str = domain.PURPOSE_REGISTRATION,
        subject_id: str = "",
        open_first: pb.OpenStepRequest | None = None,
    ) -> pb.PlanChainResponse:
        def apply(session: Session) -> pb.PlanChainResponse:
            try:
                previous = project_instances(session, facts.project_id)
                planned = domain.plan_instance(previous, domain.PlanInput(facts, submitter_id, policy, steps, inputs,
                                                                purpose, subject_id),
                                               now_utc())
                opening = save_planned(session, previous, planned, open_first)
            except IntegrityError as err:
                # Another transaction planned this project first: a duplicate of this very
                # request gets that answer, anything else a retryable conflict.
                session.rollback()
                stored = stored_response(session, M_PLAN_CHAIN, request_id)
                if stored is not None:
                    return pb.PlanChainResponse.FromString(stored)
                raise Conflict("该项目正在被同时提交审批，请重试", "the project is being planned concurrently, retry",
                               code="conflict") from err
            instance = planned.approval.instance
            log.info("approval.planned", project_id=instance.project_id, instance_id=instance.id,
                     attempt=instance.attempt, policy_key=instance.policy_key,
                     policy_version=instance.policy_version, steps=len(steps))
            out = pb.PlanChainResponse(
                instance_id=instance.id,
                policy_key=instance.policy_key,
                policy_version=instance.policy_version,
                steps=[mapping.planned_step_to_proto(s) for s in steps],
            )
            if open_first is not None and opening is not None:
                out.first_opened.CopyFrom(answer_first(session, opening, open_first))
            return out

        return run_once(self.engine, processed_request, request_id=request_id, method=M_PLAN_CHAIN,
                        response_type=pb.PlanChainResponse, apply=apply)

    def open_step(self, *, request_id: str, instance_id: str, step_index: int, report_scope: str = "",
                  report_key: str = "", notice: pb.NoticeSpec | None = None) -> pb.OpenStepResponse:
        def apply(session: Session) -> pb.OpenStepResponse:
            row = aggregates.lock(session, instance_id)
            stored = stored_response(session, M_OPEN_STEP, request_id)
            if stored is not None:
                return pb.OpenStepResponse.FromString(stored)
            return open_locked(session, aggregates.load(session, row), step_index, report_scope=report_scope,
                               report_key=report_key, notice=notice)

        return run_once(self.engine, processed_request, request_id=request_id, method=M_OPEN_STEP,
                        response_type=pb.OpenStepResponse, apply=apply)

    def record_decision(
        self,
        *,
        request_id: str,
        task_id: str,
        actor_id: str,
        action: str,
        comment: str,
        channel: str,
        to_user_id: str = "",
        position: str = "",
        to_step: int | None = None,
        attachments: Sequence[dict[str, str]] = (),
        link_id: str = "",
        report_scope: str = "",
        report_key: str = "",
        open_next: pb.OpenStepRequest | None = None,
    ) -> pb.RecordDecisionResponse:
        inp = domain.DecisionInput(task_id=task_id, actor_id=actor_id, action=action, comment=comment,
                                   channel=channel, to_user_id=to_user_id, position=position, to_step=to_step,
                                   attachments=tuple(attachments), link_id=link_id.strip())

        def apply(session: Session) -> pb.RecordDecisionResponse:
            instance_id = aggregates.task_instance(session, task_id)
            if instance_id is None:
                raise domain.unknown_task(task_id)
            domain.check_action(action, inp.link_id)
            row = aggregates.lock(session, instance_id)
            stored = stored_response(session, M_RECORD_DECISION, request_id)
            if stored is not None:
                return pb.RecordDecisionResponse.FromString(stored)
            loaded = aggregates.load(session, row, links=[inp.link_id])
            decided = domain.decide(loaded, inp, now_utc())
            aggregates.persist(session, loaded, decided.transition)
            approval = decided.transition.approval
            out = pb.RecordDecisionResponse(
                task=mapping.task_to_proto(decided.task, purpose=_purpose(loaded)),
                step=step_response(approval, decided.step),
                step_outcome=decided.outcome,
                new_tasks=[mapping.task_to_proto(t, purpose=_purpose(loaded)) for t in decided.new_tasks],
                return_to=decided.return_to,
                on_behalf_of=decided.on_behalf_of,
                pending_approvers=decided.pending_approvers,
            )
            reporting_outbox.decided(session, scope=report_scope, key=report_key, instance_id=row.id,
                                     project_id=row.project_id, step_index=out.task.step_index,
                                     step=out.step.name or out.task.step_name, user_id=actor_id, action=action,
                                     channel=channel, on_behalf_of=out.on_behalf_of)
            if open_next is not None:
                opened = _open_next(session, decided, open_next)
                if opened is not None:
                    out.next_opened.CopyFrom(opened)
            return out

        return run_once(self.engine, processed_request, request_id=request_id, method=M_RECORD_DECISION,
                        response_type=pb.RecordDecisionResponse, apply=apply)

    def fire_timer(
        self, *, request_id: str, instance_id: str, step_index: int, timer_index: int, report_scope: str = "",
        report_key: str = "",
    ) -> pb.FireTimerResponse:
        def apply(session: Session) -> pb.FireTimerResponse:
            row = aggregates.lock(session, instance_id)
            stored = stored_response(session, M_FIRE_TIMER, request_id)
            if stored is not None:
                return pb.FireTimerResponse.FromString(stored)
            loaded = aggregates.load(session, row)
            fired = domain.fire_timer(loaded, step_index, timer_index, now_utc())
            aggregates.persist(session, loaded, fired.transition)
            approval = fired.transition.approval
            if not fired.fired:
                # A decision (or an earlier timer) settled the step first: nothing to do.
                return pb.FireTimerResponse(fired=False, action=fired.action, step_outcome=fired.outcome,
                                            step=step_response(approval, fired.step))
            out = pb.FireTimerResponse(
                fired=True,
                action=fired.action,
                step_outcome=fired.outcome,
                new_tasks=[mapping.task_to_proto(t, purpose=_purpose(loaded)) for t in fired.new_tasks],
                remind_user_ids=fired.remind_user_ids,
                step=step_response(approval, fired.step),
                pending_approvers=fired.pending_approvers,
            )
            reporting_outbox.timer_fired(session, scope=report_scope, key=report_key, instance_id=instance_id,
                                         project_id=row.project_id, step_index=step_index, resp=out)
            return out

        return run_once(self.engine, processed_request, request_id=request_id, method=M_FIRE_TIMER,
                        response_type=pb.FireTimerResponse, apply=apply)

    # ------------------------------------------------------------ reads

    def get_instance(self, *, project_id: str, purpose: str = "", subject_id: str = "") -> pb.Instance:
        """The latest instance of a project for one purpose (the registration's by default), or of
        one subject (an acceptance request)."""
        with Session(self.engine) as session:
            stmt = select(ApprovalInstance).where(
                ApprovalInstance.project_id == project_id, ApprovalInstance.purpose == domain.purpose_of(purpose)
            )
            if subject_id:
                stmt = stmt.where(ApprovalInstance.subject_id == subject_id)
            stmt = stmt.order_by(col(ApprovalInstance.attempt).desc()).limit(1)
            row = session.exec(stmt).first()
            if row is None:
                raise NotFound(f"项目尚无审批记录：{project_id}", f"no approval for project: {project_id}")
            return instance_proto(aggregates.load(session, row))

    def recent_submissions(self, *, form_key: str, limit: int) -> list[Submission]:
        """The latest instance of each of the last ``limit`` projects of a form that kept their
        planning inputs: (instance id, project id, inputs, [(step name, approvers)])."""
        stmt = (
            select(ApprovalInstance)
            .where(ApprovalInstance.form_key == form_key, col(ApprovalInstance.inputs).is_not(None),
                   ApprovalInstance.purpose == domain.PURPOSE_REGISTRATION)
            .order_by(col(ApprovalInstance.created_at).desc())
            .limit(limit * 3)
        )
        out: list[Submission] = []
        seen: set[str] = set()
        with Session(self.engine) as session:
            for row in session.exec(stmt).all():
                if row.project_id in seen or row.inputs is None:
                    continue
                seen.add(row.project_id)
                steps = [(s.name, _planned_approvers(s)) for s in aggregates.steps(session, row.id)]
                out.append((row.id, row.project_id, dict(row.inputs), steps))
                if len(out) >= limit:
                    break
        return out


def _planned_approvers(step: ApprovalStep) -> list[str]:
    """Approvers as planned (provenance keeps them; later transfers do not count as routing)."""
    prov = step.provenance or {}
    if prov and not (step.config or {}).get("blocked") and "planned" in prov:
        return list(prov["planned"])
    return list(step.approvers)
