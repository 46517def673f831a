"""ProjectChange (id ``change-<change id>``): the approval chain of one change request (变更) of an
active project, then its outcome.

    registry.GetProject ─► the project as it would be after the change (amount, dates, fields)
      ─► approval.PlanChain(purpose change, subject = the change, the form's policy on those facts:
         a raise past a policy branch brings in that branch's approvers)
      for each step: approval.OpenStep ─► notify.Send(approval_request, action links) to its
                     approvers ─► wait for the step's outcome (update ``decide``), firing the
                     step's SLA timers through approval.FireTimer (remind / escalate / timeout)
      approved ─► change.SettleChange(approved): the registry applies it in one transaction
                  (history ``changed`` with the diff, audit) ─► reporting ``project.edited``
                  ─► tasks.SaveBaseline when the change asked to re-set the baseline
                  ─► the owner is told (change_approved)
      rejected / returned ─► change.SettleChange(rejected, reason): nothing applied ─► the owner
                             is told the reason (change_rejected)
      update ``withdraw`` (owner, while pending) ─► approval.CancelInstance ─► SettleChange(withdrawn)

The update ``decide`` takes the same payloads as ProjectLifecycle's (the edge routes a task's
decision here when the task's instance has purpose ``change``: workflow id from its subject).

New runs (patch ``chain-fewer-calls``, asked at init): PlanChain opens step 0, an approval that
settles a step opens the next one (RecordDecision's open_next), and approval publishes the approval
requests of every opening (its notice outbox): OpenStep and the approval_request sends only where
the chain goes elsewhere (a return to an earlier step, the step after a skipped one or a timeout).

Determinism: no I/O, clocks or randomness; every side effect is a (local) activity whose request id
is derived from the workflow id, the change id and the step.
"""

from __future__ import annotations

import dataclasses

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from workflows.activities.approval import ApprovalActivities
    from workflows.activities.change import ChangeActivities
    from workflows.activities.registry import RegistryActivities
    from workflows.activities.reporting import ReportingActivities
    from workflows.activities.tasks import TasksActivities
    from workflows.chain_walk import PATCH_FEWER_CALLS, SYSTEM, ChainWalk, call, cause_of, text
    from workflows.contracts.approval import PlanChainInput
    from workflows.contracts.change import (
        CHANGE_PURPOSE,
        CHANGE_WORKFLOW_TYPE,
        QUERY_STATE,
        UPDATE_DECIDE,
        UPDATE_WITHDRAW,
        ChangeInput,
        ChangeResult,
        ChangeState,
        SettleChangeInput,
        WithdrawChangeInput,
        WithdrawChangeResult,
    )
    from workflows.contracts.errors import ERR_CONFLICT, ERR_FORBIDDEN, ERR_VALIDATION
    from workflows.contracts.lifecycle import DecisionInput, DecisionResult
    from workflows.contracts.registry import GetProjectInput, ProjectSnapshot
    from workflows.contracts.reporting import ReportEventInput
    from workflows.contracts.tasks import SaveBaselineInput


def changed_facts(project: ProjectSnapshot, inp: ChangeInput) -> ProjectSnapshot:
    """The project as it would be after the change: what the form's policy decides on."""
    fields = dict(project.fields)
    for key, value in inp.fields.items():
        if value is None:
            fields.pop(key, None)
        else:
            fields[key] = value
    return dataclasses.replace(
        project, amount=inp.amount or project.amount,
        start_date=project.start_date if inp.start_date is None else inp.start_date, fields=fields,
    )


