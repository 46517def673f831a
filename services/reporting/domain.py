"""Reporting domain: pure rules for folding project events into a read model and summing a
portfolio. No grpc/database imports."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from baobei.core.errors import FieldViolation, ValidationFailed

# Project snapshot fields of the read model (ProjectFacts in reporting_service.proto).
TEXT_FIELDS = ("code", "name", "status", "owner_id", "department_id", "region", "business_line", "form_key")
SNAPSHOT_FIELDS = (*TEXT_FIELDS, "amount", "conflict_count")
CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("9999999999999999.99")  # Numeric(18, 2)
UNKNOWN_STATUS = "unknown"
HEALTH_GREEN = "green"


@dataclass(frozen=True)
class Event:
    event_id: str
    type: str
    project_id: str
    at: datetime | None
    actor_id: str = ""
    # The kind's values as JSON, keyed by field name: what the event log keeps and webhooks get.
    payload: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ProjectView:
    """Read model of one project. ``field_at`` remembers, per snapshot field, the time of the
    event that last wrote it: the out-of-order rule compares against it."""

    project_id: str
    code: str = ""
    name: str = ""
    status: str = ""
    amount: Decimal | None = None
    owner_id: str = ""
    department_id: str = ""
    region: str = ""
    business_line: str = ""
    form_key: str = ""
    conflict_count: int = 0
    last_event_at: datetime | None = None
    field_at: Mapping[str, datetime] = field(default_factory=dict)


@dataclass(frozen=True)
class ProjectHealth:
    project_id: str
    code: str
    name: str
    status: str
    amount: Decimal | None
    health: str = HEALTH_GREEN
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class Portfolio:
    by_status: Mapping[str, int]
    total_amount: Decimal
    overdue_tasks: int
    projects: tuple[ProjectHealth, ...]


def as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def parse_amount(value: Any, path: str) -> Decimal:
    """A money amount: a decimal string (preferred) or a JSON number, at most 2 decimals, within
    Numeric(18, 2). Floats are read through their shortest repr ("12345.6"), never binary."""
    bad = ValidationFailed(
        [FieldViolation(path, "金额必须是最多两位小数的数字", "amount must be a number with at most 2 decimals")]
    )
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise bad
    try:
        amount = Decimal(value.strip() if isinstance(value, str) else repr(value))
    except InvalidOperation:
        raise bad from None
    if not amount.is_finite() or amount != amount.quantize(CENT) or abs(amount) > MAX_AMOUNT:
        raise bad
    return amount.quantize(CENT)


def format_amount(value: Decimal) -> str:
    """Exact, two decimals, no exponent: Decimal("12345.6") → "12345.60"."""
    return f"{value.quantize(CENT):f}"


def fold(view: ProjectView | None, event: Event, snapshot: Mapping[str, Any]) -> ProjectView:
    """Apply one event to the read model, out-of-order safe: a field is written only when the
    event is at least as new as the event that last wrote that field, so a late (older) event
    never overwrites newer values but still fills fields nothing newer has set."""
    assert event.at is not None
    at = as_utc(event.at)
    current = view or ProjectView(project_id=event.project_id)
    changes: dict[str, Any] = {}
    field_at = dict(current.field_at)
    for key, value in snapshot.items():
        written = field_at.get(key)
        if written is None or at >= written:
            changes[key] = value
            field_at[key] = at
    last = current.last_event_at
    return replace(current, **changes, field_at=field_at, last_event_at=at if last is None or at > last else last)


def is_stale(view: ProjectView | None, event: Event) -> bool:
    """True when the event is older than the newest event already folded into the view."""
    return bool(view and view.last_event_at and event.at and as_utc(event.at) < view.last_event_at)


def total_amount(amounts: Iterable[Decimal | None]) -> Decimal:
    """Exact sum; projects without an amount count as zero."""
    return sum((a for a in amounts if a is not None), Decimal("0")).quantize(CENT)


def health_of(view: ProjectView) -> ProjectHealth:
    """Green with no reasons for now: overdue/milestone/SLA rules come with task events."""
    return ProjectHealth(
        project_id=view.project_id, code=view.code, name=view.name, status=view.status, amount=view.amount
    )


def portfolio(views: Iterable[ProjectView]) -> Portfolio:
    items = list(views)
    counts = Counter(v.status or UNKNOWN_STATUS for v in items)
    return Portfolio(
        by_status=dict(counts),
        total_amount=total_amount(v.amount for v in items),
        # No task events reach reporting yet, so nothing is known to be overdue.
        overdue_tasks=0,
        projects=tuple(health_of(v) for v in items),
    )
