"""Activities calling the tasks service, plus resolving rule recipients (roles, manager chains)
and reading a project's protection period through the registry."""

from __future__ import annotations

from datetime import UTC, datetime

from google.protobuf import json_format
from temporalio import activity
from temporalio.exceptions import ApplicationError

from baobei.registry.v1 import registry_service_pb2 as registry_pb
from baobei.registry.v1.registry_service_pb2_grpc import RegistryServiceStub
from baobei.tasks.v1 import tasks_service_pb2 as pb
from baobei.tasks.v1.tasks_service_pb2_grpc import TasksServiceStub
from workflows.activities._log import activity_logger
from workflows.activities.errors import call
from workflows.contracts.errors import ERR_NOT_FOUND
from workflows.contracts.tasks import (
    REGISTRY_PROTECTION_INFO,
    REGISTRY_RESOLVE_RECIPIENTS,
    TASKS_APPLY_TEMPLATE,
    TASKS_EVALUATE_RULES,
    TASKS_RECORD_FIRE,
    TASKS_SAVE_BASELINE,
    TASKS_START_PLAN,
    ApplyTemplateInput,
    ApplyTemplateResult,
    EvaluateRulesWithProtection,
    ProtectionInfo,
    ProtectionInfoInput,
    RecordFireResult,
    ResolveRecipientsInput,
    ResolveRecipientsResult,
    RuleEvaluation,
    RuleFireInfo,
    SaveBaselineInput,
    SaveBaselineResult,
    StartPlanInput,
    StartPlanResult,
    TaskEventInfo,
)


def _fire_info(f: pb.RuleFire) -> RuleFireInfo:
    return RuleFireInfo(
        key=f.key,
        rule_key=f.rule_key,
        project_id=f.project_id,
        task_id=f.task_id,
        title=f.title,
        body=f.body,
        user_ids=list(f.recipients.user_ids),
        roles=list(f.recipients.roles),
        escalate=list(f.recipients.escalate),
        webhooks=list(f.recipients.webhooks),
    )


def _apply_request(inp: ApplyTemplateInput) -> pb.ApplyTemplateRequest:
    return pb.ApplyTemplateRequest(
        request_id=inp.request_id,
        project_id=inp.project_id,
        business_line=inp.business_line,
        start=inp.start,
        owner_id=inp.owner_id,
        baseline_name=inp.baseline_name,
    )


def _applied(inp: ApplyTemplateInput, resp: pb.ApplyTemplateResponse) -> ApplyTemplateResult:
    activity_logger(inp.project_id).info("plan.template_applied", business_line=inp.business_line,
                                         created=resp.created, baseline_number=resp.baseline_number)
    return ApplyTemplateResult(created=resp.created, template_version=resp.template_version,
                               baseline_number=resp.baseline_number)


def _evaluate_request(inp: EvaluateRulesWithProtection) -> pb.EvaluateRulesRequest:
    req = pb.EvaluateRulesRequest(
        project_id=inp.project_id,
        after_seq=inp.after_seq,
        owner_id=inp.owner_id,
        project_name=inp.project_name,
        business_line=inp.business_line,
        project_amount=inp.amount,
    )
    req.now.FromDatetime(datetime.fromisoformat(inp.now).astimezone(UTC))
    if inp.protection_until:
        req.protection_until.FromDatetime(datetime.fromisoformat(inp.protection_until).astimezone(UTC))
    return req


def _evaluation(inp: EvaluateRulesWithProtection, resp: pb.EvaluateRulesResponse) -> RuleEvaluation:
    if resp.errors:
        activity_logger(inp.project_id).warning("rules.evaluation_errors", errors=list(resp.errors))
    return RuleEvaluation(
        fires=[_fire_info(f) for f in resp.fires],
        next_wake=resp.next_wake.ToDatetime(tzinfo=UTC).isoformat() if resp.HasField("next_wake") else "",
        events=[
            TaskEventInfo(
                seq=e.seq,
                kind=e.kind,
                task_id=e.task_id,
                at=e.at.ToDatetime(tzinfo=UTC).isoformat(),
                payload=json_format.MessageToDict(e.payload),
            )
            for e in resp.events
        ],
        last_seq=resp.last_seq,
    )