@workflow.defn(name=CHANGE_WORKFLOW_TYPE)
class ProjectChange:
    @workflow.init
    def __init__(self, inp: ChangeInput) -> None:
        self._inp = inp
        self._key = f"{workflow.info().workflow_id}:{inp.change_id}"
        # No search attributes (never upserted by this workflow type: they would be new commands).
        # Asked here, once, before any other command (new runs: planning and approvals open the
        # steps, approval publishes the approval requests; workflows/chain_walk.py).
        self._chain = ChainWalk(key=self._key, project_id=inp.project_id, purpose=CHANGE_PURPOSE,
                                context_extra={"change_id": inp.change_id},
                                fewer_calls=workflow.patched(PATCH_FEWER_CALLS))
        self._stage = "approval"

    # ---------------------------------------------------------------- main

    @workflow.run
    async def run(self, inp: ChangeInput) -> ChangeResult:
        chain = self._chain
        steps: list[str] = []
        chain.project = await call(RegistryActivities.get_project, GetProjectInput(project_id=inp.project_id))
        plan = await call(
            ApprovalActivities.plan_chain,
            PlanChainInput(request_id=f"{self._key}:plan", project=changed_facts(chain.project, inp),
                           submitter_id=inp.actor_id, purpose=CHANGE_PURPOSE, subject_id=inp.change_id,
                           open_first=chain.first_opening()),
        )
        chain.planned(plan.instance_id, plan.steps, plan.first_opened)
        steps.append("plan")
        outcome = await chain.walk(plan.steps)
        if outcome == "withdrawn":
            # The withdraw update cancelled the chain and settled the request.
            await workflow.wait_condition(lambda: chain.done)
            await workflow.wait_condition(workflow.all_handlers_finished)
            return ChangeResult(project_id=inp.project_id, change_id=inp.change_id, outcome="withdrawn",
                                reason=chain.comment, steps=[*steps, "withdrawn"])
        steps.append("approval")
        reason = chain.comment
        told = [chain.project.owner_id, inp.actor_id]
        if outcome == "approved":
            refused = await self._apply(reason)
            if refused:
                # The project moved on meanwhile (closed, or a value no longer valid): the change is
                # cancelled with the registry's reason, nothing applied, the owner told.
                steps += ["cancelled", "notify_owner"]
                self._stage = "cancelled"
                await chain.send("cancelled", told, "change_rejected", comment=refused)
                chain.finish()
                await workflow.wait_condition(workflow.all_handlers_finished)
                return ChangeResult(project_id=inp.project_id, change_id=inp.change_id, outcome="cancelled",
                                    reason=refused, steps=steps)
            steps.append("applied")
            self._stage = "approved"
            chain.project = await call(RegistryActivities.get_project, GetProjectInput(project_id=inp.project_id))
            await call(ReportingActivities.ingest_event, ReportEventInput(
                event_id=f"{self._key}:project.edited", type="project.edited", project_id=inp.project_id,
                at=workflow.now().isoformat(), actor_id=chain.decider or SYSTEM, project=chain.project))
            steps.append("reported")
            if inp.reset_baseline:
                await call(TasksActivities.save_baseline, SaveBaselineInput(
                    request_id=f"{self._key}:baseline", project_id=inp.project_id, name=f"变更 {inp.change_id[:8]}"))
                steps.append("baseline")
            await chain.send("approved", [chain.project.owner_id, inp.actor_id], "change_approved", comment=reason)
            steps.append("notify_owner")
        else:
            if not reason:
                reason = "变更未通过审批" if outcome == "rejected" else "变更被退回"
            await self._settle("rejected", chain.decider or SYSTEM, reason)
            steps.append("rejected")
            self._stage = "rejected"
            await chain.send("rejected", told, "change_rejected", comment=reason)
            steps.append("notify_owner")
        chain.finish()
        await workflow.wait_condition(workflow.all_handlers_finished)
        return ChangeResult(project_id=inp.project_id, change_id=inp.change_id,
                            outcome="approved" if outcome == "approved" else "rejected",
                            reason="" if outcome == "approved" else reason, steps=steps)

    async def _settle(self, status: str, actor_id: str, reason: str, *, caller: bool = False) -> None:
        await call(ChangeActivities.settle, SettleChangeInput(
            request_id=f"{self._key}:settle:{status}", change_id=self._inp.change_id, status=status,
            actor_id=actor_id, reason=reason), caller=caller)

    async def _apply(self, reason: str) -> str:
        """Settle the approved change (the registry applies it); the registry's refusal, if any."""
        try:
            await self._settle("approved", self._chain.decider or SYSTEM, reason)
        except (ActivityError, ApplicationError) as err:
            # The worker's interceptor may hand over the activity's ApplicationError itself.
            cause = cause_of(err)
            if not (isinstance(cause, ApplicationError) and cause.type in (ERR_CONFLICT, ERR_VALIDATION)):
                raise
            refused = f"变更未能生效：{cause.message}"
            await self._settle("cancelled", SYSTEM, refused)
            return refused
        return ""

    # ---------------------------------------------------------------- decide

    @workflow.update(name=UPDATE_DECIDE)
    async def decide(self, inp: DecisionInput) -> DecisionResult:
        # Answers once the loop has acted on the outcome (next step open, or settled).
        await self._chain.decide(inp)
        # A change leaves the project active whatever its outcome.
        return DecisionResult(project_id=self._inp.project_id, status=self._chain.project.status or "active")

    @decide.validator
    def _validate_decide(self, inp: DecisionInput) -> None:
        self._chain.validate_decide(inp, "变更审批已结束", "the change approval is over")

    # ---------------------------------------------------------------- withdraw

    @workflow.update(name=UPDATE_WITHDRAW)
    async def withdraw(self, inp: WithdrawChangeInput) -> WithdrawChangeResult:
        """The proposer withdraws the pending change (the edge checks who may): the chain is
        cancelled, the request settled as withdrawn, nothing applied; the approvers are told."""
        owner_id = self._chain.project.owner_id
        if inp.actor_id != self._inp.actor_id and inp.actor_id != owner_id and not inp.actor_is_admin:
            raise ApplicationError(text(inp.locale, "只有发起人可以撤回变更", "only the proposer may withdraw"),
                                   [], type=ERR_FORBIDDEN, non_retryable=True)

        async def settle() -> None:
            await self._settle("withdrawn", inp.actor_id, inp.reason, caller=True)
            self._stage = "withdrawn"

        await self._chain.withdraw(actor_id=inp.actor_id, reason=inp.reason, locale=inp.locale, settle=settle)
        return WithdrawChangeResult(change_id=self._inp.change_id, status="withdrawn")

    @withdraw.validator
    def _validate_withdraw(self, inp: WithdrawChangeInput) -> None:
        chain = self._chain
        if chain.done or chain.withdrawn or chain.withdrawing or self._stage != "approval":
            message = text(inp.locale, "变更申请已处理，不能撤回", "the change request is already settled")
            raise ApplicationError(message, [], type=ERR_CONFLICT, non_retryable=True)

    @workflow.query(name=QUERY_STATE)
    def state(self) -> ChangeState:
        chain = self._chain
        return ChangeState(project_id=self._inp.project_id, change_id=self._inp.change_id,
                           stage=self._stage, instance_id=chain.instance_id, step_index=chain.step_index,
                           approvers=list(chain.approvers))
