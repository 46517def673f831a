"""The rule engine's pure half: rules as data (trigger, CEL condition, actions), their validation,
and ``evaluate`` — given the plan, the new task events and the time, which fires are due now and
when the next one will be. The execution workflow sleeps on a durable timer until that time (or
until a task event wakes it), so nothing polls; each fire has a stable key and is recorded once.

Triggers: ``overdue`` (``after`` past the end of the due date, Asia/Shanghai), ``due_soon``
(``before`` the end of the due date) — both count only the hours of working days on the company
calendar (statutory + overrides, ``baobei.workcalendar``), so "overdue 24h" on a Friday's task
fires on Tuesday, not on Sunday —, ``milestone_done``, ``status_change`` (optionally ``to`` a
status), ``budget_share`` (actual cost ≥ ``share`` × budget), ``protection_expiring`` (``before``
the end of the project's protection period, which the workflow reads from the registry; once per
period end). Actions: ``notify`` (``to``: assignee, owner, downstream_assignees, ``user:<id>``,
``role:<role>``), ``escalate`` (``levels`` up the assignee's manager chain), ``webhook`` (``url``,
``secret`` ``whsec_<base64>``: the workflow POSTs the fire, signed per Standard Webhooks).
"""

from __future__ import annotations

import base64
import binascii
import functools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any

from baobei.core import cel
from baobei.core.errors import FieldViolation, ValidationFailed
from baobei.workcalendar import STATUTORY, WorkingCalendar

SHANGHAI = timezone(timedelta(hours=8))
TRIGGERS = ("overdue", "due_soon", "milestone_done", "status_change", "budget_share", "protection_expiring")
ACTIONS = ("notify", "escalate", "webhook")
SYMBOLIC = ("assignee", "owner", "downstream_assignees")
STATUSES = ("todo", "in_progress", "done", "blocked")
_DURATION = re.compile(r"^(\d+)\s*(m|h|d)$")
_KEY = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,62}$")
# A zero-argument source of the working calendar (the tasks service reads it from approval): called
# only when an evaluation has an offset from a due date to count, at most once per evaluation.
CalendarProvider = Callable[[], WorkingCalendar]


def parse_duration(text: str) -> timedelta | None:
    m = _DURATION.match(text.strip().lower())
    if not m:
        return None
    n, unit = int(m.group(1)), m.group(2)
    return {"m": timedelta(minutes=n), "h": timedelta(hours=n), "d": timedelta(days=n)}[unit]


@dataclass(frozen=True)
class Action:
    type: str
    to: tuple[str, ...] = ()
    levels: int = 1
    url: str = ""
    # webhook: Standard Webhooks signing secret "whsec_<base64>"
    secret: str = ""


@dataclass(frozen=True)
class Rule:
    key: str
    name: str
    trigger: str
    after: str = ""
    before: str = ""
    to_status: str = ""
    share: str = ""
    when: str = ""
    actions: tuple[Action, ...] = ()
    enabled: bool = True
    version: int = 1


DEFAULT_RULES: tuple[Rule, ...] = (
    Rule(
        key="task-overdue-24h",
        name="任务逾期 24 小时提醒",
        trigger="overdue",
        after="24h",
        actions=(Action(type="notify", to=("assignee", "owner")),),
    ),
    Rule(
        key="milestone-done-downstream",
        name="里程碑完成通知下游负责人",
        trigger="milestone_done",
        actions=(Action(type="notify", to=("downstream_assignees",)),),
    ),
)


