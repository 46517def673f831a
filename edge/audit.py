"""Recording security and configuration events in the audit log.

``record`` is what routes call (sign-in success/failure, tokens, roles, org sync, form/policy/rule/
channel changes, admin reassign/cancel, exports). It never fails the request it describes: a
failure to record is logged loudly instead."""

from __future__ import annotations

from typing import Any

import structlog

from edge.clients import Clients

log = structlog.get_logger(__name__)


async def record(
    clients: Clients,
    action: str,
    *,
    actor_id: str,
    outcome: str = "success",
    target_type: str = "",
    target_id: str = "",
    details: dict[str, Any] | None = None,
    ip: str = "",
) -> None:
    """Append one event (``action`` e.g. ``sign_in``, ``token.issued``; ``outcome`` success|failure)."""
    log.info("audit", action=action, actor_id=actor_id, outcome=outcome, target_type=target_type,
             target_id=target_id, details=details or {}, ip=ip)
