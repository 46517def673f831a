"""ProjectAcceptance (id ``accept-<project id>``): the approval chain of one acceptance (验收)
request, then its outcome.

    registry.GetProject ─► approval.PlanChain(purpose acceptance, subject = request, its policy)
      for each step: approval.OpenStep ─► notify.Send(approval_request, action links) to its
                     approvers ─► wait for the step's outcome (update ``decide``), firing the
                     step's SLA timers through approval.FireTimer (remind / escalate / timeout)
      approved ─► acceptance.SettleRequest(accepted) ─► ProjectClosure child (closes the project)
      rejected / returned ─► acceptance.SettleRequest(rejected, reasons) ─► notify the owner
                             (the project stays active; a new request may be opened later)

The update ``decide`` takes the same payloads as ProjectLifecycle's (the edge routes a task's
decision here when the task's instance has purpose ``acceptance``) and answers once the loop has
acted on the outcome (next step open, or the request settled and the project closed).

New runs (patch ``chain-fewer-calls``, asked at init): PlanChain opens step 0, an approval that
settles a step opens the next one (RecordDecision's open_next), and approval publishes the approval
requests of every opening (its notice outbox): OpenStep and the approval_request sends only where
the chain goes elsewhere (a return to an earlier step, the step after a skipped one or a timeout).

Determinism: no I/O, clocks or randomness; every side effect is a (local) activity whose request id
is derived from the workflow id, the request id and the step.
"""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError, ChildWorkflowError

with workflow.unsafe.imports_passed_through():
    from workflows.activities.acceptance import AcceptanceActivities
    from workflows.activities.approval import ApprovalActivities
    from workflows.activities.registry import RegistryActivities
    from workflows.chain_walk import PATCH_FEWER_CALLS, SYSTEM, ChainWalk, call, cause_of
    from workflows.contracts import search_attributes as sa
    from workflows.contracts.acceptance import (
        ACCEPTANCE_PURPOSE,
        ACCEPTANCE_WORKFLOW_TYPE,
        QUERY_STATE,
        UPDATE_DECIDE,
        AcceptanceInput,
        AcceptanceResult,
        AcceptanceState,
        SettleInput,
    )
    from workflows.contracts.approval import PlanChainInput
    from workflows.contracts.closure import CLOSURE_WORKFLOW_TYPE, ClosureInput, ClosureResult, closure_workflow_id
    from workflows.contracts.lifecycle import DecisionInput, DecisionResult
    from workflows.contracts.registry import GetProjectInput


def _amount(text: str) -> float:
    try:
        return float(text or 0)
    except ValueError:
        return 0.0


