"""PlanChain's ``open_first`` opens the first step on the planned instance before anything is
written, and writes the instance with its opening in one go: the answer and every row must be
exactly what planning, then OpenStep with that request, gives — the same instance and steps, tasks,
audit trail, carbon copies, closings of a superseded submission, reporting event, approval
requests and the OpenStep answer recorded under its request id. Two databases run the two ways
with the same ids and the same clock, and are compared row by row (the store in-process)."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from baobei.approval.v1 import approval_service_pb2 as pb
from baobei.core.db import make_engine
from baobei.core.migrations import upgrade
from baobei.reporting.v1 import reporting_service_pb2 as reporting_pb
from services.approval import domain, reporting_outbox
from services.approval.store import ApprovalStore, aggregates, instances

T0 = datetime(2026, 3, 2, 1, 30, tzinfo=UTC)  # a Monday, 09:30 in Shanghai

TABLES = ("approval_instance", "approval_step", "approval_task", "approval_decision", "approval_cc",
          "approval_task_closing", "event_outbox", "notice_outbox")
# Written at the wall clock by code outside the approval store.
WALL_CLOCK = {"event_outbox": "created_at", "notice_outbox": "created_at"}
# Protobuf maps have no stable order on the wire: compared decoded.
DECODED: dict[str, Any] = {"event_outbox": reporting_pb.Event, "notice_outbox": pb.Notice}


class Org:
    def get_user(self, user_id: str) -> domain.OrgUser | None:
        return domain.OrgUser(id=user_id)

    def users_with_role(self, role: str) -> list[str]:
        return ["fin1", "fin2"] if role == "finance" else []

    def manager_chain(self, user_id: str) -> list[str]:
        return ["boss"]


def user(user_id: str) -> domain.ApproverSpec:
    return domain.ApproverSpec(type="user", user_id=user_id)


NOBODY = domain.ApproverSpec(type="manager_level", level=9)
POLICIES: dict[str, tuple[list[domain.StepSpec], domain.PolicyOptions]] = {
    "pending": ([domain.StepSpec(name="经理", approvers=user("lead"), sla="8h", cc=(user("c1"), user("c2"))),
                 domain.StepSpec(name="总监", approvers=user("boss"))], domain.PolicyOptions()),
    "sequential": ([domain.StepSpec(name="财务", approvers=domain.ApproverSpec(type="role", role="finance"),
                                    mode="sequential", sla="1d")], domain.PolicyOptions()),
    "self": ([domain.StepSpec(name="经理", approvers=user("rep"))],
             domain.PolicyOptions(on_submitter_is_approver="self_approve")),
    "skipped": ([domain.StepSpec(name="空", approvers=NOBODY), domain.StepSpec(name="经理", approvers=user("lead"))],
                domain.PolicyOptions()),
    "blocked": ([domain.StepSpec(name="空", approvers=NOBODY)], domain.PolicyOptions(on_no_approver="block")),
}


@pytest.fixture()
def fixed(monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    """Ids and the approval clock repeat from the start each time the returned reset is called."""
    state: dict[str, Any] = {}

    def reset() -> None:
        state["ids"] = itertools.count(1)
        state["ticks"] = itertools.count()

    def now() -> datetime:
        return T0 + timedelta(milliseconds=next(state["ticks"]))

    class Clock(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> Clock:
            at = now()
            return cls(at.year, at.month, at.day, at.hour, at.minute, at.second, at.microsecond, at.tzinfo)

    reset()
    monkeypatch.setattr(uuid, "uuid4", lambda: uuid.UUID(int=next(state["ids"])))  # domain.new_id
    monkeypatch.setattr(instances, "now_utc", now)
    monkeypatch.setattr(aggregates, "now_utc", now)
    monkeypatch.setattr(reporting_outbox, "datetime", Clock)
    return reset


@pytest.fixture()
def stores(make_db_url: Callable[[str], str]) -> Iterator[tuple[ApprovalStore, ApprovalStore]]:
    engines = []
    for _ in range(2):
        url = make_db_url("approval")
        upgrade("approval", url)
        engines.append(make_engine(url))
    try:
        yield ApprovalStore(engines[0]), ApprovalStore(engines[1])
    finally:
        for engine in engines:
            engine.dispose()


def rows(store: ApprovalStore) -> dict[str, list[tuple[Any, ...]]]:
    out: dict[str, list[tuple[Any, ...]]] = {}
    meta = sa.MetaData()
    with store.engine.connect() as conn:
        for name in TABLES:
            table = sa.Table(name, meta, autoload_with=conn)
            cols = [c for c in table.columns if c.name != WALL_CLOCK.get(name)]
            found = [tuple(r) for r in conn.execute(sa.select(*cols))]
            if name in DECODED:
                found = [tuple(DECODED[name].FromString(v) if isinstance(v, bytes) else v for v in r) for r in found]
            out[name] = sorted(found, key=repr)
        log = sa.Table("processed_request", meta, autoload_with=conn)
        recorded = conn.execute(sa.select(log.c.request_id, log.c.response).where(log.c.method == "OpenStep"))
        out["open_step_answers"] = sorted((r[0], pb.OpenStepResponse.FromString(r[1])) for r in recorded)
    return out


def plan(store: ApprovalStore, key: str, project_id: str, request_id: str,
         open_first: pb.OpenStepRequest | None) -> pb.PlanChainResponse:
    policy = store.policy(key=key)
    facts = domain.ProjectFacts(project_id=project_id, form_key=key, name="项目", fields={"n": 1})
    steps = domain.plan_steps(policy, facts, "rep", Org())
    return store.plan_chain(request_id=request_id, facts=facts, submitter_id="rep", policy=policy, steps=steps,
                            inputs=domain.plan_inputs(policy, facts, domain.OrgUser(id="rep")), open_first=open_first)


def opening(n: int) -> pb.OpenStepRequest:
    """The workflow's OpenStep of a round's first step, asked before the instance exists."""
    return pb.OpenStepRequest(request_id=f"wf:open:{n}:0:1", step_index=0, report_scope="wf", report_key=str(n),
                              notice=pb.NoticeSpec(request_id_prefix=f"wf:notice:{n}", kind="approval_request"))


@pytest.mark.parametrize("key", sorted(POLICIES))
def test_planning_with_open_first_is_planning_then_open_step(
    key: str, stores: tuple[ApprovalStore, ApprovalStore], fixed: Callable[[], None],
) -> None:
    answers: list[list[Any]] = []
    for together, store in zip((True, False), stores, strict=True):
        fixed()
        steps, options = POLICIES[key]
        store.put_policy(request_id="policy", key=key, form_key=key, steps=steps, options=options)
        got: list[Any] = []
        # A submission, then a resubmission superseding it (its open tasks closed).
        for n in (1, 2):
            req = opening(n)
            planned = plan(store, key, "p1", f"plan-{n}", req if together else None)
            if together:
                assert planned.HasField("first_opened")
                opened = pb.OpenStepResponse()
                opened.CopyFrom(planned.first_opened)
                planned.ClearField("first_opened")
            else:
                opened = store.open_step(request_id=req.request_id, instance_id=planned.instance_id, step_index=0,
                                         report_scope=req.report_scope, report_key=req.report_key, notice=req.notice)
            got += [planned, opened]
            # A later OpenStep under that request id (the workflow's own) answers the same opening.
            assert store.open_step(request_id=req.request_id, instance_id=planned.instance_id,
                                   step_index=0) == opened
        answers.append(got)
    assert answers[0] == answers[1]
    assert rows(stores[0]) == rows(stores[1])
