"""gRPC surface of the approval service: translate, delegate to domain/store, translate back."""

from __future__ import annotations

from typing import NoReturn

import grpc
import structlog

from baobei.approval.v1 import approval_service_pb2 as pb
from baobei.approval.v1 import approval_service_pb2_grpc as pb_grpc
from baobei.core.errors import FieldViolation, NotFound, ValidationFailed, require
from baobei.core.grpc_server import rpc
from services.approval import domain, mapping
from services.approval.org_client import DirectoryUnavailable
from services.approval.store import ApprovalStore

log = structlog.get_logger(__name__)


def _required(*checks: list[FieldViolation]) -> None:
    violations = [v for check in checks for v in check]
    if violations:
        raise ValidationFailed(violations)


def _unavailable(context: grpc.ServicerContext, err: DirectoryUnavailable) -> NoReturn:
    """Registry down: UNAVAILABLE, so callers (workflow activities) retry."""
    context.abort(grpc.StatusCode.UNAVAILABLE, f"org directory unavailable: {err}")
    raise AssertionError("unreachable")


class ApprovalServicer(pb_grpc.ApprovalServiceServicer):
    def __init__(self, *, store: ApprovalStore, directory: domain.OrgDirectory) -> None:
        self.store = store
        self.directory = directory

    # ------------------------------------------------------------ policies

    @rpc
    def PutPolicy(self, request: pb.PutPolicyRequest, context: grpc.ServicerContext) -> pb.PutPolicyResponse:
        key = request.key.strip()
        steps = mapping.steps_from_proto(request.steps)
        try:
            violations = domain.validate_policy(
                key=key, form_key=request.form_key, steps=steps, directory=self.directory
            )
        except DirectoryUnavailable as err:
            _unavailable(context, err)
        if violations:
            raise ValidationFailed(violations)
        return self.store.put_policy(request_id=request.request_id, key=key, form_key=request.form_key, steps=steps)

    @rpc
    def GetPolicy(self, request: pb.GetPolicyRequest, context: grpc.ServicerContext) -> pb.GetPolicyResponse:
        _required(require(request.key, "key", "策略标识", "key"))
        return pb.GetPolicyResponse(policy=self.store.get_policy(key=request.key.strip(), version=request.version))

    # ------------------------------------------------------------ planning

    def _policy_for(self, policy_key: str, form_key: str) -> domain.Policy | None:
        if policy_key.strip():
            return self.store.policy(key=policy_key.strip())
        return self.store.policy_for_form(form_key=form_key)

    @rpc
    def Simulate(self, request: pb.SimulateRequest, context: grpc.ServicerContext) -> pb.SimulateResponse:
        if not request.policy_key.strip():
            _required(require(request.project.form_key, "project.form_key", "表单标识", "form_key"))
        facts = mapping.facts_from_proto(request.project)
        policy = self._policy_for(request.policy_key, facts.form_key)
        if policy is None:
            raise NotFound(f"表单 {facts.form_key} 没有审批策略", f"no approval policy for form {facts.form_key}")
        try:
            steps = domain.plan_steps(policy, facts, request.submitter_id, self.directory)
        except DirectoryUnavailable as err:
            _unavailable(context, err)
        return pb.SimulateResponse(steps=[mapping.planned_step_to_proto(s) for s in steps])

    @rpc
    def PlanChain(self, request: pb.PlanChainRequest, context: grpc.ServicerContext) -> pb.PlanChainResponse:
        _required(
            require(request.request_id, "request_id"),
            require(request.project.project_id, "project.project_id", "项目", "project_id"),
        )
        facts = mapping.facts_from_proto(request.project)
        policy = self.store.policy_for_form(form_key=facts.form_key)
        try:
            steps = domain.plan_steps(policy, facts, request.submitter_id, self.directory) if policy else []
        except DirectoryUnavailable as err:
            _unavailable(context, err)
        return self.store.plan_chain(
            request_id=request.request_id, facts=facts, submitter_id=request.submitter_id, policy=policy, steps=steps
        )

    @rpc
    def OpenStep(self, request: pb.OpenStepRequest, context: grpc.ServicerContext) -> pb.OpenStepResponse:
        _required(require(request.instance_id, "instance_id", "审批实例", "instance_id"))
        return self.store.open_step(
            request_id=request.request_id, instance_id=request.instance_id, step_index=request.step_index
        )

    # ------------------------------------------------------------ deciding

    @rpc
    def RecordDecision(
        self, request: pb.RecordDecisionRequest, context: grpc.ServicerContext
    ) -> pb.RecordDecisionResponse:
        _required(
            require(request.task_id, "task_id", "审批任务", "task_id"),
            require(request.actor_id, "actor_id", "审批人", "actor_id"),
        )
        return self.store.record_decision(
            request_id=request.request_id,
            task_id=request.task_id,
            actor_id=request.actor_id,
            action=request.action.strip(),
            comment=request.comment,
            channel=request.channel.strip(),
        )

    # ------------------------------------------------------------ reads

    @rpc
    def GetTask(self, request: pb.GetTaskRequest, context: grpc.ServicerContext) -> pb.GetTaskResponse:
        _required(require(request.task_id, "task_id", "审批任务", "task_id"))
        return pb.GetTaskResponse(task=self.store.get_task(task_id=request.task_id))

    @rpc
    def ListTodos(self, request: pb.ListTodosRequest, context: grpc.ServicerContext) -> pb.ListTodosResponse:
        _required(require(request.user_id, "user_id", "用户", "user_id"))
        return pb.ListTodosResponse(tasks=self.store.list_todos(user_id=request.user_id))

    @rpc
    def GetInstance(self, request: pb.GetInstanceRequest, context: grpc.ServicerContext) -> pb.GetInstanceResponse:
        _required(require(request.project_id, "project_id", "项目", "project_id"))
        return pb.GetInstanceResponse(instance=self.store.get_instance(project_id=request.project_id))

    @rpc
    def ListApproverProjects(
        self, request: pb.ListApproverProjectsRequest, context: grpc.ServicerContext
    ) -> pb.ListApproverProjectsResponse:
        _required(require(request.user_id, "user_id", "用户", "user_id"))
        return pb.ListApproverProjectsResponse(project_ids=self.store.list_approver_projects(user_id=request.user_id))
