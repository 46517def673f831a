"""Action-link URLs, derived when a notification is shown or delivered: the token is a function of
the link row (id, created_at) and the signing key (``links.token_for``), so no table, delivery
payload or request log ever holds one."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from services.notify import domain, links
from services.notify.models import ActionLink

_LINK = ActionLink.__table__  # type: ignore[attr-defined]
# Built once (a statement object keeps its compiled form's cache key).
_LINKS_OF = sa.select(_LINK.c.notification_id, _LINK.c.id, _LINK.c.created_at).where(
    _LINK.c.notification_id.in_(sa.bindparam("ids", expanding=True))
)


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
        with engine.connect() as conn:
            rows = conn.execute(_LINKS_OF, {"ids": ids}).all()
        return {nid: make(link_id, domain.as_utc(at)) for nid, link_id, at in rows}
