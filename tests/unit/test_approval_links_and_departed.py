"""Pure approval rules for issue 5: the state of an action link, and routing that never picks a
user who left (role holders skipped, manager chain walks past them, a named approver who left
counts as no approver)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from services.approval import domain
from services.approval.domain import InMemoryDirectory, LinkFacts, OrgUser

PENDING = LinkFacts(used=False, link_approver_id="lead", task_approver_id="lead", task_status="pending",
                    step_status="pending", instance_status="pending")


@pytest.mark.parametrize(
    ("facts", "state"),
    [
        (PENDING, "usable"),
        (replace(PENDING, used=True), "used"),
        # used wins over everything else, even a task decided since
        (replace(PENDING, used=True, task_status="approved", step_status="approved", instance_status="approved"),
         "used"),
        (replace(PENDING, link_approver_id="boss"), "not_assignee"),
        (replace(PENDING, task_status="closed", closed_by="transfer"), "not_assignee"),
        (replace(PENDING, task_status="closed", closed_by="reassign"), "not_assignee"),
        # closed because another approver decided the step / the approval was withdrawn
        (replace(PENDING, task_status="closed", step_status="approved"), "decided"),
        (replace(PENDING, task_status="closed", instance_status="cancelled"), "decided"),
        (replace(PENDING, task_status="approved", step_status="approved", instance_status="approved"), "decided"),
        (replace(PENDING, task_status="rejected", step_status="rejected", instance_status="rejected"), "decided"),
        # held back behind an approver the approver added before themselves
        (replace(PENDING, task_status="waiting"), "decided"),
        (replace(PENDING, instance_status="superseded"), "decided"),
        (replace(PENDING, step_status="returned", instance_status="returned"), "decided"),
    ],
)
def test_action_link_state(facts: LinkFacts, state: str) -> None:
    assert domain.action_link_state(facts) == state


@pytest.fixture
def org() -> InMemoryDirectory:
    # hq (ceo) ─ sales (boss, left) ─ east (lead)
    return InMemoryDirectory(
        users={
            "ceo": OrgUser("ceo", "hq", ("exec",)),
            "boss": OrgUser("boss", "sales", ("sales_director", "finance"), left=True),
            "lead": OrgUser("lead", "east", ("sales",)),
            "rep": OrgUser("rep", "east", ("sales",)),
            "gone": OrgUser("gone", "east", ("sales",), left=True),
            "fin1": OrgUser("fin1", "hq", ("finance",)),
        },
        departments={"hq": ("", "ceo"), "sales": ("hq", "boss"), "east": ("sales", "lead")},
    )


def spec(**kw: Any) -> domain.ApproverSpec:
    return domain.ApproverSpec(**kw)


def test_role_holders_who_left_are_skipped(org: InMemoryDirectory) -> None:
    assert domain.resolve_approvers(spec(type="role", role="finance"), "rep", org) == ["fin1"]
    assert domain.resolve_approvers(spec(type="role", role="sales"), "ceo", org) == ["lead", "rep"]
    assert domain.resolve_approvers(spec(type="role", role="sales_director"), "rep", org) == []
    assert domain.resolve_approvers(spec(type="role", role="finance", scope="department"), "rep", org) == ["fin1"]


def test_manager_chain_walks_past_a_manager_who_left(org: InMemoryDirectory) -> None:
    # lead's manager is the (left) head of sales: the chain goes on to the ceo.
    assert domain.resolve_approvers(spec(type="manager_of_submitter"), "lead", org) == ["ceo"]
    assert domain.resolve_approvers(spec(type="manager_level", level=2), "rep", org) == ["ceo"]
    assert domain.resolve_approvers(spec(type="managers_chain"), "rep", org) == ["lead", "ceo"]
    assert domain.resolve_approvers(spec(type="department_head", department_id="sales"), "rep", org) == []


def test_a_named_approver_who_left_is_no_approver(org: InMemoryDirectory) -> None:
    assert domain.resolve_approvers(spec(type="user", user_id="boss"), "rep", org) == []
    assert domain.resolve_approvers(spec(type="user", user_id="lead"), "rep", org) == ["lead"]
    policy = domain.Policy(
        key="p", form_key="f", version=1,
        steps=(domain.StepSpec(name="总监", approvers=spec(type="user", user_id="boss")),),
        options=domain.PolicyOptions(on_no_approver="admin", approval_admin="ceo"),
    )
    [planned] = domain.plan_steps(policy, domain.ProjectFacts(project_id="x", form_key="f"), "rep", org)
    assert list(planned.approvers) == ["ceo"]
    assert planned.provenance["notes"][0]["kind"] == "no_approver"
    skip = replace(policy, options=domain.PolicyOptions())
    assert list(domain.plan_steps(skip, domain.ProjectFacts(project_id="x", form_key="f"), "rep", org)[0].approvers) \
        == []
