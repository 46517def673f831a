"""Approval policies and their simulation."""

from __future__ import annotations

import uuid
from typing import Any

from baobei.approval.v1 import approval_service_pb2 as approval_pb2
from edge import mapping
from edge.deps import AdminUser, Clients, CurrentUser
from edge.routes import area_router
from edge.schemas import KeyVersion, PolicyIn, SimulateIn, SimulateOut

router = area_router("approval policies")


@router.put("/approval-policies/{policy_key}", response_model=KeyVersion)
async def put_policy(policy_key: str, body: PolicyIn, admin: AdminUser, clients: Clients) -> dict[str, Any]:
    """Create or change a policy; the policy whose form_key matches a project's form decides it."""
    resp = await clients.approval.PutPolicy(
        approval_pb2.PutPolicyRequest(
            request_id=uuid.uuid4().hex,
            key=policy_key,
            form_key=body.form_key,
            steps=[mapping.policy_step_in(s) for s in body.steps],
        )
    )
    return {"key": resp.key, "version": resp.version}


@router.post("/approval-policies/{policy_key}/simulate", response_model=SimulateOut)
async def simulate(policy_key: str, body: SimulateIn, user: CurrentUser, clients: Clients) -> dict[str, Any]:
    """The chain a project like this would get (steps whose `when` is false are left out)."""
    resp = await clients.approval.Simulate(
        approval_pb2.SimulateRequest(
            policy_key=policy_key,
            project=mapping.project_facts(body),
            submitter_id=body.submitter_id or user.id,
        )
    )
    return {"steps": [{"name": s.name, "mode": s.mode, "approvers": list(s.approvers)} for s in resp.steps]}
