"""Automation rules as stored (JSON bodies, versioned), their evaluation over a project's facts
(``rules.evaluate`` decides), and the fires recorded once each."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
import structlog
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from baobei.workcalendar import STATUTORY, WorkingCalendar
from services.tasks import planning, rules
from services.tasks.models import Baseline, Cost, RuleFire
from services.tasks.models import Rule as RuleRow
from services.tasks.store.rows import EVENTS, PLANS, load_tasks, table_of, today_cn

log = structlog.get_logger(__name__)


def put_rule(session: Session, *, rule: rules.Rule, body: dict[str, Any], now: datetime) -> RuleRow:
    rules.validate_rule(rule)
    row = session.get(RuleRow, rule.key)
    text = json.dumps(body, ensure_ascii=False, sort_keys=True)
    if row is None:
        row = RuleRow(key=rule.key, body=text, version=1, updated_at=now)
    elif row.body != text:
        row.body, row.version, row.updated_at = text, row.version + 1, now
    session.add(row)
    session.flush()
    return row


def list_rules(session: Session) -> list[RuleRow]:
    return list(session.exec(select(RuleRow).order_by(col(RuleRow.key))))


def _levels(value: Any) -> int:
    """JSON numbers arrive as floats through protobuf Struct; anything else is invalid (0)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or float(value) != int(value):
        return 0
    return int(value)


def parse_rule(key: str, body: dict[str, Any], version: int = 1) -> rules.Rule:
    trigger = body.get("trigger") or {}
    if not isinstance(trigger, dict):
        trigger = {}
    actions = []
    for a in body.get("actions") or []:
        if isinstance(a, dict):
            to = a.get("to") or []
            actions.append(
                rules.Action(
                    type=str(a.get("type", "")),
                    to=tuple(str(x) for x in (to if isinstance(to, list) else [to])),
                    levels=_levels(a.get("levels", 1)),
                    url=str(a.get("url", "")),
                    secret=str(a.get("secret", "") or ""),
                )
            )
    return rules.Rule(
        key=key,
        name=str(body.get("name", "")),
        trigger=str(trigger.get("type", "")),
        after=str(trigger.get("after", "") or ""),
        before=str(trigger.get("before", "") or ""),
        to_status=str(trigger.get("to", "") or ""),
        share=str(trigger.get("share", "") or ""),
        when=str(body.get("when", "") or ""),
        actions=tuple(actions),
        enabled=bool(body.get("enabled", True)),
        version=version,
    )


@dataclass
class EvalResult:
    evaluation: rules.Evaluation
    events: list[sa.Row[Any]]  # task_event rows after the cursor, in order
    last_seq: int
    # The schedule rows (with the current baseline) of the tasks the task.* events name: the
    # state their reporting payloads carry.
    rows: dict[str, planning.Row] = field(default_factory=dict)


RULES, FIRES, COSTS, BASELINES = table_of(RuleRow), table_of(RuleFire), table_of(Cost), table_of(Baseline)
# Built once (see rows.py): EvaluateRules runs on every turn of every project's execution.
_PLAN_OF = sa.select(PLANS.c.budget, PLANS.c.baseline_no).where(PLANS.c.project_id == sa.bindparam("project_id"))
_EVENTS_AFTER = (
    sa.select(EVENTS)
    .where(EVENTS.c.project_id == sa.bindparam("project_id"), EVENTS.c.id > sa.bindparam("after_seq"))
    .order_by(EVENTS.c.id)
    .limit(sa.bindparam("limit"))
)
_FIRED = sa.select(FIRES.c.key).where(FIRES.c.project_id == sa.bindparam("project_id"))
_RULES = sa.select(RULES.c.key, RULES.c.body, RULES.c.version).order_by(RULES.c.key)
_SPENT = sa.select(sa.func.coalesce(sa.func.sum(COSTS.c.amount), 0)).where(
    COSTS.c.project_id == sa.bindparam("project_id")
)
_BASELINE_OF = sa.select(BASELINES.c.task_id, BASELINES.c.start, BASELINES.c.finish).where(
    BASELINES.c.project_id == sa.bindparam("project_id"), BASELINES.c.number == sa.bindparam("number")
)

_parsed: dict[tuple[str, int, str], rules.Rule] = {}
PARSED_MAX = 1024


