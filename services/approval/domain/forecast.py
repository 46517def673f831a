"""When will a pending approval be done? A forecast from the lead times of earlier steps, on the
working calendar of the SLAs (a weekend or the National Day week is not waiting time).

Lead time of a step = working seconds from its opening to its decision. For each step still to
run, the samples come from the narrowest history that has enough of them (``MIN_SAMPLES``):

1. the same policy, step and approvers (``approvers``: the same people are as fast as before),
2. the same policy and step (``step``),
3. the same policy, any step (``policy``),
4. every step of every policy (``all``).

The open step has already waited ``elapsed``: only samples longer than that count, less what has
passed (an approver who has not answered in two days is not expected within the hour). When no
sample is that long, the step is already slower than anything seen: half a working day is
assumed (``overdue``).

The remaining working time is the sum of the steps' lead times; its distribution is sampled
(``DRAWS`` draws, a generator seeded from the instance, so the same state gives the same answer)
and read at P10 / P50 / P90: the expected time and an 80 % range. ``backtest`` replays a history
in time order and scores the P50 against the naive forecast (the median total duration of the
policy's earlier approvals), in working hours.

Pure functions: the store loads history and supplies the calendar."""

from __future__ import annotations

import hashlib
import random
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

MIN_SAMPLES = 5
DRAWS = 2000
# An open step longer than every sample: assume this much more (half a working day).
OVERDUE_SECONDS = 4 * 3600.0
LEVELS = ("approvers", "step", "policy", "all")

AddWorking = Callable[[datetime, float], datetime]
WorkingBetween = Callable[[datetime, datetime], float]


@dataclass(frozen=True)
class StepSample:
    """One decided step of the history."""

    policy_key: str
    step_name: str
    approvers: tuple[str, ...]
    opened_at: datetime
    decided_at: datetime
    # Working seconds from opened to decided.
    seconds: float


@dataclass(frozen=True)
class StepToRun:
    step_name: str
    approvers: tuple[str, ...]
    # When the step is open: since when (else None: it opens after the ones before it).
    opened_at: datetime | None = None


@dataclass(frozen=True)
class StepBasis:
    step_name: str
    # approvers | step | policy | all | overdue | none
    level: str
    samples: int


@dataclass(frozen=True)
class Forecast:
    expected_at: datetime
    low_at: datetime
    high_at: datetime
    # Working hours still to go at P50.
    remaining_hours: float
    basis: list[StepBasis] = field(default_factory=list)


class History:
    """Lead times indexed by the levels of the fallback."""

    def __init__(self, samples: Iterable[StepSample]) -> None:
        self.by: dict[tuple[str, ...], list[float]] = defaultdict(list)
        for s in samples:
            self.add(s)

    def add(self, s: StepSample) -> None:
        for key in self._keys(s.policy_key, s.step_name, s.approvers):
            self.by[key].append(s.seconds)

    @staticmethod
    def _keys(policy: str, step: str, approvers: tuple[str, ...]) -> list[tuple[str, ...]]:
        return [("approvers", policy, step, *sorted(approvers)), ("step", policy, step), ("policy", policy), ("all",)]

    def lead_times(self, policy: str, step: StepToRun) -> tuple[str, list[float]]:
        """(level, samples) of the narrowest level with at least MIN_SAMPLES (else the widest)."""
        found: tuple[str, list[float]] = ("none", [])
        for key in self._keys(policy, step.step_name, step.approvers):
            values = self.by.get(key, [])
            if len(values) >= MIN_SAMPLES:
                return key[0], values
            if values and not found[1]:
                found = (key[0], values)
        return found


def _seed(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


def _quantile(sorted_values: Sequence[float], q: float) -> float:
    index = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[index]


def forecast(
    history: History,
    policy_key: str,
    steps: Sequence[StepToRun],
    *,
    now: datetime,
    seed: str,
    add_working: AddWorking,
    working_between: WorkingBetween,
) -> Forecast | None:
    """The forecast for ``steps`` (the open one first, then those after it); None when there is
    no history at all for some step."""
    pools: list[list[float]] = []
    basis: list[StepBasis] = []
    for step in steps:
        level, values = history.lead_times(policy_key, step)
        if not values:
            return None
        if step.opened_at is not None:
            elapsed = working_between(step.opened_at, now)
            longer = [v - elapsed for v in values if v > elapsed]
            if longer:
                values = longer
            else:
                level, values = "overdue", [OVERDUE_SECONDS]
        pools.append(values)
        basis.append(StepBasis(step.step_name, level, len(values)))
    if not pools:
        return None
    rng = random.Random(_seed(seed))
    totals = sorted(sum(rng.choice(pool) for pool in pools) for _ in range(DRAWS))
    low, mid, high = (_quantile(totals, q) for q in (0.1, 0.5, 0.9))
    return Forecast(
        expected_at=add_working(now, mid),
        low_at=add_working(now, low),
        high_at=add_working(now, high),
        remaining_hours=round(mid / 3600, 1),
        basis=basis,
    )


# ---------------------------------------------------------------- backtest


@dataclass(frozen=True)
class PastApproval:
    """A finished approval: its policy and its decided steps in order."""

    id: str
    policy_key: str
    steps: tuple[StepSample, ...]

    @property
    def started_at(self) -> datetime:
        return self.steps[0].opened_at

    @property
    def finished_at(self) -> datetime:
        return self.steps[-1].decided_at


@dataclass(frozen=True)
class Score:
    evaluated: int
    # Mean absolute error of the P50, working hours: the forecast and the naive median.
    mae_hours: float
    baseline_mae_hours: float
    # Share of actual finishes inside the P10–P90 range.
    coverage: float


def backtest(
    past: Sequence[PastApproval], *, add_working: AddWorking, working_between: WorkingBetween, warmup: int = 50,
    only: str = "",
) -> Score:
    """Each approval (of policy ``only`` when given) is forecast at its start from the approvals
    finished before then (after the first ``warmup``, so there is history to learn from) and
    scored at its actual finish."""
    done = sorted(past, key=lambda p: p.finished_at)
    todo = sorted(past, key=lambda p: p.started_at)
    history, totals = History(()), defaultdict(list)
    errors, naive, inside = [], [], 0
    learned = 0
    for approval in todo:
        while learned < len(done) and done[learned].finished_at <= approval.started_at:
            finished = done[learned]
            for s in finished.steps:
                history.add(s)
            totals[finished.policy_key].append(working_between(finished.started_at, finished.finished_at))
            learned += 1
        if learned < warmup or not totals[approval.policy_key] or (only and approval.policy_key != only):
            continue
        steps = [StepToRun(s.step_name, s.approvers) for s in approval.steps]
        steps[0] = StepToRun(steps[0].step_name, steps[0].approvers, opened_at=approval.started_at)
        f = forecast(history, approval.policy_key, steps, now=approval.started_at, seed=approval.id,
                     add_working=add_working, working_between=working_between)
        if f is None:
            continue
        actual = working_between(approval.started_at, approval.finished_at)
        predicted = working_between(approval.started_at, f.expected_at)
        errors.append(abs(predicted - actual))
        naive.append(abs(statistics.median(totals[approval.policy_key]) - actual))
        if f.low_at <= approval.finished_at <= f.high_at:
            inside += 1
    if not errors:
        return Score(0, 0.0, 0.0, 0.0)
    return Score(len(errors), round(statistics.fmean(errors) / 3600, 2), round(statistics.fmean(naive) / 3600, 2),
                 round(inside / len(errors), 3))
