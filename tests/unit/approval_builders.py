"""Building loaded approval instances for the domain's transition tests: planned through
``plan_instance`` like the store does, ids from a counter, times from a fixed origin."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from services.approval import domain
from services.approval.domain import Approval, PlannedStep, ProjectFacts, Task

# A Monday morning (Asia/Shanghai), so working-time units are not in play.
T0 = datetime(2025, 3, 3, 1, 0, tzinfo=UTC)
FACTS = ProjectFacts(project_id="p1", form_key="deal")


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def counter(prefix: str = "id") -> Callable[[], str]:
    numbers = itertools.count(1)
    return lambda: f"{prefix}{next(numbers)}"


# Unique ids across a test module (transitions only need them distinct).
NEXT_ID = counter("t")


def step(name: str, *approvers: str, mode: str = "any", **extra: Any) -> dict[str, Any]:
    return {"name": name, "approvers": approvers, "mode": mode, **extra}


def plan(*steps: dict[str, Any], submitter: str = "sub", facts: ProjectFacts = FACTS,
         previous: Iterable[Approval] = (), ids: Callable[[], str] | None = None) -> Approval:
    planned = [
        PlannedStep(index=i, name=s["name"], mode=s["mode"], approvers=tuple(s["approvers"]),
                    **{k: v for k, v in s.items() if k not in ("name", "mode", "approvers")})
        for i, s in enumerate(steps)
    ]
    inp = domain.PlanInput(facts, submitter, None, planned, {"project": facts.as_dict()})
    return domain.plan_instance(list(previous), inp, T0, ids or counter("i")).approval


def opened(a: Approval, index: int = 0, minutes: float = 1, ids: Callable[[], str] | None = None) -> Approval:
    return domain.open_step(a, index, at(minutes), ids or NEXT_ID).transition.approval


def task_of(a: Approval, approver: str, index: int = 0, status: str = domain.TASK_PENDING) -> Task:
    found = [t for t in a.tasks if t.approver_id == approver and t.step_index == index and t.status == status]
    assert len(found) == 1, (approver, index, status, a.tasks)
    return found[0]


def decide(a: Approval, approver: str, action: str = "approve", *, index: int = 0, minutes: float = 2,
           actor: str = "", ids: Callable[[], str] | None = None, **extra: Any) -> domain.Decided:
    task = task_of(a, approver, index)
    inp = domain.DecisionInput(task_id=task.id, actor_id=actor or approver, action=action, **extra)
    return domain.decide(a, inp, at(minutes), ids or NEXT_ID)


def statuses(a: Approval) -> list[str]:
    return [s.status for s in a.steps]


def actions(a: Approval) -> list[str]:
    return [d.action for d in a.decisions]
