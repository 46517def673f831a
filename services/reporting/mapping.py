"""The only place where reporting protobuf messages meet domain objects."""

from __future__ import annotations

from dataclasses import fields, replace
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from baobei import reporting_events as event_types
from baobei.core.errors import FieldViolation, ValidationFailed
from baobei.reporting.v1 import reporting_service_pb2 as pb
from services.reporting import analytics, domain, events, health, reviews, store


def _values(message: Message) -> dict[str, Any]:
    """A kind's values as JSON keyed by field name: the fields set (unset = unchanged)."""
    return json_format.MessageToDict(message, preserving_proto_field_name=True)


def event(message: pb.Event) -> tuple[domain.Event, events.Fact]:
    """The domain event and its fact; ValidationFailed names the offending field."""
    kind = message.WhichOneof("kind")
    out = domain.Event(
        event_id=message.event_id.strip(),
        type=event_types.type_of(kind) if kind else "",
        project_id=message.project_id.strip(),
        at=message.at.ToDatetime(tzinfo=UTC) if message.HasField("at") else None,
        actor_id=message.actor_id.strip(),
        payload=_values(getattr(message, kind)) if kind else {},
    )
    events.check_envelope(out, kind)
    assert kind is not None
    return out, events.read(kind, out)


def stored_event(logged: domain.Event) -> tuple[domain.Event, events.Fact | None]:
    """A logged event (rebuild) read like an ingested one: its payload goes through the kind's
    message (keys it does not have, from older versions, are dropped). None for a type with no
    kind any more."""
    try:
        kind = event_types.kind_of(logged.type)
    except ValueError:
        return logged, None
    message = event_types.parse_values(getattr(pb.Event(), kind), logged.payload, ignore_unknown=True)
    typed = replace(logged, payload=_values(message))
    return typed, events.read(kind, typed)


def ts(value: datetime) -> Timestamp:
    out = Timestamp()
    out.FromDatetime(value.astimezone(UTC))
    return out


def now_of(message: Any, field: str = "now") -> datetime:
    return getattr(message, field).ToDatetime(tzinfo=UTC) if message.HasField(field) else datetime.now(UTC)


def filters(message: pb.Filters) -> store.Filters:
    return store.Filters(
        department_id=message.department_id.strip(),
        region=message.region.strip(),
        business_line=message.business_line.strip(),
        owner_id=message.owner_id.strip(),
        status=message.status.strip(),
        form_key=message.form_key.strip(),
        period_from=message.period_from.ToDatetime(tzinfo=UTC) if message.HasField("period_from") else None,
        period_to=message.period_to.ToDatetime(tzinfo=UTC) if message.HasField("period_to") else None,
    )


def scope(all_: bool, project_ids: Any, message_filters: pb.Filters, withheld: Any = ()) -> store.Scope:
    ids = tuple(sorted({p.strip() for p in project_ids if p.strip()}))
    held = tuple((w.project_id, frozenset(w.paths)) for w in withheld if w.paths)
    return store.Scope(all_projects=all_, project_ids=ids, filters=filters(message_filters), withheld=held)


def _amount(value: Decimal | None) -> str:
    return domain.format_amount(value) if value is not None else ""


def project_health(row: store.PortfolioRow) -> pb.ProjectHealth:
    v, h = row.view, row.health
    out = pb.ProjectHealth(
        id=v.project_id,
        code=v.code,
        name=v.name,
        status=v.status,
        amount=_amount(v.amount),
        health=h.health,
        reasons=list(h.reasons),
        owner_id=v.owner_id,
        department_id=v.department_id,
        region=v.region,
        business_line=v.business_line,
        form_key=v.form_key,
        spi=h.spi or 0.0,
        cpi=h.cpi or 0.0,
        open_tasks=h.open_tasks,
        overdue_tasks=h.overdue_tasks,
        milestone_slip_days=h.milestone_slip_days,
        planned_value=_amount(h.planned_value),
        earned_value=_amount(h.earned_value),
        actual_cost=_amount(h.actual_cost),
    )
    if row.registered_at:
        out.registered_at.CopyFrom(ts(row.registered_at))
    return out


def portfolio(p: store.PortfolioData) -> pb.PortfolioResponse:
    by_health: dict[str, int] = {}
    for row in p.projects:
        by_health[row.health.health] = by_health.get(row.health.health, 0) + 1
    return pb.PortfolioResponse(
        by_status=dict(p.by_status),
        total_amount=domain.format_amount(p.total_amount),
        contracted_amount=domain.format_amount(p.contracted_amount),
        overdue_tasks=p.overdue_tasks,
        project_count=p.project_count,
        active_tasks=p.active_tasks,
        approvals_waiting=p.approvals_waiting,
        approvals_waiting_avg_hours=p.approvals_avg_hours,
        approvals_waiting_max_hours=p.approvals_max_hours,
        by_health=by_health,
        projects=[project_health(r) for r in p.projects],
    )


TASK_COLUMNS = (
    analytics.Column("name", "任务"),
    analytics.Column("assignee_id", "负责人"),
    analytics.Column("status", "状态"),
    analytics.Column("start", "开始"),
    analytics.Column("due", "截止"),
    analytics.Column("estimate_hours", "估算（小时）", "hours"),
    analytics.Column("progress", "进度", "percent"),
    analytics.Column("milestone", "里程碑"),
    analytics.Column("baseline_finish", "基线完成"),
    analytics.Column("delay_reason", "延期原因"),
)


