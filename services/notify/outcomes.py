"""What a delivery attempt ends in, shared by the two halves of the delivery path (``deliver``:
e-mail, robots, webhooks; ``im_delivery``: enterprise-app cards), and what the app half needs
of the first (``DeliveryRecorder``) — so neither module imports the other's."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy.engine import Engine

from services.notify import domain

if TYPE_CHECKING:
    from services.notify import store, templates
    from services.notify.channels.base import DeliveryFailed
    from services.notify.contacts import Contact, Contacts
    from services.notify.guards import Guards

DELIVERED, SKIPPED, RATE_LIMITED, DEAD = "delivered", "skipped", "rate_limited", "dead"


class Retryable(Exception):
    """A failure a later attempt may fix: the servicer answers UNAVAILABLE."""


@dataclass(frozen=True)
class Outcome:
    delivery: domain.DeliveryView
    outcome: str
    retry_after_seconds: float = 0.0


class DeliveryRecorder(Protocol):
    """The deliverer's helpers the enterprise-app half records and renders through."""

    engine: Engine
    guards: Guards
    contacts: Contacts
    wake: Callable[[], None]

    def skip(self, d: domain.DeliveryView, reason: str, attempt: int) -> Outcome: ...

    def contact(self, user_id: str) -> Contact | None: ...

    def failed(self, ids: list[str], err: DeliveryFailed, attempt: int, project_id: str) -> Exception: ...

    def accepted(self, d: domain.DeliveryView, attempt: int) -> Outcome: ...

    def channel_of(self, key: str) -> domain.RobotChannel | None: ...

    def context_of(self, row: store.DeliveryRow, name: str) -> dict[str, Any]: ...

    def rendered(self, kind: str, ctx: Mapping[str, Any]) -> templates.Rendered: ...