class TasksActivities:
    def __init__(self, stub: TasksServiceStub, *, timeout: float = 10.0) -> None:
        self._stub = stub
        self._timeout = timeout

    @activity.defn(name=TASKS_APPLY_TEMPLATE)
    async def apply_template(self, inp: ApplyTemplateInput) -> ApplyTemplateResult:
        resp = await call(self._stub.ApplyTemplate, _apply_request(inp), timeout=self._timeout)
        return _applied(inp, resp)

    @activity.defn(name=TASKS_START_PLAN)
    async def start_plan(self, inp: StartPlanInput) -> StartPlanResult:
        """The template and the first rules turn in one local activity and one call (ApplyTemplate
        with ``evaluate``; two calls before). A retry, also of one started by older code, finds the
        template applied (its request id: the stored apply answer) and evaluates afresh, which
        reads only."""
        req = _apply_request(inp.apply)
        req.evaluate.CopyFrom(_evaluate_request(inp.evaluate))
        resp = await call(self._stub.ApplyTemplate, req, timeout=self._timeout)
        applied = _applied(inp.apply, resp)
        if not resp.HasField("evaluation"):  # a tasks service older than ``evaluate`` ignores it
            return StartPlanResult(applied=applied, evaluation=await self.evaluate_rules(inp.evaluate))
        return StartPlanResult(applied=applied, evaluation=_evaluation(inp.evaluate, resp.evaluation))

    @activity.defn(name=TASKS_SAVE_BASELINE)
    async def save_baseline(self, inp: SaveBaselineInput) -> SaveBaselineResult:
        req = pb.SaveBaselineRequest(request_id=inp.request_id, project_id=inp.project_id, name=inp.name)
        resp = await call(self._stub.SaveBaseline, req, timeout=self._timeout)
        activity_logger(inp.project_id).info("plan.baseline_saved", number=resp.number, tasks=resp.tasks)
        return SaveBaselineResult(number=resp.number, tasks=resp.tasks)

    @activity.defn(name=TASKS_EVALUATE_RULES)
    async def evaluate_rules(self, inp: EvaluateRulesWithProtection) -> RuleEvaluation:
        resp = await call(self._stub.EvaluateRules, _evaluate_request(inp), timeout=self._timeout)
        return _evaluation(inp, resp)

    @activity.defn(name=TASKS_RECORD_FIRE)
    async def record_fire(self, inp: RuleFireInfo) -> RecordFireResult:
        fire = pb.RuleFire(
            key=inp.key,
            rule_key=inp.rule_key,
            project_id=inp.project_id,
            task_id=inp.task_id,
            title=inp.title,
            body=inp.body,
            recipients=pb.Recipients(
                user_ids=inp.user_ids, roles=inp.roles, escalate=inp.escalate, webhooks=inp.webhooks
            ),
        )
        if inp.fired_at:
            fire.fired_at.FromDatetime(datetime.fromisoformat(inp.fired_at).astimezone(UTC))
        resp = await call(self._stub.RecordFire, pb.RecordFireRequest(fire=fire), timeout=self._timeout)
        activity_logger(inp.project_id).info("rule.fire_recorded", key=inp.key, recorded=resp.recorded)
        return RecordFireResult(recorded=resp.recorded)


class RecipientActivities:
    """Turns a rule's roles and escalation levels into user ids (registry reads only)."""

    def __init__(self, stub: RegistryServiceStub, *, timeout: float = 10.0) -> None:
        self._stub = stub
        self._timeout = timeout

    @activity.defn(name=REGISTRY_RESOLVE_RECIPIENTS)
    async def resolve(self, inp: ResolveRecipientsInput) -> ResolveRecipientsResult:
        users = list(inp.user_ids)
        for role in inp.roles:
            resp = await call(self._stub.ListUsers, registry_pb.ListUsersRequest(role=role), timeout=self._timeout)
            users += [u.id for u in resp.users]
        for item in inp.escalate:
            user_id, _, levels = item.rpartition(":")
            chain = await call(
                self._stub.GetManagerChain, registry_pb.GetManagerChainRequest(user_id=user_id), timeout=self._timeout
            )
            managers = [m.manager_id for m in chain.links if m.manager_id and m.manager_id != user_id]
            users += managers[: int(levels or 1)]
        return ResolveRecipientsResult(user_ids=list(dict.fromkeys(u for u in users if u)))


class ProtectionInfoActivities:
    """The project's protection period (保护期) as the registry sees it, for ``protection_expiring``."""

    def __init__(self, stub: RegistryServiceStub, *, timeout: float = 10.0) -> None:
        self._stub = stub
        self._timeout = timeout

    @activity.defn(name=REGISTRY_PROTECTION_INFO)
    async def protection_info(self, inp: ProtectionInfoInput) -> ProtectionInfo:
        req = registry_pb.GetProjectRequest(project_id=inp.project_id)  # no viewer: internal caller
        try:
            resp = await call(self._stub.GetProject, req, timeout=self._timeout)
        except ApplicationError as err:
            if err.type == ERR_NOT_FOUND:
                return ProtectionInfo()
            raise
        p = resp.project.protection
        until = p.until.ToDatetime(tzinfo=UTC).isoformat() if p.HasField("until") else ""
        return ProtectionInfo(state=p.state, until=until)
