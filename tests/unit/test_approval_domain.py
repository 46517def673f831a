"""Approval rules without I/O: CEL conditions, approver resolution, SLA parsing, outcomes."""

from __future__ import annotations

from decimal import Decimal

import pytest
from structlog.testing import capture_logs

from services.approval import domain
from services.approval.domain import (
    ApproverSpec,
    InMemoryDirectory,
    OrgUser,
    Policy,
    ProjectFacts,
    StepRecord,
    StepSpec,
)


@pytest.fixture
def org() -> InMemoryDirectory:
    #   hq (manager: ceo)
    #   └── sales (manager: boss)
    #       └── east (manager: lead)
    return InMemoryDirectory(
        users={
            "ceo": OrgUser("ceo", "hq", ("exec",)),
            "boss": OrgUser("boss", "sales", ("sales_director",)),
            "lead": OrgUser("lead", "east", ("sales",)),
            "rep": OrgUser("rep", "east", ("sales",)),
            "fin2": OrgUser("fin2", "hq", ("finance",)),
            "fin1": OrgUser("fin1", "hq", ("finance",)),
        },
        departments={"hq": ("", "ceo"), "sales": ("hq", "boss"), "east": ("sales", "lead")},
    )


def facts(amount: str = "100000", region: str = "east", **fields: object) -> ProjectFacts:
    return ProjectFacts(
        project_id="p1", form_key="deal", name="n", amount=Decimal(amount), region=region,
        business_line="cloud", fields=fields, conflict_count=0,
    )


def when(expr: str, f: ProjectFacts, submitter: OrgUser | None = None) -> bool:
    act = domain.activation(f, submitter or OrgUser("rep", "east", ("sales",)))
    return domain.evaluate_when(expr, act, project_id=f.project_id)


# ---------------------------------------------------------------- CEL


def test_amount_thresholds() -> None:
    assert when("project.amount >= 500000", facts("500000"))
    assert not when("project.amount >= 500000", facts("499999.99"))
    assert when("project.amount > 100000.5", facts("100000.51"))
    assert when("", facts())  # empty condition = true


def test_region_and_business_line_equality() -> None:
    assert when('project.region == "east"', facts(region="east"))
    assert not when('project.region == "east"', facts(region="north"))
    assert when('project.region in ["east", "south"] && project.business_line == "cloud"', facts(region="south"))


def test_fields_access_and_submitter() -> None:
    f = facts(industry="bank", seats=3.0, tags=["vip"])
    assert when('project.fields.industry == "bank"', f)
    assert when("project.fields.seats == 3", f)  # Struct numbers arrive as doubles; integral ones are ints
    assert when('"vip" in project.fields.tags', f)
    assert when('has(project.fields.industry) && !has(project.fields.other)', f)
    assert when('"sales" in submitter.roles && submitter.department_id == "east"', f)
    assert when("project.conflict_count == 0", f)


def test_when_that_fails_at_run_time_is_false_and_logged() -> None:
    with capture_logs() as logs:
        assert not when("project.fields.missing > 3", facts())
        assert not when("project.amount", facts())  # not a boolean
    assert [e["event"] for e in logs] == ["approval.when_failed", "approval.when_not_bool"]
    assert logs[0]["log_level"] == "warning" and logs[0]["project_id"] == "p1"


def test_when_problem_reports_parse_errors_and_unknown_variables() -> None:
    assert domain.when_problem("project.amount > 100") == ""
    assert domain.when_problem('project.fields.industry == "bank"') == ""
    assert domain.when_problem("project.amount >") != ""
    assert "projet" in domain.when_problem("projet.amount > 1")


# ---------------------------------------------------------------- approvers


def test_resolve_user_and_role(org: InMemoryDirectory) -> None:
    assert domain.resolve_approvers(ApproverSpec("user", user_id="boss"), "rep", org) == ["boss"]
    assert domain.resolve_approvers(ApproverSpec("role", role="finance"), "rep", org) == ["fin1", "fin2"]
    assert domain.resolve_approvers(ApproverSpec("role", role="nobody"), "rep", org) == []


def test_manager_of_submitter_walks_up_when_manager_is_submitter(org: InMemoryDirectory) -> None:
    spec = ApproverSpec("manager_of_submitter")
    assert domain.resolve_approvers(spec, "rep", org) == ["lead"]
    assert domain.resolve_approvers(spec, "lead", org) == ["boss"]  # lead manages east: go to sales
    assert domain.resolve_approvers(spec, "ceo", org) == []  # top of the tree
    assert domain.resolve_approvers(spec, "ghost", org) == []