def project_report(r: store.ProjectReport) -> pb.ProjectReportResponse:
    rows = [
        (
            x.name,
            x.assignee_id,
            x.status,
            x.start.isoformat() if x.start else "",
            x.due.isoformat() if x.due else "",
            f"{x.estimate_hours:g}",
            f"{100 * health.earned_share(x):.0f}%",
            "是" if x.milestone else "",
            x.baseline_finish.isoformat() if x.baseline_finish else "",
            x.delay_reason,
        )
        for x in r.tasks
    ]
    return pb.ProjectReportResponse(
        health=project_health(r.row),
        burndown=[
            pb.BurndownPoint(day=p.day.isoformat(), remaining_hours=p.remaining_hours, ideal_hours=p.ideal_hours or 0.0)
            for p in r.burndown.points
        ],
        tasks=table(analytics.Table(title="任务", columns=TASK_COLUMNS, rows=tuple(rows))),
    )


def table(t: analytics.Table) -> pb.Table:
    return pb.Table(
        title=t.title,
        columns=[pb.Column(key=c.key, label=c.label, kind=c.kind) for c in t.columns],
        rows=[pb.Row(values=list(r)) for r in t.rows],
    )


def warning(w: store.WarningRow) -> pb.Warning:
    out = pb.Warning(
        key=w.key,
        kind=w.kind,
        project_id=w.project_id,
        user_id=w.user_id,
        title=w.title,
        body=w.body,
        recipient_ids=list(w.recipient_ids),
        week=w.week,
    )
    for name in ("raised_at", "notified_at", "cleared_at"):
        value = getattr(w, name)
        if value is not None:
            getattr(out, name).CopyFrom(ts(value))
    return out


def settings_out(t: health.Thresholds) -> pb.HealthSettings:
    data = t.as_json()
    return pb.HealthSettings(**{k: v for k, v in data.items()})


def settings_in(message: pb.HealthSettings, current: health.Thresholds) -> health.Thresholds:
    """Zero / empty values keep the current setting (a partial update)."""
    changes: dict[str, Any] = {}
    for f in fields(health.Thresholds):
        value = getattr(message, f.name)
        if f.name == "hour_rate":
            if value.strip():
                try:
                    changes["hour_rate"] = Decimal(value.strip())
                except InvalidOperation:
                    raise ValidationFailed(
                        [FieldViolation("settings.hour_rate", "小时费率必须是数字", "hour_rate must be a number")]
                    ) from None
        elif value:
            changes[f.name] = value
    return replace(current, **changes)


def registry_project(p: pb.ProjectSnapshot) -> store.RegistryProject:
    values = _values(p.facts)
    return store.RegistryProject(
        project_id=p.id.strip(),
        snapshot=events.project_snapshot("project_snapshot", values, prefix="projects.facts"),
        created_at=p.created_at.ToDatetime(tzinfo=UTC) if p.HasField("created_at") else None,
        updated_at=p.updated_at.ToDatetime(tzinfo=UTC) if p.HasField("updated_at") else None,
    )


def _day(value: Any) -> str:
    return value.isoformat() if value is not None else ""


def review(r: reviews.Review) -> pb.Review:
    out = pb.Review(
        project_id=r.project_id,
        code=r.code,
        name=r.name,
        status=r.status,
        owner_id=r.owner_id,
        business_line=r.business_line,
        region=r.region,
        outcome=r.outcome,
        reason=r.reason,
        lessons=r.lessons,
        tags=list(r.tags),
        delay_summary=r.delay_summary,
        delay_summary_generated=r.delay_summary_generated,
        budget=_amount(r.budget),
        has_budget=r.budget is not None,
        cost=domain.format_amount(r.cost),
        cost_variance=_amount(r.cost_variance),
        cost_ratio=r.cost_ratio,
        baseline_finish=_day(r.baseline_finish),
        actual_finish=_day(r.actual_finish),
        slip_days=r.slip_days,
        has_schedule=r.baseline_finish is not None and r.actual_finish is not None,
        delay_reasons=[pb.DelayReasonCount(reason=k, tasks=n) for k, n in r.delay_reasons],
        late_tasks=[
            pb.LateTask(
                task_id=t.task_id,
                name=t.name,
                baseline_finish=_day(t.baseline_finish),
                finish=_day(t.finish),
                slip_days=t.slip_days,
                delay_reason=t.delay_reason,
            )
            for t in r.late_tasks
        ],
        tasks=r.tasks,
        tasks_done=r.tasks_done,
        reviewed_by=r.reviewed_by,
    )
    out.reviewed_at.CopyFrom(ts(r.reviewed_at))
    if r.closed_at is not None:
        out.closed_at.CopyFrom(ts(r.closed_at))
    return out


def lesson(x: reviews.Lesson) -> pb.Lesson:
    out = pb.Lesson(
        project_id=x.project_id,
        code=x.code,
        name=x.name,
        business_line=x.business_line,
        outcome=x.outcome,
        reason=x.reason,
        lessons=x.lessons,
        tags=list(x.tags),
        reviewed_by=x.reviewed_by,
    )
    out.reviewed_at.CopyFrom(ts(x.reviewed_at))
    return out