def validate_rule(rule: Rule) -> None:
    v: list[FieldViolation] = []
    if not _KEY.match(rule.key):
        v.append(FieldViolation("key", "规则标识只能包含小写字母、数字、-、_、.", "key must be lowercase [a-z0-9_.-]"))
    if not rule.name.strip() or len(rule.name) > 200:
        v.append(FieldViolation("name", "规则名称为必填项（最多 200 字）", "name is required (at most 200 characters)"))
    if rule.trigger not in TRIGGERS:
        v.append(FieldViolation("trigger.type", f"触发类型必须是 {', '.join(TRIGGERS)} 之一", "unknown trigger type"))
    if rule.trigger == "overdue" and parse_duration(rule.after or "0h") is None:
        v.append(FieldViolation("trigger.after", "时长格式如 30m、24h、2d", "a duration like 30m, 24h, 2d"))
    if rule.trigger in ("due_soon", "protection_expiring") and parse_duration(rule.before) is None:
        v.append(FieldViolation("trigger.before", "时长格式如 30m、24h、2d", "a duration like 30m, 24h, 2d"))
    if rule.trigger == "status_change" and rule.to_status and rule.to_status not in STATUSES:
        v.append(FieldViolation("trigger.to", "状态必须是 todo、in_progress、done 或 blocked", "unknown status"))
    if rule.trigger == "budget_share":
        try:
            share = Decimal(rule.share)
            ok = share.is_finite() and 0 < share <= 10
        except ArithmeticError:
            ok = False
        if not ok:
            v.append(FieldViolation("trigger.share", "预算比例必须在 0 到 10 之间，如 0.8", "share must be in (0, 10]"))
    if rule.when.strip():
        err = cel.parse_problem(rule.when)
        if err:
            v.append(FieldViolation("when", f"条件表达式无效：{err}", f"invalid CEL expression: {err}"))
    if not rule.actions:
        v.append(FieldViolation("actions", "至少需要一个动作", "at least one action is required"))
    for i, a in enumerate(rule.actions):
        path = f"actions[{i}]"
        if a.type not in ACTIONS:
            v.append(FieldViolation(f"{path}.type", "动作必须是 notify、escalate 或 webhook", "unknown action type"))
        if a.type == "notify":
            if not a.to:
                v.append(FieldViolation(f"{path}.to", "通知对象为必填项", "to is required"))
            for j, who in enumerate(a.to):
                if who not in SYMBOLIC and not re.match(r"^(user|role):\S{1,100}$", who):
                    v.append(
                        FieldViolation(
                            f"{path}.to[{j}]",
                            "通知对象须为 assignee、owner、downstream_assignees、user:<id> 或 role:<角色>",
                            "must be assignee, owner, downstream_assignees, user:<id> or role:<role>",
                        )
                    )
        if a.type == "escalate" and not 1 <= a.levels <= 5:
            v.append(FieldViolation(f"{path}.levels", "升级层级必须在 1 到 5 之间", "levels must be 1–5"))
        if a.type == "webhook" and not re.match(r"^https?://\S+$", a.url):
            v.append(FieldViolation(f"{path}.url", "回调地址必须是 http(s) URL", "url must be an http(s) URL"))
        if a.type == "webhook" and not valid_secret(a.secret):
            v.append(
                FieldViolation(
                    f"{path}.secret",
                    "签名密钥须为 whsec_ 加 Base64（至少 16 字节）",
                    "secret must be whsec_ followed by base64 (at least 16 bytes)",
                )
            )
    if v:
        raise ValidationFailed(v)


def valid_secret(secret: str) -> bool:
    if not secret.startswith("whsec_"):
        return False
    try:
        return len(base64.b64decode(secret[6:], validate=True)) >= 16
    except (binascii.Error, ValueError):
        return False


# ---------------------------------------------------------------- evaluation


@dataclass(frozen=True)
class TaskFacts:
    id: str
    name: str
    assignee_id: str
    status: str
    milestone: bool
    due: date | None
    progress: int = 0
    critical: bool = False
    slack_days: int = 0
    downstream_assignees: tuple[str, ...] = ()


@dataclass(frozen=True)
class TaskEvent:
    seq: int
    task_id: str
    from_status: str
    to_status: str


@dataclass(frozen=True)
class ProjectFacts:
    id: str
    owner_id: str
    name: str = ""
    business_line: str = ""
    amount: Decimal = Decimal(0)
    budget: Decimal = Decimal(0)
    spent: Decimal = Decimal(0)
    # End of the project's protection period (保护期) while it is protected, else None.
    protection_until: datetime | None = None


