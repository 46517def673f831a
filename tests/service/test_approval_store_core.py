"""The approval store's planning path on prebuilt Core statements (the policy deciding a form, the
latest version of a policy, a project's instances locked for planning, the company calendar read
by an opening, the instance lock of FireTimer / resume / cancel / reassign / RecordAction) behaves
exactly as the ORM queries it replaced, kept here as the reference:

- the policy chosen for a form (latest versions only, a key moved to another form, several
  policies on one form — the most recently changed wins —, keys reserved for acceptance/change
  skipped, options) and the latest version of a key, after every change of the policy table;
- one scenario through every caller (plan with ``open_first``, a resubmission superseding, decide
  with ``open_next``, fire a timer, reassign, comment, return and resume, replan, cancel, errors,
  a repeated request) run twice, with the same ids and clock: on the reference queries and on
  the Core ones — the same answers and errors, and the same rows in every table (instances,
  steps, tasks, audit trail, carbon copies, closings, reporting events, approval requests, the
  OpenStep answers recorded)."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Session, col, select

from baobei.approval.v1 import approval_service_pb2 as pb
from baobei.core.errors import DomainError, NotFound
from baobei.workcalendar import Override, WorkingCalendar
from services.approval import domain, reporting_outbox
from services.approval.models import ApprovalInstance, CompanyCalendarDay, PolicyVersion
from services.approval.store import ApprovalStore, Replan, aggregates, instances, lifecycle
from services.approval.store.policies import PolicyStore
from tests.service.test_approval_plan_open_first import Org, rows, stores, user

__all__ = ["stores"]  # the fixture: two stores on two new migrated databases

T0 = datetime(2026, 3, 2, 1, 30, tzinfo=UTC)  # a Monday, 09:30 in Shanghai


# ---------------------------------------------------------------- the ORM queries replaced


def orm_policy_for_form(engine: sa.Engine, form_key: str) -> domain.Policy | None:
    latest = (
        sa.select(col(PolicyVersion.key), sa.func.max(col(PolicyVersion.version)).label("v"))
        .group_by(col(PolicyVersion.key))
        .subquery()
    )
    stmt = (
        select(PolicyVersion)
        .join(latest, sa.and_(col(PolicyVersion.key) == latest.c.key, col(PolicyVersion.version) == latest.c.v))
        .where(PolicyVersion.form_key == form_key)
        .order_by(col(PolicyVersion.id).desc())
    )
    with Session(engine) as session:
        for row in session.exec(stmt):
            if domain.policy_purpose(row.key) == domain.PURPOSE_REGISTRATION:
                return PolicyStore._to_policy(row)
        return None


def orm_policy(engine: sa.Engine, key: str) -> domain.Policy | None:
    with Session(engine) as session:
        stmt = select(PolicyVersion).where(PolicyVersion.key == key).order_by(col(PolicyVersion.version).desc())
        row = session.exec(stmt.limit(1)).first()
        return None if row is None else PolicyStore._to_policy(row)


def orm_lock_instance(session: Session, instance_id: str) -> ApprovalInstance:
    stmt = (select(ApprovalInstance).where(ApprovalInstance.id == instance_id).with_for_update()
            .execution_options(populate_existing=True))
    row = session.exec(stmt).first()
    if row is None:
        raise NotFound(f"审批实例不存在：{instance_id}", f"unknown approval instance: {instance_id}")
    return row


def orm_project_instances(session: Session, project_id: str) -> list[domain.Approval]:
    found = session.exec(
        select(ApprovalInstance).where(ApprovalInstance.project_id == project_id).with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    return [aggregates.load(session, r) for r in found]


def orm_calendar_of(session: Session) -> WorkingCalendar:
    days = session.exec(select(CompanyCalendarDay).order_by(col(CompanyCalendarDay.day))).all()
    return WorkingCalendar([Override(day=r.day, kind=r.kind, name=r.name) for r in days])


# ---------------------------------------------------------------- the policy chosen


def step(name: str, approver: str = "lead", **kw: Any) -> domain.StepSpec:
    return domain.StepSpec(name=name, approvers=user(approver), **kw)


# (key, form, steps, options): each a put, in this order.
PUTS: list[tuple[str, str, list[domain.StepSpec], domain.PolicyOptions | None]] = [
    ("a", "f1", [step("A1")], None),
    ("b", "f1", [step("B1")], None),                        # f1: b (changed after a)
    ("a", "f1", [step("A2")], None),                        # f1: a again (its v2 is newer)
    ("a", "f2", [step("A2")], None),                        # a moves to f2: f1 is b's
    ("a", "f2", [step("A2")], None),                        # identical: no new version
    ("c", "f3", [step("C1")], None),
    ("c", "f3", [step("C1"), step("C2", "boss")], None),   # f3: c v2
    ("acceptance", "f3", [step("ACC")], None),              # reserved: never decides f3
    ("acceptance:iot", "f3", [step("ACC-iot")], None),
    ("change", "f4", [step("CH")], None),                   # f4: only reserved keys → none
    ("d", "f5", [step("D1")], domain.PolicyOptions(no_approval=True)),
    ("e", "f5", [step("E1")], None),
    ("d", "f5", [step("D2")], domain.PolicyOptions(no_approval=True)),  # f5: d v2 with its options
    ("b", "f6", [step("B2")], None),                        # b leaves f1: f1 has none now
    ("a", "f1", [step("A3")], None),                        # a comes back to f1 (v3)
    (" f ", "f7", [step("F")], None),
]
FORMS = ("f1", "f2", "f3", "f4", "f5", "f6", "f7", "unknown", "")
KEYS = ("a", "b", "c", "d", "e", "acceptance", "acceptance:iot", "change", " f ", "nope")


def test_policy_choice_is_the_orm_queries(migrated_engine: Callable[[str], sa.Engine]) -> None:
    store = ApprovalStore(migrated_engine("approval"))
    for n, (key, form, steps, options) in enumerate(PUTS):
        store.put_policy(request_id=f"put-{n}", key=key, form_key=form, steps=steps, options=options)
        for form_key in FORMS:
            expected = orm_policy_for_form(store.engine, form_key)
            assert store.policy_for_form(form_key=form_key) == expected, (n, form_key)
        for k in KEYS:
            try:
                got: domain.Policy | None = store.policy(key=k)
            except DomainError as err:
                assert (err.code, err.zh, err.en) == ("not_found", f"审批策略不存在：{k}",
                                                      f"unknown approval policy: {k}")
                got = None
            assert got == orm_policy(store.engine, k), (n, k)
    chosen = {f: store.policy_for_form(form_key=f) for f in FORMS}
    assert {f: (p.key, p.version) if p else None for f, p in chosen.items()} == {
        "f1": ("a", 4), "f2": None, "f3": ("c", 2), "f4": None, "f5": ("d", 2), "f6": ("b", 2),
        "f7": (" f ", 1), "unknown": None, "": None,
    }
    f5 = chosen["f5"]
    assert f5 is not None and f5.options.no_approval and [s.name for s in f5.steps] == ["D2"]
    f3 = chosen["f3"]
    assert f3 is not None and [s.name for s in f3.steps] == ["C1", "C2"]


# ---------------------------------------------------------------- every caller, both ways


@pytest.fixture()
def clock(monkeypatch: pytest.MonkeyPatch) -> Callable[[timedelta | None], None]:
    """Fixed ids and approval clock: a millisecond per reading, plus the jump the returned function
    sets; ``jump(None)`` starts both over (each run of the scenario)."""
    state: dict[str, Any] = {}

    def reset() -> None:
        state["ids"] = itertools.count(1)
        state["ticks"] = itertools.count()
        state["jump"] = timedelta(0)

    def now() -> datetime:
        jumped: timedelta = state["jump"]
        return T0 + jumped + timedelta(milliseconds=next(state["ticks"]))

    class Clock(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> Clock:
            at = now()
            return cls(at.year, at.month, at.day, at.hour, at.minute, at.second, at.microsecond, at.tzinfo)

    def jump(by: timedelta | None) -> None:
        if by is None:
            reset()
        else:
            state["jump"] = by

    reset()
    monkeypatch.setattr(uuid, "uuid4", lambda: uuid.UUID(int=next(state["ids"])))
    monkeypatch.setattr(instances, "now_utc", now)
    monkeypatch.setattr(aggregates, "now_utc", now)
    monkeypatch.setattr(lifecycle, "now_utc", now)
    monkeypatch.setattr(reporting_outbox, "datetime", Clock)
    return jump


def opening(name: str, step_index: int = 0, instance_id: str = "") -> pb.OpenStepRequest:
    return pb.OpenStepRequest(request_id=f"wf:open:{name}", instance_id=instance_id, step_index=step_index,
                              report_scope="wf", report_key=name,
                              notice=pb.NoticeSpec(request_id_prefix=f"wf:notice:{name}", kind="approval_request"))


def outcome(call: Callable[[], Any]) -> Any:
    """An answer, or the error (type, code, texts, field violations)."""
    try:
        return call()
    except DomainError as err:
        return (type(err).__name__, err.code, err.zh, err.en, [(v.field, v.zh, v.en) for v in err.violations])


def scenario(store: ApprovalStore, jump: Callable[[timedelta | None], None],
             choose: Callable[[str], domain.Policy | None]) -> list[Any]:
    jump(None)
    org = Org()
    store.put_policy(request_id="pol-two", key="two", form_key="f", steps=[
        # Carbon copies on both steps: the first one reopens after p2's return (resumed at it).
        step("经理", "lead", sla="8h", cc=(user("c0"),)),
        step("总监", "boss", sla="1d", on_timeout="approve", cc=(user("c1"),))])
    store.put_policy(request_id="pol-acc", key="acceptance", form_key="f", steps=[step("验收", "acc")])
    store.put_policy(request_id="pol-solo", key="solo", form_key="g", steps=[step("经理", "lead")])
    store.put_overrides(year=2026, overrides=[Override(day=date(2026, 3, 3), kind="holiday", name="公司假日")],
                        actor_id="admin")
    got: list[Any] = []

    def plan(project_id: str, form: str, request_id: str, first: pb.OpenStepRequest | None) -> Any:
        policy = choose(form)
        assert policy is not None
        facts = domain.ProjectFacts(project_id=project_id, form_key=form, name="项目", fields={"n": 1})
        steps = domain.plan_steps(policy, facts, "rep", org)
        return outcome(lambda: store.plan_chain(
            request_id=request_id, facts=facts, submitter_id="rep", policy=policy, steps=steps,
            inputs=domain.plan_inputs(policy, facts, domain.OrgUser(id="rep")), open_first=first))

    def decide(request_id: str, task_id: str, actor: str, action: str, nxt: pb.OpenStepRequest | None = None,
               **kw: Any) -> Any:
        return outcome(lambda: store.record_decision(
            request_id=request_id, task_id=task_id, actor_id=actor, action=action, comment="意见", channel="web",
            report_scope="wf", report_key=request_id, open_next=nxt, **kw))

    p1 = plan("p1", "f", "plan-p1", opening("p1"))
    got.append(p1)
    i1 = p1.instance_id
    got.append(decide("d1", p1.first_opened.tasks[0].id, "lead", "approve", opening("p1-1", 1, i1)))
    got.append(decide("d1", p1.first_opened.tasks[0].id, "lead", "approve", opening("p1-1", 1, i1)))  # repeat
    jump(timedelta(hours=1))
    got.append(outcome(lambda: store.reassign_step(
        request_id="r1", instance_id=i1, step_index=1, from_user_id="boss", to_user_id="dir", actor_id="admin",
        comment="换人", report_scope="wf", report_key="r1")))
    got.append(outcome(lambda: store.record_action(
        request_id="a1", instance_id=i1, step_index=1, actor_id="rep", action="comment", comment="补充",
        channel="web")))
    got.append(outcome(lambda: store.record_action(
        request_id="a2", instance_id=i1, step_index=1, actor_id="rep", action="cc", comment="", channel="web",
        user_ids=["c2"])))
    jump(timedelta(days=3))  # past the second step's SLA: its timeout approves it
    got.append(outcome(lambda: store.fire_timer(request_id="t1", instance_id=i1, step_index=1, timer_index=0,
                                                report_scope="wf", report_key="t1")))
    # p2: planned, resubmitted (the first submission superseded), returned, resumed as it was.
    p2 = plan("p2", "f", "plan-p2", None)
    got.append(p2)
    p2b = plan("p2", "f", "plan-p2b", opening("p2b"))
    got.append(p2b)
    i2 = p2b.instance_id
    got.append(decide("d2", p2b.first_opened.tasks[0].id, "lead", "return"))
    got.append(outcome(lambda: store.resume_instance(
        request_id="res2", instance_id=i2, facts=domain.ProjectFacts(project_id="p2", form_key="f", name="项目"),
        actor_id="rep", open_first=opening("p2-res"))))
    # p3: returned, resumed with a new chain (the policy changed): replanned.
    p3 = plan("p3", "g", "plan-p3", opening("p3"))
    got.append(p3)
    got.append(decide("d3", p3.first_opened.tasks[0].id, "lead", "return"))
    two = choose("f")
    assert two is not None
    facts3 = domain.ProjectFacts(project_id="p3", form_key="g", name="项目")
    steps3 = domain.plan_steps(two, facts3, "rep", org)
    replan = Replan(policy=two, steps=steps3, inputs=domain.plan_inputs(two, facts3, domain.OrgUser(id="rep")),
                    reason="policy_changed")
    got.append(outcome(lambda: store.resume_instance(request_id="res3", instance_id=p3.instance_id, facts=facts3,
                                                     actor_id="rep", replan=replan, open_first=opening("p3-res"))))
    got.append(outcome(lambda: store.cancel_instance(request_id="c2", instance_id=i2, actor_id="rep",
                                                     action="withdraw", comment="撤回", channel="web")))
    # Errors: unknown instance or task, a decision on a settled task.
    for call in (
        lambda: store.fire_timer(request_id="x1", instance_id="nope", step_index=0, timer_index=0),
        lambda: store.cancel_instance(request_id="x2", instance_id="nope", actor_id="rep", action="withdraw",
                                      comment="", channel="web"),
        lambda: store.reassign_step(request_id="x3", instance_id="nope", step_index=0, from_user_id="a",
                                    to_user_id="b", actor_id="admin", comment=""),
        lambda: store.record_action(request_id="x4", instance_id="nope", step_index=0, actor_id="rep",
                                    action="comment", comment="", channel="web"),
        lambda: store.resume_instance(request_id="x5", instance_id="nope", facts=facts3, actor_id="rep"),
        lambda: store.open_step(request_id="x6", instance_id="nope", step_index=0),
        lambda: store.cancel_instance(request_id="x7", instance_id=i2, actor_id="rep", action="withdraw",
                                      comment="", channel="web"),
    ):
        got.append(outcome(call))
    got.append(decide("x8", "nope", "lead", "approve"))
    got.append(decide("x9", p1.first_opened.tasks[0].id, "lead", "approve"))
    for project_id in ("p1", "p2", "p3"):
        got.append(outcome(lambda: store.get_instance(project_id=project_id)))  # noqa: B023
    return got


def test_every_caller_answers_and_writes_as_on_the_orm_queries(
    stores: tuple[ApprovalStore, ApprovalStore], clock: Callable[[timedelta | None], None],
) -> None:
    reference, core = stores
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(aggregates, "lock", orm_lock_instance)
        mp.setattr(instances, "project_instances", orm_project_instances)
        mp.setattr(lifecycle, "project_instances", orm_project_instances)
        mp.setattr(instances, "calendar_of", orm_calendar_of)
        before = scenario(reference, clock, lambda form: orm_policy_for_form(reference.engine, form))
    after = scenario(core, clock, lambda form: core.policy_for_form(form_key=form))
    assert len(before) == len(after)
    for n, (a, b) in enumerate(zip(before, after, strict=True)):
        assert a == b, n
    # The scenario went where it should: a decision opening the next step, a reassignment, a timer
    # that fired, a replanned chain with its first step opened.
    assert after[1].next_opened.step.index == 1 and after[2] == after[1]
    assert [t.approver_id for t in after[3].new_tasks] == ["dir"] and after[6].fired
    assert after[13].replanned == "policy_changed" and after[13].HasField("first_opened")
    # p2's first step reopened on the resubmission: named its cc user again, kept its one copy.
    assert list(after[8].first_opened.cc) == list(after[10].first_opened.cc) == ["c0"]
    assert [(c.step_index, c.user_id) for c in after[-2].cc] == [(0, "c0")]
    assert rows(reference) == rows(core)
