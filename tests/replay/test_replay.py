"""Replay recorded histories (ProjectLifecycle, NotificationDelivery, CrmOpportunityLost,
OrgHandover, ProjectClosure, ProjectExecution, …) against the current workflow code: a change that
would break running workflows fails here (guard it with ``workflow.patched``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from workflows.acceptance import ProjectAcceptance
from workflows.change import ProjectChange
from workflows.closure import ProjectClosure
from workflows.crm import CrmOpportunityLost
from workflows.delivery import NotificationDelivery
from workflows.execution import ProjectExecution
from workflows.handover import OrgHandover
from workflows.lifecycle import ProjectLifecycle

HISTORIES = sorted((Path(__file__).parent / "histories").glob("*.json"))


def test_histories_are_recorded() -> None:
    assert {p.stem for p in HISTORIES} >= {
        "approve_three_steps",
        "reject_second_step",
        "no_policy",
        # approval engine (patch approval-engine-v2)
        "v2_timers_escalation_ladder",
        "v2_return_resubmit",
        "v2_transfer_add_approver",
        "v2_withdraw",
        # service calls as local activities (patch local-activities, issue 15)
        "local_return_resubmit",
        "local_timers_escalation_ladder",
        "local_transfer_add_approver",
        # independent side effects at once (patch concurrent-effects, issue 15)
        "concurrent_return_resubmit",
        "concurrent_transfer_add_approver",
        # delivery started by one local activity (patch delivery-start-activity, issue 15)
        "delivery_start_return_resubmit",
        # reporting events published by registry and approval (patch service-events, issue 15)
        "service_events_return_resubmit",
        "service_events_timers_escalation_ladder",
        "service_events_transfer_add_approver",
        "service_events_withdraw",
        # an approval opens the next step in its own call (patch open-next-in-decision, issue 15)
        "open_next_two_steps",
        "open_next_return_resubmit",
        # approval requests published by approval with the opening (patch notices-from-approval, issue 15)
        "notices_return_resubmit",
        "notices_timers_escalation_ladder",
        "notices_transfer_add_approver",
        "notices_open_next_two_steps",
        # planning the chain opens its first step (patch plan-opens-first, issue 15)
        "plan_first_two_steps",
        "plan_first_return_resubmit",
        "plan_first_withdraw",
        # the resubmission opens the step it resumes at (patch resume-opens-step, issue 15)
        "resume_first_return_resubmit",
        # notifications and integrations (issue 5)
        "delivery_retry_digest_dead",
        # bounded delivery (patch delivery-bounded, issue 15)
        "delivery_bounded",
        "crm_lost_pending",
        "handover_two_tasks",
        # closing: before reviews, and with a review (patch closure-review, issue 16)
        "closure_plain",
        "closure_review",
        # the departing user's registrations too (patch handover-projects, issue 16)
        "handover_projects",
        # acceptance (验收, issue 16): recorded by tests/workflows/test_acceptance.py with
        # BAOBEI_RECORD_HISTORIES=1
        "acceptance_rejected",
        "acceptance_accepted",
        # change requests (变更, issue 16): recorded by tests/workflows/test_change.py with
        # BAOBEI_RECORD_HISTORIES=1
        "change_approved",
        "change_rejected",
        "change_withdrawn",
        # acceptance and change after patch chain-fewer-calls (issue 15: the planning and an approval
        # open the steps, approval publishes the approval requests); recorded by the same tests
        "chain_fewer_acceptance_accepted",
        "chain_fewer_acceptance_rejected",
        "chain_fewer_change_approved",
        "chain_fewer_change_rejected",
        "chain_fewer_change_withdrawn",
        # ProjectExecution's start (issue 15): before and after the patches plan-start-in-one and
        # task-events-batch
        "execution_template_events",
        "execution_start_in_one",
        # every patch of a run in one marker (bundles lifecycle-bundle-1, execution-bundle-1, issue 15)
        "bundle_two_steps",
        "bundle_return_resubmit",
        "bundle_timers_escalation_ladder",
        "bundle_transfer_add_approver",
        "bundle_withdraw",
        "execution_bundle",
        # the approval's end in one local activity (patch finish-in-one, issue 15)
        "finish_in_one_return_resubmit",
    }


@pytest.mark.asyncio
@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_replay(path: Path) -> None:
    raw = path.read_text(encoding="utf-8")
    workflow_id = json.loads(raw)["events"][0]["workflowExecutionStartedEventAttributes"].get("workflowId", path.stem)
    history = WorkflowHistory.from_json(workflow_id, raw)
    # The SDK's default sandbox (strict: restricted stdlib, modules imported afresh), not the
    # worker's passthrough one (workflows/sandbox.py): the determinism check of the workflow code.
    await Replayer(
        workflows=[ProjectLifecycle, NotificationDelivery, CrmOpportunityLost, OrgHandover, ProjectClosure,
                   ProjectAcceptance, ProjectChange, ProjectExecution]
    ).replay_workflow(history)