@dataclass(frozen=True)
class Fire:
    key: str
    rule_key: str
    task_id: str
    title: str
    body: str
    user_ids: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    # (user whose managers to notify, levels)
    escalate: tuple[tuple[str, int], ...] = ()
    webhooks: tuple[str, ...] = ()


@dataclass
class Evaluation:
    fires: list[Fire] = field(default_factory=list)
    next_wake: datetime | None = None
    errors: list[str] = field(default_factory=list)


def due_end(due: date) -> datetime:
    """A due date ends at the following midnight in Asia/Shanghai."""
    return datetime.combine(due + timedelta(days=1), time(0), tzinfo=SHANGHAI)


def _activation(project: ProjectFacts, task: TaskFacts | None, event: TaskEvent | None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "project": {
            "id": project.id,
            "owner_id": project.owner_id,
            "business_line": project.business_line,
            "amount": float(project.amount),
            "budget": float(project.budget),
            "spent": float(project.spent),
            "protection_until": project.protection_until.isoformat() if project.protection_until else "",
        },
        "task": {},
        "event": {},
    }
    if task is not None:
        data["task"] = {
            "id": task.id,
            "name": task.name,
            "assignee_id": task.assignee_id,
            "status": task.status,
            "milestone": task.milestone,
            "due": task.due.isoformat() if task.due else "",
            "progress": task.progress,
            "critical": task.critical,
            "slack_days": task.slack_days,
        }
    if event is not None:
        data["event"] = {"from": event.from_status, "to": event.to_status}
    return {k: cel.to_cel(v) for k, v in data.items()}


def _holds(rule: Rule, project: ProjectFacts, task: TaskFacts | None, event: TaskEvent | None, out: Evaluation) -> bool:
    if not rule.when.strip():
        return True
    try:
        result = cel.evaluate(rule.when, _activation(project, task, event))
    except Exception as err:  # a rule that cannot be evaluated does not fire; it is reported
        out.errors.append(f"{rule.key}: {err}")
        return False
    return bool(result)


_TITLES = {
    "overdue": ("任务已逾期：{task}", "截止日期 {due}，仍未完成。"),
    "due_soon": ("任务即将到期：{task}", "截止日期 {due}。"),
    "milestone_done": ("里程碑已完成：{task}", "可以开始后续工作。"),
    "status_change": ("任务状态变更：{task}", "{from_status} → {to_status}"),
    "budget_share": ("项目成本已达预算的 {share}%：{project}", "实际成本 {spent} 元，预算 {budget} 元。"),
    "protection_expiring": ("保护期即将到期：{project}", "保护期至 {until}，请及时跟进以延长保护期。"),
}


def _fire(rule: Rule, key: str, project: ProjectFacts, task: TaskFacts | None, **fmt: Any) -> Fire:
    users: list[str] = []
    roles: list[str] = []
    escalate: list[tuple[str, int]] = []
    hooks: list[str] = []
    for a in rule.actions:
        if a.type == "notify":
            for who in a.to:
                if who == "assignee" and task and task.assignee_id:
                    users.append(task.assignee_id)
                elif who == "owner" and project.owner_id:
                    users.append(project.owner_id)
                elif who == "downstream_assignees" and task:
                    users.extend(task.downstream_assignees)
                elif who.startswith("user:"):
                    users.append(who[5:])
                elif who.startswith("role:"):
                    roles.append(who[5:])
        elif a.type == "escalate":
            base = (task.assignee_id if task and task.assignee_id else "") or project.owner_id
            if base:
                escalate.append((base, a.levels))
        elif a.type == "webhook":
            hooks.append(a.url)
    title_t, body_t = _TITLES.get(rule.trigger, ("{task}", ""))
    values = {"task": task.name if task else "", "due": task.due if task else "", "project": project.name, **fmt}
    return Fire(
        key=key,
        rule_key=rule.key,
        task_id=task.id if task else "",
        title=title_t.format(**values),
        body=f"{body_t.format(**values)}\n规则：{rule.name}",
        user_ids=tuple(dict.fromkeys(users)),
        roles=tuple(dict.fromkeys(roles)),
        escalate=tuple(escalate),
        webhooks=tuple(hooks),
    )