def test_plan_keeps_true_steps_in_order_and_steps_without_approvers(org: InMemoryDirectory) -> None:
    policy = Policy(
        key="deal", form_key="deal", version=1,
        steps=(
            StepSpec("manager", ApproverSpec("manager_of_submitter"), sla="24h"),
            StepSpec("big", ApproverSpec("user", user_id="ceo"), when="project.amount >= 1000000"),
            StepSpec("finance", ApproverSpec("role", role="finance"), mode="all", sla="8wh",
                     escalate_to=ApproverSpec("user", user_id="boss"), on_timeout="escalate"),
            StepSpec("legal", ApproverSpec("role", role="legal")),
        ),
    )
    steps = domain.plan_steps(policy, facts("200000"), "rep", org)
    assert [(s.index, s.name, s.approvers) for s in steps] == [
        (0, "manager", ("lead",)),
        (1, "finance", ("fin1", "fin2")),
        (2, "legal", ()),
    ]
    assert steps[0].sla_seconds == 86400
    assert steps[1].sla_seconds == 8 * 3600 and steps[1].mode == "all" and steps[1].escalate_to == ("boss",)
    assert [s.name for s in domain.plan_steps(policy, facts("1000000"), "rep", org)][:2] == ["manager", "big"]


# ---------------------------------------------------------------- validation / sla


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30), ("15m", 900), ("24h", 86400), ("3d", 259200), ("8wh", 28800), ("0s", 0)],
)
def test_parse_sla(text: str, seconds: int) -> None:
    assert domain.parse_sla(text) == seconds


@pytest.mark.parametrize("text", ["", "3", "h", "1.5h", "3w", "-1h", "8 wh", "1hh"])
def test_parse_sla_rejects(text: str) -> None:
    assert domain.parse_sla(text) is None


def test_validate_policy_paths(org: InMemoryDirectory) -> None:
    steps = domain.normalise_steps([
        StepSpec("", ApproverSpec("user", user_id="ghost"), when="project.amount >", mode="most", sla="3w",
                 on_timeout="explode"),
        StepSpec("ok", ApproverSpec("role"), on_timeout="escalate"),
        StepSpec("ok2", ApproverSpec("boss")),
    ])
    v = domain.validate_policy(key="Bad Key", form_key="", steps=steps, directory=org)
    assert {x.field for x in v} == {
        "key", "form_key", "steps[0].name", "steps[0].when", "steps[0].approvers.user_id", "steps[0].mode",
        "steps[0].sla", "steps[0].on_timeout", "steps[1].approvers.role", "steps[1].escalate_to",
        "steps[2].approvers.type",
    }
    assert all(x.zh and x.en for x in v)
    assert [x.field for x in domain.validate_policy(key="k", form_key="f", steps=[], directory=org)] == ["steps"]
    good = domain.normalise_steps([StepSpec(" a ", ApproverSpec("user", user_id="boss"), mode="")])
    assert good[0].name == "a" and good[0].mode == "any"
    assert domain.validate_policy(key="deal-v_2", form_key="deal", steps=good, directory=org) == []


# ---------------------------------------------------------------- outcomes


def test_step_outcome_any() -> None:
    assert domain.step_outcome("any", ["pending", "pending"]) == "pending"
    assert domain.step_outcome("any", ["approved", "pending"]) == "approved"
    assert domain.step_outcome("any", ["rejected", "pending"]) == "rejected"


def test_step_outcome_all() -> None:
    assert domain.step_outcome("all", ["approved", "pending"]) == "pending"
    assert domain.step_outcome("all", ["approved", "approved"]) == "approved"
    assert domain.step_outcome("all", ["approved", "rejected"]) == "rejected"
    assert domain.step_outcome("all", []) == "pending"


def test_auto_approve_rules() -> None:
    approved_by_a = StepRecord("approved", ("a",), ("a",))
    assert domain.should_auto_approve(["a"], [approved_by_a])
    assert domain.should_auto_approve(["a"], [approved_by_a, StepRecord("skipped", ())])  # skipped steps ignored
    assert not domain.should_auto_approve(["b"], [approved_by_a])
    assert not domain.should_auto_approve(["a", "b"], [approved_by_a])
    assert not domain.should_auto_approve(["a"], [StepRecord("approved", ("a", "b"), ("a",))])
    assert not domain.should_auto_approve(["a"], [StepRecord("pending", ("a",))])
    assert not domain.should_auto_approve(["a"], [approved_by_a, StepRecord("approved", ("b",), ("b",))])
    assert not domain.should_auto_approve(["a"], [])


def test_instance_status() -> None:
    assert domain.instance_status(["approved", "skipped"]) == "approved"
    assert domain.instance_status(["approved", "waiting"]) == "pending"
    assert domain.instance_status(["approved", "rejected", "waiting"]) == "rejected"
    assert domain.instance_status([]) == "approved"