def stored_rule(key: str, body: str, version: int) -> rules.Rule:
    """``parse_rule`` of a stored rule, kept by (key, version, body): rules are read on every
    evaluation and change rarely (a Rule is immutable, so sharing it is safe)."""
    cache_key = (key, version, body)
    rule = _parsed.get(cache_key)
    if rule is None:
        if len(_parsed) >= PARSED_MAX:
            _parsed.clear()
        rule = _parsed[cache_key] = parse_rule(key, json.loads(body), version)
    return rule


def evaluate_rules(
    engine: Engine,
    *,
    project: rules.ProjectFacts,
    now: datetime,
    after_seq: int,
    limit: int = 200,
    calendar: WorkingCalendar | rules.CalendarProvider = STATUTORY,
) -> EvalResult:
    """The project's evaluation at ``now`` from its stored plan, events after ``after_seq``, rules
    and fires; ``calendar`` as in ``rules.evaluate`` (a provider is asked only if an offset needs
    it, after the reads)."""
    params = {"project_id": project.id}
    with engine.connect() as conn:
        tasks = load_tasks(conn, project_id=project.id)
        plan = conn.execute(_PLAN_OF, params).first()
        events = list(conn.execute(_EVENTS_AFTER, {"project_id": project.id, "after_seq": after_seq, "limit": limit}))
        fired = set(conn.execute(_FIRED, params).scalars())
        rule_list = [stored_rule(r.key, r.body, r.version) for r in conn.execute(_RULES)]
        spent = conn.execute(_SPENT, params).scalar_one()
        reported = {e.task_id for e in events if e.kind.startswith("task.")}
        baseline: dict[str, tuple[date, date]] = {}
        if reported and plan is not None and plan.baseline_no > 0:
            baseline = {
                b.task_id: (b.start, b.finish)
                for b in conn.execute(_BASELINE_OF, {"project_id": project.id, "number": plan.baseline_no})
            }
    budget = plan.budget if plan is not None and plan.budget is not None else project.amount
    # The baseline changes only the rows' baseline dates and variance, which no rule reads.
    schedule = planning.build(tasks, today=today_cn(now), baseline=baseline)
    by_row = {r.task.id: r for r in schedule.rows}
    downstream: dict[str, list[str]] = defaultdict(list)
    for t in tasks:
        for d in t.depends_on:
            if t.assignee_id:
                downstream[d.task_id].append(t.assignee_id)
    facts = [
        rules.TaskFacts(
            id=t.id,
            name=t.name,
            assignee_id=t.assignee_id,
            status=t.status.value,
            milestone=t.milestone,
            due=t.due or (by_row[t.id].finish if t.id in by_row and t.milestone else None),
            progress=t.progress,
            critical=by_row[t.id].critical if t.id in by_row else False,
            slack_days=by_row[t.id].slack if t.id in by_row else 0,
            downstream_assignees=tuple(dict.fromkeys(downstream.get(t.id, []))),
        )
        for t in tasks
    ]
    status_events = [
        rules.TaskEvent(seq=int(e.id or 0), task_id=e.task_id, from_status=e.from_status, to_status=e.to_status)
        for e in events
        if e.kind == "task.updated" and e.from_status != e.to_status
    ]
    facts_project = replace(project, budget=Decimal(budget or 0), spent=Decimal(spent))
    evaluation = rules.evaluate(
        rule_list, project=facts_project, tasks=facts, events=status_events, now=now, fired=fired, calendar=calendar
    )
    last = int(events[-1].id or after_seq) if events else after_seq
    return EvalResult(evaluation=evaluation, events=events, last_seq=last,
                      rows={i: r for i, r in by_row.items() if i in reported})


def record_fire(session: Session, *, fire: RuleFire) -> bool:
    """Record a fire once; a second record of the same key changes nothing."""
    if session.get(RuleFire, fire.key) is not None:
        return False
    try:
        with session.begin_nested():
            session.add(fire)
    except IntegrityError:
        return False
    log.info("rule.fired", project_id=fire.project_id, rule=fire.rule_key, task_id=fire.task_id, key=fire.key)
    return True


def fires_of(engine: Engine, *, project_id: str) -> list[RuleFire]:
    with Session(engine) as session:
        return list(
            session.exec(select(RuleFire).where(RuleFire.project_id == project_id).order_by(col(RuleFire.fired_at)))
        )
