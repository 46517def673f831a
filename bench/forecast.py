"""Backtest of the approval-completion forecast (services/approval/domain/forecast.py) on a
generated history whose lead times are known.

The history: policies of one to three steps; each step's approver depends on the region (so
the same policy is fast in one region and slow in another); each approver answers after a
log-normal number of working hours around their own median (from under an hour to three working
days). Approvals start at random working times over 2025–2026, on the mainland working calendar
(holidays and make-up workdays), and each step opens when the one before it is decided.

Every approval is forecast at its start from the approvals finished before then and scored at
its actual finish: mean absolute error of the forecast's P50 in working hours, against the naive
forecast (the median duration of the policy's earlier approvals), and how often the actual
finish fell inside the forecast's P10–P90 range.

    .venv/bin/python -m bench.forecast [--approvals 2000] [--seed 7]

Prints a table. No clock is read: the dates are generated."""

from __future__ import annotations

import argparse
import random
from datetime import datetime, timedelta

from baobei.workcalendar import SHANGHAI, WorkingCalendar
from services.approval.domain.forecast import PastApproval, StepSample, backtest

CALENDAR = WorkingCalendar()  # statutory: the generated history has no company days
add_working_seconds, working_seconds_between = CALENDAR.add_working_seconds, CALENDAR.working_seconds_between
START = datetime(2025, 1, 2, 9, 0, tzinfo=SHANGHAI)
SPAN_DAYS = 700
REGIONS = ("east", "south", "north", "west")
# policy → its steps: (step name, {region → approver}).
POLICIES: dict[str, list[tuple[str, dict[str, str]]]] = {
    "standard": [("经理", {"east": "mgr-fast", "south": "mgr-slow", "north": "mgr-mid", "west": "mgr-slow"})],
    "large": [("经理", {"east": "mgr-fast", "south": "mgr-slow", "north": "mgr-mid", "west": "mgr-slow"}),
              ("财务", {r: "fin" for r in REGIONS})],
    "strategic": [("经理", {"east": "mgr-fast", "south": "mgr-slow", "north": "mgr-mid", "west": "mgr-slow"}),
                  ("财务", {r: "fin" for r in REGIONS}),
                  ("总监", {"east": "dir-a", "south": "dir-a", "north": "dir-b", "west": "dir-b"})],
}
# approver → median lead time (working hours) and spread (sigma of the log).
SPEED = {"mgr-fast": (0.8, 0.6), "mgr-mid": (4.0, 0.7), "mgr-slow": (14.0, 0.6), "fin": (6.0, 0.9),
         "dir-a": (3.0, 0.5), "dir-b": (20.0, 0.7)}


def generate(n: int, rng: random.Random) -> list[PastApproval]:
    out = []
    for i in range(n):
        policy = rng.choices(list(POLICIES), weights=(6, 3, 1))[0]
        region = rng.choice(REGIONS)
        at = add_working_seconds(START + timedelta(days=rng.uniform(0, SPAN_DAYS)), 0)
        steps = []
        for name, who in POLICIES[policy]:
            approver = who[region]
            median, sigma = SPEED[approver]
            seconds = max(60.0, rng.lognormvariate(0, sigma) * median * 3600)
            decided = add_working_seconds(at, seconds)
            steps.append(StepSample(policy, name, (approver,), at, decided, seconds))
            at = decided
        out.append(PastApproval(f"a{i}", policy, tuple(steps)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--approvals", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    history = generate(args.approvals, random.Random(args.seed))
    print(f"approval-completion forecast backtest: {args.approvals} generated approvals, seed {args.seed}")
    print(f"{'policy':<10} {'scored':>7} {'MAE forecast (wh)':>18} {'MAE naive median (wh)':>22} "
          f"{'error ratio':>12} {'P10–P90 coverage':>17}")
    for name in ("all", *POLICIES):
        # The forecast learns from the whole history as it unfolds; each row scores one policy.
        score = backtest(history, add_working=add_working_seconds, working_between=working_seconds_between,
                         only="" if name == "all" else name)
        ratio = score.mae_hours / score.baseline_mae_hours if score.baseline_mae_hours else 0.0
        print(f"{name:<10} {score.evaluated:>7} {score.mae_hours:>18.2f} {score.baseline_mae_hours:>22.2f} "
              f"{ratio:>12.2f} {score.coverage:>17.1%}")


if __name__ == "__main__":
    main()
