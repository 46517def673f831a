"""Resubmission after a return, withdrawal / cancellation, reassignment and the audit-only actions
(remind, comment, cc): lock, load, let the domain transition, persist, in one ``run_once``
transaction each."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from baobei.approval.v1 import approval_service_pb2 as pb
from baobei.core.db import run_once
from services.approval import domain, mapping, reporting_outbox
from services.approval.models import ApprovalInstance, processed_request
from services.approval.store import aggregates
from services.approval.store.common import M_ACTION, M_CANCEL, M_REASSIGN, M_RESUME, now_utc, stored_response
from services.approval.store.instances import (
    answer_first,
    instance_proto,
    open_first_step,
    project_instances,
    save_planned,
    step_response,
)


@dataclass(frozen=True)
class ReturnedChain:
    """A returned approval: the form, submitter and inputs it was planned from, and its chain
    as planned ([(step name, approvers)])."""

    form_key: str
    submitter_id: str
    inputs: dict[str, Any]
    chain: list[tuple[str, tuple[str, ...]]]


@dataclass(frozen=True)
class Replan:
    """A resubmission whose routing facts changed: the chain planned now, and why."""

    policy: domain.Policy
    steps: list[domain.PlannedStep]
    inputs: dict[str, Any]
    reason: str


class LifecycleStore:
    engine: Engine

    def returned_chain(self, *, instance_id: str) -> ReturnedChain | None:
        """What a returned approval was planned from and the chain it got; None when the
        instance is not (or no longer) returned."""
        with Session(self.engine) as session:
            row = session.get(ApprovalInstance, instance_id)
            if row is None or row.status != domain.INSTANCE_RETURNED:
                return None
            chain = [(s.name, tuple((s.provenance or {}).get("planned", s.approvers)))
                     for s in aggregates.steps(session, instance_id)]
            return ReturnedChain(form_key=row.form_key, submitter_id=row.submitter_id,
                                 inputs=dict(row.inputs or {}), chain=chain)

    def resume_instance(
        self,
        *,
        request_id: str,
        instance_id: str,
        facts: domain.ProjectFacts,
        actor_id: str,
        replan: Replan | None = None,
        open_first: pb.OpenStepRequest | None = None,
    ) -> pb.ResumeInstanceResponse:
        """Resume a returned approval at the returning step, or, with ``replan`` (the routing facts
        changed), supersede it by a new chain that starts from its first step. ``open_first``: open
        the step it continues at in the same transaction, when it is the one asked for."""

        def opening(session: Session, out: pb.ResumeInstanceResponse,
                    approval: domain.Approval) -> pb.ResumeInstanceResponse:
            if open_first is not None:
                opened = open_first_step(session, approval, open_first, out.resume_from)
                if opened is not None:
                    out.first_opened.CopyFrom(opened)
            return out

        def apply(session: Session) -> pb.ResumeInstanceResponse:
            row = aggregates.lock(session, instance_id)
            stored = stored_response(session, M_RESUME, request_id)
            if stored is not None:
                return pb.ResumeInstanceResponse.FromString(stored)
            now = now_utc()
            if replan is not None and row.status == domain.INSTANCE_RETURNED:
                previous = project_instances(session, row.project_id)
                planned = domain.replan(previous, instance_id,
                                        domain.PlanInput(facts, row.submitter_id, replan.policy, replan.steps,
                                                         replan.inputs),
                                        replan.reason, actor_id, now)
                first = save_planned(session, previous, planned, open_first)
                new = planned.approval.instance
                aggregates.log.info("approval.replanned", project_id=row.project_id, instance_id=new.id,
                                    previous=instance_id, reason=replan.reason, steps=len(replan.steps))
                out = pb.ResumeInstanceResponse(instance_id=new.id, resume_from=0, replanned=replan.reason,
                                                steps=[mapping.planned_step_to_proto(s) for s in replan.steps])
                if open_first is not None and first is not None:
                    out.first_opened.CopyFrom(answer_first(session, first, open_first))
                return out
            loaded = aggregates.load(session, row)
            resumed = domain.resume(loaded, facts, actor_id, now)
            aggregates.persist(session, loaded, resumed.transition)
            return opening(session, pb.ResumeInstanceResponse(
                instance_id=instance_id,
                resume_from=resumed.resume_from,
                steps=[mapping.stored_step_to_planned(s) for s in resumed.transition.approval.steps],
            ), resumed.transition.approval)

        return run_once(self.engine, processed_request, request_id=request_id, method=M_RESUME,
                        response_type=pb.ResumeInstanceResponse, apply=apply)

    def cancel_instance(
        self, *, request_id: str, instance_id: str, actor_id: str, action: str, comment: str, channel: str
    ) -> pb.CancelInstanceResponse:
        def apply(session: Session) -> pb.CancelInstanceResponse:
            row = aggregates.lock(session, instance_id)
            stored = stored_response(session, M_CANCEL, request_id)
            if stored is not None:
                return pb.CancelInstanceResponse.FromString(stored)
            loaded = aggregates.load(session, row)
            t = domain.cancel(loaded, actor_id, action, comment, channel, now_utc())
            aggregates.persist(session, loaded, t)
            return pb.CancelInstanceResponse(instance=instance_proto(t.approval))

        return run_once(self.engine, processed_request, request_id=request_id, method=M_CANCEL,
                        response_type=pb.CancelInstanceResponse, apply=apply)

    def reassign_step(
        self,
        *,
        request_id: str,
        instance_id: str,
        step_index: int,
        from_user_id: str,
        to_user_id: str,
        actor_id: str,
        comment: str,
        report_scope: str = "",
        report_key: str = "",
    ) -> pb.ReassignStepResponse:
        def apply(session: Session) -> pb.ReassignStepResponse:
            row = aggregates.lock(session, instance_id)
            stored = stored_response(session, M_REASSIGN, request_id)
            if stored is not None:
                return pb.ReassignStepResponse.FromString(stored)
            loaded = aggregates.load(session, row)
            done = domain.reassign(loaded, step_index, from_user_id, to_user_id, actor_id, comment, now_utc())
            aggregates.persist(session, loaded, done.transition)
            out = pb.ReassignStepResponse(new_tasks=[mapping.task_to_proto(t) for t in done.new_tasks],
                                          step=step_response(done.transition.approval, done.step),
                                          pending_approvers=done.pending_approvers)
            reporting_outbox.decided(session, scope=report_scope, key=report_key, instance_id=instance_id,
                                     project_id=row.project_id, step_index=step_index, step=out.step.name,
                                     user_id=actor_id, action="reassign", channel="api")
            return out

        return run_once(self.engine, processed_request, request_id=request_id, method=M_REASSIGN,
                        response_type=pb.ReassignStepResponse, apply=apply)

    def record_action(
        self,
        *,
        request_id: str,
        instance_id: str,
        step_index: int,
        actor_id: str,
        action: str,
        comment: str,
        channel: str,
        user_ids: Sequence[str] = (),
        attachments: Sequence[dict[str, str]] = (),
    ) -> pb.RecordActionResponse:
        def apply(session: Session) -> pb.RecordActionResponse:
            row = aggregates.lock(session, instance_id)
            stored = stored_response(session, M_ACTION, request_id)
            if stored is not None:
                return pb.RecordActionResponse.FromString(stored)
            loaded = aggregates.load(session, row)
            acted = domain.record_action(loaded, step_index, actor_id, action, comment, channel, now_utc(),
                                         user_ids=user_ids, attachments=attachments)
            aggregates.persist(session, loaded, acted.transition)
            return pb.RecordActionResponse(action=mapping.decision_to_proto(acted.action),
                                           cc=[mapping.cc_to_proto(c) for c in acted.cc], step_index=acted.step_index)

        return run_once(self.engine, processed_request, request_id=request_id, method=M_ACTION,
                        response_type=pb.RecordActionResponse, apply=apply)
