"""SLA durations and the durable timers of an open step (reminder, timeout action, ladder)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from baobei.workcalendar import STATUTORY, WorkingCalendar, nominal_seconds
from services.approval.domain.rules import SLA_RE


def parse_sla(text: str) -> int | None:
    """Nominal seconds of an SLA like ``30s``, ``15m``, ``24h``, ``3d``, ``8wh`` or ``2wd``; None
    when invalid. Working units count as their working length here (``8wh`` = 8 h); the real
    deadline on the mainland calendar comes from ``timers``."""
    m = SLA_RE.match(text.strip())
    if not m:
        return None
    return nominal_seconds(text) if int(m.group(1)) else 0


@dataclass(frozen=True)
class Timer:
    """A durable timer of an open step, fired by the workflow."""

    index: int
    # remind | escalate | approve | reject
    action: str
    at: datetime
    level: int = 0
    to: tuple[str, ...] = ()


def step_timers(
    *,
    opened_at: datetime,
    sla: str,
    on_timeout: str,
    escalate_to: Sequence[str],
    remind_at: float,
    escalation: Sequence[Mapping[str, Any]],
    cal: WorkingCalendar = STATUTORY,
) -> tuple[datetime | None, list[Timer]]:
    """Due time and timers of a step opened at ``opened_at``: the reminder at ``remind_at`` of the
    SLA, the SLA's own action, then each ladder level; in firing order. Working units count on
    ``cal`` (statutory calendar + company overrides)."""
    due = cal.add_duration(opened_at, sla) if sla else None
    raw: list[tuple[datetime, str, int, tuple[str, ...]]] = []
    if due is not None and remind_at:
        at = cal.add_duration(opened_at, sla, remind_at)
        if at is not None:
            raw.append((at, "remind", 0, ()))
    if due is not None and on_timeout:
        raw.append((due, on_timeout, 0, tuple(escalate_to)))
    for n, lv in enumerate(escalation, start=1):
        at = cal.add_duration(opened_at, str(lv.get("after", "")))
        if at is not None:
            raw.append((at, str(lv.get("action", "escalate")), n, tuple(lv.get("to") or ())))
    raw.sort(key=lambda t: (t[0], t[2]))
    return due, [Timer(index=i, action=a, at=at, level=lv, to=to) for i, (at, a, lv, to) in enumerate(raw)]

