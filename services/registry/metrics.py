"""The registry's metrics: registrations and collisions (counters bumped by the servicer) and
protection periods about to end (computed at scrape time from one query of its own database).

- ``baobei_projects_created_total{source}`` (``api`` or ``import``) and
  ``baobei_projects_submitted_total``: registrations; per day = ``increase(...[1d])``;
- ``baobei_conflicts_found_total{policy}``: conflict checks that found 撞单 (warn or block);
- ``baobei_protection_expiring{within}``: protected projects whose period ends within 7 / 30 days;
- ``baobei_protection_active``: projects under protection."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from prometheus_client import Counter
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy.engine import Engine

from services.registry.domain.protection import Protection
from services.registry.models import ProjectRow

CREATED = Counter("baobei_projects_created", "Projects registered (drafts created)", ["source"])
SUBMITTED = Counter("baobei_projects_submitted", "Projects submitted for approval")
CONFLICTS = Counter("baobei_conflicts_found", "Conflict checks that found 撞单 (collisions)", ["policy"])
WINDOWS = (("7d", timedelta(days=7)), ("30d", timedelta(days=30)))


def observe_conflicts(matches: int, policy: str) -> None:
    if matches:
        CONFLICTS.labels(policy if policy in ("warn", "block") else "other").inc()


def protection_row(engine: Engine, now: datetime) -> tuple[int, list[int]]:
    """(protected projects, [ending within each window]) in one query."""
    p = ProjectRow.__table__  # type: ignore[attr-defined]
    sums = [sa.func.sum(sa.case((p.c.protected_until < now + span, 1), else_=0)) for _, span in WINDOWS]
    query = sa.select(sa.func.count(), *sums).where(
        p.c.protection_state == Protection.PROTECTED.value, p.c.protected_until.is_not(None), p.c.protected_until >= now
    )
    with engine.connect() as conn:
        row = conn.execute(query).one()
    return int(row[0] or 0), [int(v or 0) for v in row[1:]]


def protection_families(engine: Engine, now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> Iterable[
    GaugeMetricFamily
]:
    active, ending = protection_row(engine, now())
    expiring = GaugeMetricFamily(
        "baobei_protection_expiring", "Protection periods (保护期) ending within the window", labels=["within"]
    )
    for (name, _), count in zip(WINDOWS, ending, strict=True):
        expiring.add_metric([name], count)
    total = GaugeMetricFamily("baobei_protection_active", "Projects under protection")
    total.add_metric([], active)
    return [expiring, total]
