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

    def group_url(self, link_id: str, created_at: datetime) -> str:
        """The link's group URL (``/a/g/<token>``): for group chats, needs the reader to sign in."""
        return links.group_url(self.base_url, links.token_for(self.key, link_id, created_at, group=True))

    def of_notifications(
        self, engine: Engine, notification_ids: Sequence[str], *, group: bool = False
    ) -> dict[str, str]:
        """notification id → the URL of its action link, personal or (``group``) the group link
        (notifications without one are absent)."""
        ids = [i for i in dict.fromkeys(notification_ids) if i]
        if not ids:
            return {}
        make = self.group_url if group else self.url
        with Session(engine) as session:
            rows = session.exec(select(ActionLink).where(col(ActionLink.notification_id).in_(ids))).all()
            return {r.notification_id: make(r.id, domain.as_utc(r.created_at)) for r in rows}
