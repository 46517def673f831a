"""CEL evaluated from many threads at once (the services serve from thread pools): every answer
must be computed from its own inputs. celpy's transpiled programs used to share their activation
and lambdas through module globals, so concurrent evaluations answered with each other's data."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator
from decimal import Decimal

import pytest

from baobei.core import cel
from services.approval import domain
from services.approval.domain import OrgUser, ProjectFacts
from services.registry import cel as form_cel

THREADS = 4
PER_THREAD = 1500


@pytest.fixture(autouse=True)
def _switch_often() -> Iterator[None]:
    """Let threads interleave every few bytecodes, as a loaded server does now and then."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    yield
    sys.setswitchinterval(before)


def _hammer(check: Callable[[int, int], bool]) -> list[tuple[int, int]]:
    """Run ``check(thread, i)`` PER_THREAD times in each of THREADS threads; the failures."""
    wrong: list[tuple[int, int]] = []
    lock = threading.Lock()
    start = threading.Barrier(THREADS)

    def work(t: int) -> None:
        start.wait()
        bad = [(t, i) for i in range(PER_THREAD) if not check(t, i)]
        with lock:
            wrong.extend(bad)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(THREADS)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return wrong


def test_one_program_many_inputs_core() -> None:
    expr = "project.amount * 2.0 + (project.region == 'east' ? 1.0 : 0.0)"
    other = "size(project.region) + 100"  # a second program running at the same time

    def check(t: int, i: int) -> bool:
        amount = float(t * 1_000_000 + i)
        region = "east" if i % 2 else "west"
        ctx = {"project": cel.to_cel({"amount": amount, "region": region})}
        if i % 3 == 0 and cel.evaluate(other, ctx) != 104:
            return False
        return float(cel.evaluate(expr, ctx)) == amount * 2 + (1.0 if region == "east" else 0.0)

    assert _hammer(check) == []


def test_policy_conditions_never_see_another_projects_amount() -> None:
    whens = ["project.amount >= 500000.0", "project.region == 'east'", "submitter.department_id == 'team'"]

    def check(t: int, i: int) -> bool:
        amount = Decimal(900000 if (t + i) % 2 else 100000)
        region = "east" if i % 3 else "north"
        facts = ProjectFacts(project_id=f"p{t}-{i}", form_key="f", amount=amount, region=region)
        act = domain.activation(facts, OrgUser("rep", "team" if t % 2 else "ops"))
        single = domain.evaluate_when(whens[0], act)
        batch = domain.evaluate_whens(whens, act)
        expected = [amount >= 500000, region == "east", t % 2 == 1]
        return single == expected[0] and batch == expected

    assert _hammer(check) == []


def test_form_rules_see_their_own_fields() -> None:
    expr = "double(fields.seats) * 10.0 == project.amount"

    def check(t: int, i: int) -> bool:
        seats = t * 10_000 + i
        right = form_cel.activation({"seats": seats}, {"amount": float(seats * 10)})
        wrong = form_cel.activation({"seats": seats}, {"amount": float(seats * 10 + 1)})
        return form_cel.holds(expr, right) is True and form_cel.holds(expr, wrong) is False

    assert _hammer(check) == []


def test_transpiled_and_interpreted_answers_agree() -> None:
    ctx = {"project": cel.to_cel({"amount": 5.0, "tags": ["a", "b"], "m": {"k": 1}})}
    assert cel.evaluate("project.tags.exists(t, t == 'b') && project.m.k == 1", ctx) is not None
    assert cel.holds("project.tags.exists(t, t == 'b') && project.m.k == 1", ctx) is True
    assert cel.holds("project.missing > 1", ctx) is None
    assert cel.holds("1 / 0 == 1 || true", ctx) is True
    assert cel.evaluate_all(["project.amount > 1.0", "project.amount > 9.0"], ctx) == [True, False]
    assert cel.evaluate_all(["project.amount > 1.0", "project.nope > 9.0"], ctx) is None
    assert cel.parse_problem("project.amount >") != ""
    assert cel.problem("projet.amount > 1", ctx) == ("undeclared", "projet")
