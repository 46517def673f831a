"""Approval policies, their simulation (the chain a project would get, with why) and what-if
(a draft policy replayed against the latest submissions of its form)."""

from __future__ import annotations

import uuid
from typing import Any

from baobei.approval.v1 import approval_service_pb2 as approval_pb2
from edge import audit, mapping
from edge.deps import AdminUser, Clients, CurrentUser
from edge.routes import area_router
from edge.schemas import KeyVersion, PolicyIn, SimulateIn, SimulateOut, WhatIfIn, WhatIfOut

router = area_router("approval policies")


@router.put("/approval-policies/{policy_key}", response_model=KeyVersion)
async def put_policy(policy_key: str, body: PolicyIn, admin: AdminUser, clients: Clients) -> dict[str, Any]:
    """Create or change a policy; the policy whose form_key matches a project's form decides it.
    Each change is a new version: running approvals keep the chain they were planned with.
    Invalid CEL, unknown users or roles and an empty chain are refused with their field paths."""
    resp = await clients.approval.PutPolicy(
        approval_pb2.PutPolicyRequest(
            request_id=uuid.uuid4().hex,
            key=policy_key,
            form_key=body.form_key,
            steps=[mapping.policy_step_in(s) for s in body.steps],
            options=mapping.policy_options_in(body),
        )
    )
    # The policy may have left a form: the next submissions ask again.
    clients.deps.policies.forget()
    await audit.record(clients, "policy.changed", actor_id=admin.id, target_type="approval_policy",
                       target_id=policy_key, details={"version": resp.version, "form_key": body.form_key,
                                                      "steps": [s.name for s in body.steps]})
    return {"key": resp.key, "version": resp.version}


@router.post("/approval-policies/{policy_key}/simulate", response_model=SimulateOut)
async def simulate(policy_key: str, body: SimulateIn, user: CurrentUser, clients: Clients) -> dict[str, Any]:
    """The chain a project like this would get (steps whose `when` is false are left out), each
    step with `why`: the rule that selected it and how its approvers were found."""
    resp = await clients.approval.Simulate(
        approval_pb2.SimulateRequest(
            policy_key=policy_key,
            project=mapping.project_facts(body),
            submitter_id=body.submitter_id or user.id,
        )
    )
    return {"steps": [mapping.simulated_step_out(s) for s in resp.steps]}


@router.post("/approval-policies/{policy_key}/what-if", response_model=WhatIfOut)
async def what_if(policy_key: str, body: WhatIfIn, admin: AdminUser, clients: Clients) -> dict[str, Any]:
    """Replay a draft of this policy against the last `limit` submissions of its form and list
    those that would route differently (steps added / removed, approvers changed). Stores nothing."""
    form_key = body.form_key
    if not form_key:
        stored = await clients.approval.GetPolicy(approval_pb2.GetPolicyRequest(key=policy_key))
        form_key = stored.policy.form_key
    resp = await clients.approval.WhatIf(
        approval_pb2.WhatIfRequest(
            form_key=form_key,
            steps=[mapping.policy_step_in(s) for s in body.steps],
            options=mapping.policy_options_in(body),
            limit=body.limit,
        )
    )
    return {
        "evaluated": resp.evaluated,
        "changed": resp.changed,
        "items": [
            {
                "project_id": i.project_id,
                "added": list(i.added),
                "removed": list(i.removed),
                "approvers_changed": [
                    {"step": c.step, "before": list(c.before), "after": list(c.after)} for c in i.approvers_changed
                ],
                "before": list(i.before),
                "after": list(i.after),
            }
            for i in resp.items
        ],
    }
