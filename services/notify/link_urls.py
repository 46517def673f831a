"""Action-link URLs, derived when a notification is shown or delivered: the token is a function of
the link row (id, created_at) and the signing key (``links.token_for``), so no table, delivery
payload or request log ever holds one."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from services.notify import domain, links
from services.notify.models import ActionLink


@dataclass(frozen=True)
class LinkUrls:
    key: str
    base_url: str

    def url(self, link_id: str, created_at: datetime) -> str:
        return links.action_url(self.base_url, links.token_for(self.key, link_id, created_at))

    def of_notifications(self, engine: Engine, notification_ids: Sequence[str]) -> dict[str, str]:
        """notification id → the URL of its action link (notifications without one are absent)."""
        ids = [i for i in dict.fromkeys(notification_ids) if i]
        if not ids:
            return {}
        with Session(engine) as session:
            rows = session.exec(select(ActionLink).where(col(ActionLink.notification_id).in_(ids))).all()
            return {r.notification_id: self.url(r.id, domain.as_utc(r.created_at)) for r in rows}