def evaluate(
    rules: Iterable[Rule],
    *,
    project: ProjectFacts,
    tasks: list[TaskFacts],
    events: list[TaskEvent],
    now: datetime,
    fired: set[str],
    calendar: WorkingCalendar | CalendarProvider = STATUTORY,
) -> Evaluation:
    """Fires due at ``now`` (minus those in ``fired``) and the earliest future fire time; offsets
    from due dates count working-day hours on ``calendar``. A provider (``CalendarProvider``) is
    called only when an offset must be counted (an enabled ``overdue``/``due_soon`` rule with a
    non-zero offset, on an open task with a due date, not yet fired) and at most once; whatever it
    raises passes through."""
    out = Evaluation()
    by_id = {t.id: t for t in tasks}
    # The provider's first answer kept for this evaluation (a raised error is not kept).
    working: CalendarProvider = (
        (lambda: calendar) if isinstance(calendar, WorkingCalendar) else functools.cache(calendar)
    )

    def wake(at: datetime) -> None:
        if out.next_wake is None or at < out.next_wake:
            out.next_wake = at

    for rule in rules:
        if not rule.enabled:
            continue
        if rule.trigger in ("overdue", "due_soon"):
            offset = parse_duration(rule.after or "0h" if rule.trigger == "overdue" else rule.before) or timedelta(0)
            for t in tasks:
                if t.due is None or t.status == "done":
                    continue
                key = f"{rule.key}:{t.id}:{t.due.isoformat()}"
                if key in fired:
                    continue
                if rule.trigger == "due_soon" and now >= due_end(t.due):
                    continue  # already past due: "due soon" no longer makes sense
                shift = offset if rule.trigger == "overdue" else -offset
                at = working().shift_working_hours(due_end(t.due), shift) if offset else due_end(t.due)
                if at > now:
                    wake(at)
                elif _holds(rule, project, t, None, out):
                    out.fires.append(_fire(rule, key, project, t))
        elif rule.trigger in ("milestone_done", "status_change"):
            for e in events:
                task = by_id.get(e.task_id)
                if task is None:
                    continue
                if rule.trigger == "milestone_done" and not (task.milestone and e.to_status == "done"):
                    continue
                if rule.trigger == "status_change" and rule.to_status and e.to_status != rule.to_status:
                    continue
                key = f"{rule.key}:{e.task_id}:{e.seq}"
                if key not in fired and _holds(rule, project, task, e, out):
                    out.fires.append(_fire(rule, key, project, task, from_status=e.from_status, to_status=e.to_status))
        elif rule.trigger == "budget_share":
            share = Decimal(rule.share or "1")
            key = f"{rule.key}:{project.id}:{share}"
            reached = project.budget > 0 and project.spent >= project.budget * share
            if reached and key not in fired and _holds(rule, project, None, None, out):
                pct = (share * 100).quantize(Decimal(1))
                out.fires.append(_fire(rule, key, project, None, share=pct, spent=project.spent, budget=project.budget))
        elif rule.trigger == "protection_expiring" and project.protection_until is not None:
            until = project.protection_until
            key = f"{rule.key}:{project.id}:{until.astimezone(SHANGHAI).isoformat()}"
            if key in fired or now >= until:
                continue  # recorded, or already lapsed: "expiring" no longer makes sense
            at = until - (parse_duration(rule.before) or timedelta(0))
            if at > now:
                wake(at)
            elif _holds(rule, project, None, None, out):
                shown = until.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
                out.fires.append(_fire(rule, key, project, None, until=shown))
    return out
