"""ProjectExecution: one workflow per active project (id ``execution-<project_id>``), started by
ProjectLifecycle when the project becomes active (and by the edge with signal-with-start when a
plan changes and none runs yet).

On start it applies the business line's plan template and saves the approval baseline. Then it
loops: ask the tasks service which rule fires are due at workflow time and which task events are
new (``tasks.EvaluateRules``), report the events (``task.created`` / ``task.updated`` /
``cost.recorded``), act on each fire (notify, recorded once by key), then sleep on a durable
timer until the next fire time — or until the signal ``tasks_changed`` says the plan changed.
No polling: with no pending timer and no signal the workflow waits idle.

Each turn also reads the project's protection period from the registry (``registry.ProtectionInfo``)
so ``protection_expiring`` rules get a timer at ``until - before``; a follow-up that moves the end is
seen when that timer wakes the loop (the fire key carries the end, so each end fires once). A fire
with webhook actions is POSTed by ``webhook.Deliver`` (signed, retried, ``webhook-id`` = fire key).

Determinism: the only clock is ``workflow.now()``; notification and reporting ids derive from the
fire key and the event sequence, so retries and replays change nothing twice. Long histories
continue-as-new carrying the event cursor.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from workflows.activities.notify import NotifyActivities
    from workflows.activities.reporting import ReportingActivities
    from workflows.activities.tasks import ProtectionInfoActivities, RecipientActivities, TasksActivities
    from workflows.activities.webhooks import WebhookActivities
    from workflows.calls import PATCH_LOCAL_ACTIVITIES, ActivityCalls
    from workflows.contracts.execution import (
        EXECUTION_QUERY_STATE,
        EXECUTION_SIGNAL_CHANGED,
        EXECUTION_SIGNAL_STOP,
        EXECUTION_WORKFLOW_TYPE,
        ExecutionInput,
        ExecutionState,
        TasksChanged,
    )
    from workflows.contracts.notify import SendInput
    from workflows.contracts.policies import ACTIVITY_TIMEOUT, BACKGROUND_RETRY, WEBHOOK_RETRY
    from workflows.contracts.reporting import ReportEventInput, ReportEventsInput
    from workflows.contracts.tasks import (
        ApplyTemplateInput,
        EvaluateRulesWithProtection,
        ProtectionInfo,
        ProtectionInfoInput,
        ResolveRecipientsInput,
        RuleEvaluation,
        RuleFireInfo,
        SaveBaselineInput,
        StartPlanInput,
        TaskEventInfo,
    )
    from workflows.contracts.webhooks import WebhookDeliveryInput
    from workflows.patch_bundle import PatchBundle

A = TypeVar("A")
T = TypeVar("T")
# While the registry shows the project as the protection holder but the period has not started yet
# (the protection workflow starts beside this one), look again after this long.
PROTECTION_RECHECK = timedelta(minutes=1)
APPROVAL_BASELINE = "审批基线"
# Continue-as-new after this many loop turns (each turn is a handful of events).
MAX_TURNS = 200
# Issue 15: the template and the first rules turn in one local activity when started knowing the
# protection period; a page of task events reported in one call.
PATCH_PLAN_START = "plan-start-in-one"
PATCH_EVENTS_BATCH = "task-events-batch"
# All of the run's patches in one marker for runs that start under it (workflows/patch_bundle.py).
PATCH_BUNDLE = "execution-bundle-1"
BUNDLED_PATCHES = ("template-with-baseline", PATCH_PLAN_START, "protection-expiring", PATCH_EVENTS_BATCH,
                   PATCH_LOCAL_ACTIVITIES)
EVENT_PAGE = 200


@workflow.defn(name=EXECUTION_WORKFLOW_TYPE)
class ProjectExecution:
    @workflow.init
    def __init__(self, inp: ExecutionInput) -> None:
        # First: the bundle's marker is the run's first command (workflows/patch_bundle.py).
        self._patched = PatchBundle(PATCH_BUNDLE, BUNDLED_PATCHES).patched
        self._inp = inp
        self._cursor = inp.cursor
        self._changed = False
        self._stopped = False
        self._next_wake = ""
        self._fires = 0
        self._activity = ActivityCalls(self._patched)

    @workflow.run
    async def run(self, inp: ExecutionInput) -> ExecutionState:
        wid = workflow.info().workflow_id
        first: RuleEvaluation | None = None
        if inp.apply_template:
            # One call saves the approval baseline with the plan (issue 15); older runs made two.
            together = self._patched("template-with-baseline")
            apply = ApplyTemplateInput(
                request_id=f"{wid}:template",
                project_id=inp.project_id,
                business_line=inp.business_line,
                start=inp.start or self._today(),
                owner_id=inp.owner_id,
                baseline_name=APPROVAL_BASELINE if together else "",
            )
            if together and inp.protection is not None and self._patched(PATCH_PLAN_START):
                # Started knowing the protection period: the first turn's evaluation needs no read
                # and rides with the template in one local activity.
                started = await self._act(
                    TasksActivities.start_plan,
                    StartPlanInput(apply=apply, evaluate=self._evaluate_input(inp.protection)),
                )
                applied, first = started.applied, started.evaluation
            else:
                applied = await self._act(TasksActivities.apply_template, apply)
            workflow.logger.info("plan template applied: %d task(s), baseline %d", applied.created,
                                 applied.baseline_number)
            if not together:
                await self._act(
                    TasksActivities.save_baseline,
                    SaveBaselineInput(
                        request_id=f"{wid}:baseline:approval", project_id=inp.project_id, name=APPROVAL_BASELINE
                    ),
                )
        given = inp.protection
        for _turn in range(MAX_TURNS):
            self._changed = False
            protection = ProtectionInfo()
            if first is not None:
                # The first turn was evaluated with the template (given protection, cursor 0).
                assert given is not None
                protection, given, evaluation, first = given, None, first, None
            else:
                if self._patched("protection-expiring"):
                    if given is not None:
                        protection, given = given, None  # read by the starter: the first turn needs no read
                    else:
                        protection = await self._act(
                            ProtectionInfoActivities.protection_info, ProtectionInfoInput(project_id=inp.project_id)
                        )
                evaluation = await self._act(TasksActivities.evaluate_rules, self._evaluate_input(protection))
            if evaluation.events and self._patched(PATCH_EVENTS_BATCH):
                # The page in one call, not one local activity per event.
                await self._act(ReportingActivities.ingest_events,
                                ReportEventsInput(events=[self._event_input(e) for e in evaluation.events]))
            else:
                for event in evaluation.events:
                    await self._report(event)
            self._cursor = max(self._cursor, evaluation.last_seq)
            for fire in evaluation.fires:
                await self._fire(fire)
            if len(evaluation.events) >= EVENT_PAGE:
                continue  # more events waiting: read the next page at once
            self._next_wake = evaluation.next_wake
            if self._stopped:
                break
            timeout = None
            if evaluation.next_wake:
                timeout = max(datetime.fromisoformat(evaluation.next_wake) - workflow.now(), timedelta(seconds=1))
            if protection.state == "holder" and (timeout is None or timeout > PROTECTION_RECHECK):
                timeout = PROTECTION_RECHECK  # the period is about to start: read its end soon
            # A timeout means a rule timer is due: the next evaluation fires it.
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(lambda: self._changed or self._stopped, timeout=timeout)
            if self._stopped and not self._changed:
                break
        else:
            await workflow.wait_condition(workflow.all_handlers_finished)
            workflow.continue_as_new(
                ExecutionInput(
                    project_id=inp.project_id,
                    owner_id=inp.owner_id,
                    name=inp.name,
                    business_line=inp.business_line,
                    amount=inp.amount,
                    apply_template=False,
                    cursor=self._cursor,
                )
            )
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.state()

    async def _report(self, event: TaskEventInfo) -> None:
        await self._act(ReportingActivities.ingest_event, self._event_input(event))

    def _event_input(self, event: TaskEventInfo) -> ReportEventInput:
        return ReportEventInput(
            event_id=f"{self._inp.project_id}:task-event:{event.seq}",
            type=event.kind,
            project_id=self._inp.project_id,
            at=event.at or workflow.now().isoformat(),
            payload=event.payload,
        )

    def _evaluate_input(self, protection: ProtectionInfo) -> EvaluateRulesWithProtection:
        inp = self._inp
        return EvaluateRulesWithProtection(
            project_id=inp.project_id,
            now=workflow.now().isoformat(),
            after_seq=self._cursor,
            owner_id=inp.owner_id,
            project_name=inp.name,
            business_line=inp.business_line,
            amount=inp.amount,
            protection_until=protection.until if protection.state == "protected" else "",
        )

    async def _fire(self, fire: RuleFireInfo) -> None:
        wid = workflow.info().workflow_id
        recipients = list(fire.user_ids)
        if fire.roles or fire.escalate:
            resolved = await self._act(
                RecipientActivities.resolve,
                ResolveRecipientsInput(user_ids=fire.user_ids, roles=fire.roles, escalate=fire.escalate),
            )
            recipients = resolved.user_ids
        if recipients:
            await self._act(
                NotifyActivities.send,
                SendInput(
                    request_id=f"{wid}:fire:{fire.key}",
                    recipient_ids=recipients,
                    kind=f"rule.{fire.rule_key}",
                    title=fire.title,
                    body=fire.body,
                    project_id=self._inp.project_id,
                ),
            )
        fire.fired_at = workflow.now().isoformat()
        for url in dict.fromkeys(fire.webhooks):
            await self._webhook(fire, url, recipients)
        fire.user_ids = recipients
        await self._act(TasksActivities.record_fire, fire)
        self._fires += 1
        workflow.logger.info("rule %s fired (%s) → %s", fire.rule_key, fire.key, recipients)

    async def _webhook(self, fire: RuleFireInfo, url: str, recipients: list[str]) -> None:
        data = {
            "project_id": self._inp.project_id,
            "project_name": self._inp.name,
            "task_id": fire.task_id,
            "title": fire.title,
            "body": fire.body,
            "recipients": recipients,
            "fired_at": fire.fired_at,
        }
        try:
            result = await workflow.execute_activity_method(
                WebhookActivities.deliver,
                WebhookDeliveryInput(
                    fire_key=fire.key, rule_key=fire.rule_key, url=url, project_id=self._inp.project_id, data=data
                ),
                start_to_close_timeout=ACTIVITY_TIMEOUT,
                retry_policy=WEBHOOK_RETRY,
            )
            workflow.logger.info("webhook %s for %s → %s (attempt %d)", url, fire.key, result.status, result.attempt)
        except ActivityError as err:  # e.g. the rule lost its secret: notify has the delivery log
            workflow.logger.warning("webhook %s for %s not queued: %s", url, fire.key, err.cause or err)

    def _today(self) -> str:
        return (workflow.now() + timedelta(hours=8)).date().isoformat()  # Asia/Shanghai

    async def _act(self, fn: Callable[[Any, A], Awaitable[T]], arg: A) -> T:
        return await self._activity(fn, arg, timeout=ACTIVITY_TIMEOUT, retry=BACKGROUND_RETRY)

    @workflow.signal(name=EXECUTION_SIGNAL_CHANGED)
    def tasks_changed(self, inp: TasksChanged) -> None:
        self._changed = True

    @workflow.signal(name=EXECUTION_SIGNAL_STOP)
    def stop(self) -> None:
        self._stopped = True

    @workflow.query(name=EXECUTION_QUERY_STATE)
    def state(self) -> ExecutionState:
        return ExecutionState(
            project_id=self._inp.project_id,
            cursor=self._cursor,
            next_wake=self._next_wake,
            fires=self._fires,
            stopped=self._stopped,
        )
