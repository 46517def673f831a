"""The approval service's metrics: what waits (computed at scrape time from one grouped query of
its own database) and what happened (counters bumped by the servicer).

- ``baobei_approvals_waiting{stage, age}``: open steps of pending approvals, by step name and age
  bucket since the step opened;
- ``baobei_approvals_past_sla{stage}``: of those, steps with a pending task past its due time;
- ``baobei_approvals_oldest_waiting_seconds``: age of the oldest open step (0: none);
- ``baobei_approval_timers_fired_total{action}``, ``baobei_approval_sla_breaches_total``,
  ``baobei_approval_escalations_total``, ``baobei_approval_decisions_total{action, channel}``."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from prometheus_client import Counter
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy.engine import Engine

from services.approval.domain import INSTANCE_PENDING, STEP_PENDING, TASK_PENDING
from services.approval.models import ApprovalInstance, ApprovalStep, ApprovalTask

# Age buckets of a waiting step: (label, lower bound). Ordered youngest first.
AGE_BUCKETS: tuple[tuple[str, timedelta], ...] = (
    ("lt_1h", timedelta(0)),
    ("1h_4h", timedelta(hours=1)),
    ("4h_1d", timedelta(hours=4)),
    ("1d_3d", timedelta(days=1)),
    ("3d_7d", timedelta(days=3)),
    ("ge_7d", timedelta(days=7)),
)

TIMERS_FIRED = Counter("baobei_approval_timers_fired", "SLA timers that fired on a pending step, by action", ["action"])
SLA_BREACHES = Counter(
    "baobei_approval_sla_breaches", "Steps that reached their SLA or an escalation level undecided"
)
ESCALATIONS = Counter("baobei_approval_escalations", "Escalations fired (new approvers added to a late step)")
DECISIONS = Counter("baobei_approval_decisions", "Decisions and actions recorded", ["action", "channel"])


def age_bucket(age: timedelta) -> str:
    """The bucket of a step open for ``age`` (pure; the query uses the same bounds)."""
    label = AGE_BUCKETS[0][0]
    for name, lower in AGE_BUCKETS:
        if age >= lower:
            label = name
    return label


def observe_timer(action: str, fired: bool) -> None:
    """A FireTimer answer: reminders are not breaches; every other action is the SLA's own or a
    ladder level's (escalate, auto-approve, auto-reject, …) acting on a late step."""
    if not fired:
        return
    TIMERS_FIRED.labels(action or "unknown").inc()
    if action != "remind":
        SLA_BREACHES.inc()
    if action == "escalate":
        ESCALATIONS.inc()


CHANNELS = frozenset({"api", "link", "group_link", "web", "auto", "system", "im"})


def observe_decision(action: str, channel: str) -> None:
    """A recorded decision; the channel is a caller's word, so unknown ones count as "other"."""
    DECISIONS.labels(action or "unknown", channel if channel in CHANNELS else ("other" if channel else "none")).inc()


WaitingRow = tuple[str, str, int, int, datetime | None]


def waiting_rows(engine: Engine, now: datetime) -> Sequence[WaitingRow]:
    """One grouped query: (stage, age bucket, steps, past SLA, oldest opened_at) of open steps."""
    s, i, t = ApprovalStep.__table__, ApprovalInstance.__table__, ApprovalTask.__table__  # type: ignore[attr-defined]
    cases = [(s.c.opened_at <= now - lower, name) for name, lower in reversed(AGE_BUCKETS[1:])]
    bucket = sa.case(*cases, else_=AGE_BUCKETS[0][0]).label("age")
    late = sa.exists().where(
        t.c.instance_id == s.c.instance_id, t.c.step_index == s.c.step_index,
        t.c.status == TASK_PENDING, t.c.due_at.is_not(None), t.c.due_at < now,
    )
    query = (
        sa.select(
            s.c.name, bucket, sa.func.count(), sa.func.sum(sa.case((late, 1), else_=0)), sa.func.min(s.c.opened_at)
        )
        .select_from(s.join(i, i.c.id == s.c.instance_id))
        .where(s.c.status == STEP_PENDING, i.c.status == INSTANCE_PENDING)
        .group_by(s.c.name, bucket)
    )
    with engine.connect() as conn:
        return [(str(a), str(b), int(c), int(d or 0), e) for a, b, c, d, e in conn.execute(query).all()]


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)  # SQLite hands back naive UTC


def waiting_families(engine: Engine, now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> Iterable[
    GaugeMetricFamily
]:
    at = now()
    waiting = GaugeMetricFamily(
        "baobei_approvals_waiting", "Approval steps waiting for a decision, by stage and age", labels=["stage", "age"]
    )
    past = GaugeMetricFamily("baobei_approvals_past_sla", "Waiting approval steps past their SLA", labels=["stage"])
    oldest_family = GaugeMetricFamily(
        "baobei_approvals_oldest_waiting_seconds", "Age of the oldest waiting approval step (0: none)"
    )
    late_by_stage: dict[str, int] = {}
    oldest: datetime | None = None
    for stage, age, count, late, first in waiting_rows(engine, at):
        waiting.add_metric([stage, age], count)
        late_by_stage[stage] = late_by_stage.get(stage, 0) + int(late or 0)
        if first is not None and (oldest is None or _aware(first) < oldest):
            oldest = _aware(first)
    for stage, late in sorted(late_by_stage.items()):
        past.add_metric([stage], late)
    oldest_family.add_metric([], max(0.0, (at - oldest).total_seconds()) if oldest else 0.0)
    return [waiting, past, oldest_family]