@workflow.defn(name=ACCEPTANCE_WORKFLOW_TYPE)
class ProjectAcceptance:
    @workflow.init
    def __init__(self, inp: AcceptanceInput) -> None:
        self._inp = inp
        self._key = f"{workflow.info().workflow_id}:{inp.acceptance_id}"
        # The chain keeps BaobeiApprovers / BaobeiSlaDeadline current for the ops console.
        # Asked here, once, before any other command (new runs: planning and approvals open the
        # steps, approval publishes the approval requests; workflows/chain_walk.py).
        self._chain = ChainWalk(key=self._key, project_id=inp.project_id, purpose=ACCEPTANCE_PURPOSE,
                                search_attributes=True, fewer_calls=workflow.patched(PATCH_FEWER_CALLS))
        self._stage = "approval"
        self._status = "active"

    # ---------------------------------------------------------------- main

    @workflow.run
    async def run(self, inp: AcceptanceInput) -> AcceptanceResult:
        chain = self._chain
        steps: list[str] = []
        chain.project = project = await call(RegistryActivities.get_project,
                                             GetProjectInput(project_id=inp.project_id))
        # The Temporal UI as ops console: BaobeiStage = "acceptance" lists acceptances under way.
        workflow.upsert_search_attributes([sa.STAGE.value_set("acceptance"),
                                           sa.AMOUNT.value_set(_amount(project.amount)),
                                           sa.REGION.value_set(project.region)])
        try:
            plan = await call(
                ApprovalActivities.plan_chain,
                PlanChainInput(request_id=f"{self._key}:plan", project=project, submitter_id=inp.actor_id,
                               purpose=ACCEPTANCE_PURPOSE, subject_id=inp.acceptance_id, policy_key=inp.policy_key,
                               open_first=chain.first_opening()),
            )
        except (ActivityError, ApplicationError) as err:
            # Refused for good (e.g. its policy was deleted meanwhile): the request must not stay
            # pending, or no other could be opened. (A local activity's failure may arrive as the
            # ApplicationError itself.)
            cause = cause_of(err)
            reason = cause.message if isinstance(cause, ApplicationError) else str(err)
            await self._settle("cancelled", SYSTEM, f"验收审批无法开始：{reason}")
            self._stage, chain.done = "cancelled", True
            workflow.upsert_search_attributes([sa.STAGE.value_set("acceptance_cancelled")])
            await workflow.wait_condition(workflow.all_handlers_finished)
            return AcceptanceResult(project_id=inp.project_id, acceptance_id=inp.acceptance_id, outcome="cancelled",
                                    status="active", reason=reason, steps=["plan_refused"])
        chain.planned(plan.instance_id, plan.steps, plan.first_opened)
        steps.append("plan")
        outcome = await chain.walk(plan.steps)
        steps.append("approval")
        chain.approvers = []
        workflow.upsert_search_attributes([
            sa.STAGE.value_set("acceptance_accepted" if outcome == "approved" else "acceptance_rejected"),
            sa.APPROVERS.value_unset(), sa.SLA_DEADLINE.value_unset()])
        reason = chain.comment
        if outcome == "approved":
            await self._settle("accepted", chain.decider or SYSTEM, reason)
            steps.append("accepted")
            self._stage = "accepted"
            closed = await self._close(inp)
            if closed:
                steps.append("closed")
        else:
            if not reason:
                reason = "验收未通过" if outcome == "rejected" else "验收被退回"
            await self._settle("rejected", chain.decider or SYSTEM, reason)
            steps.append("rejected")
            self._stage = "rejected"
            await chain.send("rejected", [project.owner_id, inp.actor_id], "acceptance_rejected", comment=reason)
            steps.append("notify_owner")
        chain.finish()
        await workflow.wait_condition(workflow.all_handlers_finished)
        return AcceptanceResult(project_id=inp.project_id, acceptance_id=inp.acceptance_id,
                                outcome="accepted" if outcome == "approved" else "rejected",
                                status=self._status, reason="" if outcome == "approved" else reason, steps=steps)

    async def _settle(self, status: str, actor_id: str, reason: str) -> None:
        await call(AcceptanceActivities.settle, SettleInput(
            request_id=f"{self._key}:settle:{status}", acceptance_id=self._inp.acceptance_id, status=status,
            actor_id=actor_id, reason=reason))

    async def _close(self, inp: AcceptanceInput) -> bool:
        """Accepted: the existing closure closes the project (child workflow ``close-<id>``)."""
        comment = self._chain.comment
        try:
            result: ClosureResult = await workflow.execute_child_workflow(
                CLOSURE_WORKFLOW_TYPE,
                ClosureInput(project_id=inp.project_id, actor_id=self._chain.decider or inp.actor_id,
                             comment=f"验收通过：{comment}" if comment else "验收通过",
                             channel="acceptance"),
                id=closure_workflow_id(inp.project_id), result_type=ClosureResult,
            )
        except ChildWorkflowError as err:
            workflow.logger.warning("acceptance accepted but the closure failed: %s", err.cause or err)
            return False
        self._status = result.status or "closed"
        return self._status == "closed"

    # ---------------------------------------------------------------- decide

    @workflow.update(name=UPDATE_DECIDE)
    async def decide(self, inp: DecisionInput) -> DecisionResult:
        # Answers once the loop has acted on the outcome (next step open, or settled and closed).
        await self._chain.decide(inp)
        return DecisionResult(project_id=self._inp.project_id, status=self._status)

    @decide.validator
    def _validate_decide(self, inp: DecisionInput) -> None:
        self._chain.validate_decide(inp, "验收审批已结束", "the acceptance approval is over")

    @workflow.query(name=QUERY_STATE)
    def state(self) -> AcceptanceState:
        chain = self._chain
        return AcceptanceState(project_id=self._inp.project_id, acceptance_id=self._inp.acceptance_id,
                               stage=self._stage, instance_id=chain.instance_id, step_index=chain.step_index,
                               approvers=list(chain.approvers))
