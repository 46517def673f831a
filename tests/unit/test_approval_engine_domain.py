"""Approval engine rules without I/O: working-time SLAs on the mainland calendar, timers and the
escalation ladder, approver resolution types and special cases, default branch, conflicts in
CEL, provenance, modes (any / all / sequential / ratio, add-sign, escalation resolvers),
delegation and what-if diffs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from baobei.workcalendar import STATUTORY as calendar
from services.approval import domain
from services.approval.domain import (
    ApproverSpec,
    InMemoryDirectory,
    OrgUser,
    Policy,
    PolicyOptions,
    ProjectFacts,
    StepSpec,
    TaskState,
)

SH = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def org() -> InMemoryDirectory:
    #   hq (ceo) ─ sales (boss) ─ east (lead) ─ team (no manager)
    #          └─ fin (cfo)
    return InMemoryDirectory(
        users={
            "ceo": OrgUser("ceo", "hq", ("exec",), "north"),
            "cfo": OrgUser("cfo", "fin", ("finance_head", "finance"), "north"),
            "boss": OrgUser("boss", "sales", ("sales_director",), "east"),
            "lead": OrgUser("lead", "east", ("sales", "reviewer"), "east"),
            "rep": OrgUser("rep", "team", ("sales",), "east"),
            "acct-e": OrgUser("acct-e", "east", ("accountant",), "east"),
            "acct-s": OrgUser("acct-s", "sales", ("accountant",), "south"),
        },
        departments={
            "hq": ("", "ceo"), "fin": ("hq", "cfo"), "sales": ("hq", "boss"), "east": ("sales", "lead"),
            "team": ("east", ""),
        },
    )


def facts(amount: str = "100000", **over: object) -> ProjectFacts:
    base: dict[str, object] = {"project_id": "p1", "form_key": "deal", "amount": Decimal(amount), "region": "east"}
    base.update(over)
    return ProjectFacts(**base)  # type: ignore[arg-type]


# ---------------------------------------------------------------- calendar


def test_working_hours_skip_the_national_day_week() -> None:
    start = datetime(2026, 9, 30, 17, 0, tzinfo=SH)
    assert calendar.add_duration(start, "8wh") == datetime(2026, 10, 8, 17, 0, tzinfo=SH)
    assert calendar.add_duration(start, "1wh") == datetime(2026, 9, 30, 18, 0, tzinfo=SH)
    assert calendar.add_duration(start, "2wh") == datetime(2026, 10, 8, 10, 0, tzinfo=SH)


def test_make_up_saturday_counts_and_lunch_does_not() -> None:
    assert calendar.is_workday(datetime(2026, 10, 10).date())  # 调休 Saturday
    assert not calendar.is_workday(datetime(2026, 10, 3).date())
    friday = datetime(2026, 10, 9, 17, 0, tzinfo=SH)
    assert calendar.add_duration(friday, "8wh") == datetime(2026, 10, 10, 17, 0, tzinfo=SH)
    noon = datetime(2026, 11, 25, 11, 30, tzinfo=SH)
    assert calendar.add_duration(noon, "1wh") == datetime(2026, 11, 25, 13, 30, tzinfo=SH)
    # A working day is 8 working hours; natural units ignore the calendar.
    assert calendar.add_duration(friday, "1wd") == calendar.add_duration(friday, "8wh")
    assert calendar.add_duration(friday, "3d") == friday + timedelta(days=3)


def test_working_time_keeps_the_zone_of_its_start() -> None:
    start = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
    due = calendar.add_duration(start, "4wh")  # 09-12, lunch, 13-14
    assert due == datetime(2026, 11, 25, 6, 0, tzinfo=UTC) and due.tzinfo == UTC


@given(st.integers(min_value=1, max_value=80), st.integers(min_value=0, max_value=24 * 60))
def test_working_time_is_monotonic(hours: int, minutes: int) -> None:
    start = datetime(2026, 9, 25, 0, 0, tzinfo=SH) + timedelta(minutes=minutes)
    a = calendar.add_working_seconds(start, hours * 3600)
    b = calendar.add_working_seconds(start, hours * 3600 + 60)
    assert start < a < b


# ---------------------------------------------------------------- timers


def test_timers_reminder_sla_and_ladder_in_order() -> None:
    opened = datetime(2026, 11, 23, 9, 0, tzinfo=SH)  # a Monday
    due, timers = domain.step_timers(
        opened_at=opened, sla="8wh", on_timeout="escalate", escalate_to=["boss"], remind_at=0.5,
        escalation=[{"after": "2wd", "action": "escalate", "to": ["ceo"]}, {"after": "3wd", "action": "reject"}],
    )
    assert due == datetime(2026, 11, 23, 18, 0, tzinfo=SH)
    assert [(t.action, t.level, t.to, t.at) for t in timers] == [
        ("remind", 0, (), datetime(2026, 11, 23, 14, 0, tzinfo=SH)),  # 4 working hours, lunch excluded
        ("escalate", 0, ("boss",), due),
        ("escalate", 1, ("ceo",), datetime(2026, 11, 24, 18, 0, tzinfo=SH)),
        ("reject", 2, (), datetime(2026, 11, 25, 18, 0, tzinfo=SH)),
    ]
    assert [t.index for t in timers] == [0, 1, 2, 3]
    assert domain.step_timers(opened_at=opened, sla="", on_timeout="", escalate_to=[], remind_at=0,
                              escalation=[]) == (None, [])


# ---------------------------------------------------------------- approvers


def test_role_scopes(org: InMemoryDirectory) -> None:
    accountants = ApproverSpec("role", role="accountant")
    assert domain.resolve_approvers(accountants, "rep", org) == ["acct-e", "acct-s"]
    # department: the nearest department up the submitter's tree that has a holder
    assert domain.resolve_approvers(ApproverSpec("role", role="accountant", scope="department"), "rep", org) == [
        "acct-e"
    ]
    assert domain.resolve_approvers(ApproverSpec("role", role="accountant", scope="department"), "boss", org) == [
        "acct-s"
    ]
    assert domain.resolve_approvers(ApproverSpec("role", role="accountant", scope="region"), "rep", org) == ["acct-e"]


def test_manager_levels_chains_and_department_heads(org: InMemoryDirectory) -> None:
    assert domain.resolve_approvers(ApproverSpec("manager_level", level=1), "rep", org) == ["lead"]
    assert domain.resolve_approvers(ApproverSpec("manager_level", level=3), "rep", org) == ["ceo"]
    assert domain.resolve_approvers(ApproverSpec("manager_level", level=4), "rep", org) == []
    assert domain.resolve_approvers(ApproverSpec("managers_chain", level=2), "rep", org) == ["lead", "boss"]
    assert domain.resolve_approvers(ApproverSpec("managers_chain"), "rep", org) == ["lead", "boss", "ceo"]
    until = ApproverSpec("managers_chain", until_role="sales_director")
    assert domain.resolve_approvers(until, "rep", org) == ["lead", "boss"]
    assert domain.resolve_approvers(ApproverSpec("department_head", department_id="fin"), "rep", org) == ["cfo"]
    assert domain.resolve_approvers(ApproverSpec("department_head", department_id="team"), "rep", org) == []


def policy(*steps: StepSpec, **options: object) -> Policy:
    return Policy(key="k", form_key="deal", version=3, steps=tuple(steps), options=PolicyOptions(**options))  # type: ignore[arg-type]


def test_default_branch_and_provenance(org: InMemoryDirectory) -> None:
    p = policy(
        StepSpec("大额", ApproverSpec("user", user_id="ceo"), when="project.amount >= 1000000.0"),
        default_steps=(StepSpec("经理", ApproverSpec("manager_of_submitter")),),
    )
    [small] = domain.plan_steps(p, facts("1000"), "rep", org)
    assert (small.name, small.approvers, small.provenance["branch"]) == ("经理", ("lead",), "default_steps")
    [big] = domain.plan_steps(p, facts("2000000"), "rep", org)
    assert big.provenance == {
        "branch": "steps", "rule_index": 0, "rule": "steps[0]", "when": "project.amount >= 1000000.0",
        "when_result": True, "approver_rule": {"type": "user", "user_id": "ceo", "role": ""},
        "resolved": ["ceo"], "planned": ["ceo"], "notes": [],
    }
    inputs = domain.plan_inputs(p, facts("2000000"), org.get_user("rep"))
    assert (inputs["policy_version"], inputs["project"]["amount"], inputs["submitter"]["department_id"]) == (
        3, "2000000", "team"
    )


def test_conflicts_are_visible_to_cel(org: InMemoryDirectory) -> None:
    p = policy(StepSpec("撞单复核", ApproverSpec("user", user_id="boss"),
                        when='size(project.conflicts) > 0 && project.conflicts[0].reason == "same_customer"'),
               StepSpec("计数", ApproverSpec("user", user_id="ceo"), when="project.conflict_count >= 1"))
    clash = facts(conflicts=({"project_id": "p0", "reason": "same_customer"},))
    assert [s.name for s in domain.plan_steps(p, clash, "rep", org)] == ["撞单复核", "计数"]
    assert domain.plan_steps(p, facts(), "rep", org) == []


def test_special_cases_are_applied_and_recorded(org: InMemoryDirectory) -> None:
    nobody = StepSpec("法务", ApproverSpec("department_head", department_id="team"))
    [skipped] = domain.plan_steps(policy(nobody), facts(), "rep", org)
    assert skipped.approvers == () and skipped.provenance["notes"][0]["kind"] == "no_approver"
    [admin] = domain.plan_steps(policy(nobody, on_no_approver="admin", approval_admin="ceo"), facts(), "rep", org)
    assert admin.approvers == ("ceo",) and "审批管理员" in admin.provenance["notes"][0]["zh"]
    [blocked] = domain.plan_steps(policy(nobody, on_no_approver="block"), facts(), "rep", org)
    assert blocked.blocked and blocked.approvers == ()

    self_step = StepSpec("组长", ApproverSpec("user", user_id="lead"))
    [kept] = domain.plan_steps(policy(self_step), facts(), "lead", org)
    assert kept.approvers == ("lead",) and not kept.provenance["notes"]
    [up] = domain.plan_steps(policy(self_step, on_submitter_is_approver="skip_to_manager"), facts(), "lead", org)
    assert up.approvers == ("boss",) and up.provenance["resolved"] == ["lead"]
    [own] = domain.plan_steps(policy(self_step, on_submitter_is_approver="self_approve"), facts(), "lead", org)
    assert own.self_approved and own.approvers == ("lead",)


def test_policy_validation_of_new_parts(org: InMemoryDirectory) -> None:
    steps = domain.normalise_steps([
        StepSpec("a", ApproverSpec("role", role="ghost-role"), mode="ratio"),
        StepSpec("b", ApproverSpec("manager_level"), remind_at=0.5,
                 escalation=(domain.LadderLevel("soon", "explode"),)),
        StepSpec("c", ApproverSpec("department_head"), cc=(ApproverSpec("user", user_id="nobody"),)),
    ])
    options = PolicyOptions(default_steps=(StepSpec("d", ApproverSpec("user", user_id="ceo"), when="true"),),
                            on_no_approver="admin", on_submitter_is_approver="maybe")
    v = domain.validate_policy(key="k", form_key="f", steps=steps, directory=org, options=options)
    assert {x.field for x in v} == {
        "steps[0].approvers.role", "steps[0].min_approvals", "steps[1].approvers.level", "steps[1].remind_at",
        "steps[1].escalation[0].after", "steps[1].escalation[0].action", "steps[2].approvers.department_id",
        "steps[2].cc[0].user_id", "default_steps[0].when", "approval_admin", "on_submitter_is_approver",
    }


def test_definitions_round_trip_and_old_ones_compare_equal() -> None:
    step = StepSpec("a", ApproverSpec("role", role="r", scope="region"), mode="ratio", ratio=0.6, remind_at=0.5,
                    sla="8wh", escalation=(domain.LadderLevel("2wd", "approve", None),),
                    cc=(ApproverSpec("user", user_id="u"),))
    assert StepSpec.from_dict(step.as_dict()) == step
    old = {"name": "a", "when": "", "approvers": {"type": "user", "user_id": "u", "role": ""}, "mode": "any",
           "sla": "", "escalate_to": None, "on_timeout": ""}
    assert StepSpec.from_dict(old).as_dict() == old
    options = PolicyOptions(default_steps=(step,), on_no_approver="block", auto_approve_consecutive=False)
    assert PolicyOptions.from_dict(options.as_dict()) == options
    assert PolicyOptions().as_dict() == {}


# ---------------------------------------------------------------- outcomes


def ts(*items: tuple[str, str] | str) -> list[TaskState]:
    return [TaskState(i) if isinstance(i, str) else TaskState(*i) for i in items]


def test_ratio_mode() -> None:
    assert domain.needed_approvals("ratio", 3, min_approvals=2) == 2
    assert domain.needed_approvals("ratio", 3, ratio=0.5) == 2
    assert domain.needed_approvals("ratio", 3, ratio=2 / 3) == 2
    assert domain.step_outcome("ratio", ts("approved", "pending", "pending"), min_approvals=2) == "pending"
    assert domain.step_outcome("ratio", ts("approved", "rejected", "approved"), min_approvals=2) == "approved"
    assert domain.step_outcome("ratio", ts("rejected", "rejected", "pending"), min_approvals=2) == "rejected"
    assert domain.step_outcome("ratio", ts("rejected", "pending", "pending"), min_approvals=2) == "pending"


def test_sequential_counts_approvers_not_yet_asked() -> None:
    assert domain.step_outcome("sequential", ts("approved"), total=3) == "pending"
    assert domain.step_outcome("sequential", ts("approved", "approved", "approved"), total=3) == "approved"
    assert domain.step_outcome("sequential", ts("approved", "rejected"), total=3) == "rejected"


def test_add_sign_and_escalation_resolver() -> None:
    # 前加签: the added approver's approval alone does not approve; a rejection rejects.
    assert domain.step_outcome("any", ts(("waiting", "normal"), ("approved", "before"))) == "pending"
    assert domain.step_outcome("any", ts(("waiting", "normal"), ("rejected", "before"))) == "rejected"
    # 后加签: approved only once the added approver approves too.
    assert domain.step_outcome("any", ts(("approved", "normal"), ("pending", "after"))) == "pending"
    assert domain.step_outcome("any", ts(("approved", "normal"), ("approved", "after"))) == "approved"
    # An escalation resolver decides alone, whatever the mode.
    assert domain.step_outcome("all", ts("pending", "pending", ("approved", "escalated"))) == "approved"
    assert domain.step_outcome("all", ts("approved", "pending", ("rejected", "escalated"))) == "rejected"
    # A transferred (closed) task does not count.
    assert domain.step_outcome("all", ts("closed", "approved")) == "approved"


def test_stale_approval_does_not_auto_approve() -> None:
    earlier = domain.StepRecord("approved", ("a",), ("a",), stale=True)
    assert not domain.should_auto_approve(["a"], [earlier])


def test_delegation_window() -> None:
    now = datetime(2026, 11, 25, tzinfo=UTC)
    d = domain.Delegation("boss", "rep2", now - timedelta(days=1), now + timedelta(days=1))
    assert domain.acting_for("boss", "boss", [d], now) == ""
    assert domain.acting_for("rep2", "boss", [d], now) == "boss"
    assert domain.acting_for("rep2", "boss", [d], now + timedelta(days=2)) is None
    assert domain.acting_for("x", "boss", [d], now) is None


def test_diff_chains() -> None:
    diff = domain.diff_chains("p", [("经理", ["a"]), ("财务", ["f1", "f2"])], [("经理", ["b"]), ("总裁", ["ceo"])])
    assert (diff.added, diff.removed) == (("总裁",), ("财务",))
    assert diff.approvers_changed == {"经理": (("a",), ("b",))}
    assert not domain.diff_chains("p", [("a", ["x", "y"])], [("a", ["y", "x"])]).changed


def test_fast_cel_path_agrees_with_the_interpreter() -> None:
    act = domain.activation(facts("250000", fields={"industry": "bank", "seats": 3}), OrgUser("rep", "team", ("s",)))
    for expr, expected in [
        ("project.amount >= 200000.0 && project.region == 'east'", True),
        ('has(project.fields.industry) && !has(project.fields.other)', True),
        ("project.fields.seats == 3", True),
        ("project.fields.missing > 1", False),
    ]:
        assert domain.evaluate_when(expr, act) is expected
