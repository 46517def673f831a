"""The notify service's metrics: deliveries still open or dead-lettered (computed at scrape time
from one grouped query over the ``status`` index of its own database) and what each attempt did
(counters bumped where the delivery log is written).

- ``baobei_notify_deliveries{channel, status}``: deliveries pending, dispatched, waiting for a
  digest, or dead (dead letters: ``status="dead"``, until redriven);
- ``baobei_notify_dead_letters``: all dead letters (the alert's series);
- ``baobei_notify_delivery_attempts_total{channel, result}``: attempts, ``ok`` or ``failed``;
- ``baobei_notify_deliveries_finished_total{channel, status}``: delivered, digested, skipped, dead;
- ``baobei_webhook_failures_total{kind}``: failed webhook calls, ``retryable`` or ``permanent``;
- ``baobei_notifications_sent_total{channel}``: notifications sent, ``inapp`` (one per recipient,
  delivered at once) and the external deliveries they queued (email, dingtalk, wecom, webhook,
  dingtalk_app, wecom_app, feishu_app — the personal apps' card updates queued by CloseTask count
  there too).

Every series is labelled by the delivery's channel as stored, so the enterprise app channels
appear as soon as they carry deliveries."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from prometheus_client import Counter
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy.engine import Engine

from services.notify import domain
from services.notify.models import Delivery

OPEN_STATUSES = (domain.PENDING, domain.DISPATCHED, domain.DIGEST_WAITING, domain.DEAD)

ATTEMPTS = Counter("baobei_notify_delivery_attempts", "Delivery attempts by channel and result", ["channel", "result"])
FINISHED = Counter(
    "baobei_notify_deliveries_finished", "Deliveries that reached a final state", ["channel", "status"]
)
WEBHOOK_FAILURES = Counter("baobei_webhook_failures", "Failed webhook calls", ["kind"])
SENT = Counter("baobei_notifications_sent", "Notifications sent: in-app, and external deliveries queued", ["channel"])


def observe_send(inapp: int, channels: Sequence[str]) -> None:
    if inapp:
        SENT.labels(domain.CHANNEL_INAPP).inc(inapp)
    for channel in channels:
        SENT.labels(channel or "unknown").inc()


def observe_record(views: Sequence[domain.DeliveryView], kw: dict[str, Any]) -> None:
    """One write to the delivery log (``Deliverer._record``'s arguments and result)."""
    status = kw.get("status")
    ok = kw.get("ok")
    for view in views:
        if kw.get("attempt") is not None and ok is not None:
            ATTEMPTS.labels(view.channel, "ok" if ok else "failed").inc()
            if not ok and view.channel == domain.WEBHOOK:
                WEBHOOK_FAILURES.labels("permanent" if status == domain.DEAD else "retryable").inc()
        if status in (domain.DELIVERED, domain.DIGESTED, domain.SKIPPED, domain.DEAD) and view.status == status:
            FINISHED.labels(view.channel, status).inc()


def open_rows(engine: Engine) -> list[tuple[str, str, int]]:
    d = Delivery.__table__  # type: ignore[attr-defined]
    query = (
        sa.select(d.c.channel, d.c.status, sa.func.count())
        .where(d.c.status.in_(OPEN_STATUSES))
        .group_by(d.c.channel, d.c.status)
    )
    with engine.connect() as conn:
        return [(str(c), str(s), int(n)) for c, s, n in conn.execute(query).all()]


def open_families(engine: Engine) -> Iterable[GaugeMetricFamily]:
    open_ = GaugeMetricFamily(
        "baobei_notify_deliveries", "Deliveries not finished, or dead-lettered, by channel and status",
        labels=["channel", "status"],
    )
    dead = GaugeMetricFamily("baobei_notify_dead_letters", "Dead-lettered deliveries not yet redriven")
    total_dead = 0
    for channel, status, count in open_rows(engine):
        open_.add_metric([channel, status], count)
        if status == domain.DEAD:
            total_dead += count
    dead.add_metric([], total_dead)
    return [open_, dead]
