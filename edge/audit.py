"""Recording security and configuration events in the audit log.

``record`` is what routes call (sign-in success/failure, tokens, roles, org sync, form/policy/rule/
channel changes, admin reassign/cancel, exports). It never fails the request it describes: a
failure to record is logged loudly instead.

Each event gets its own id here, and a retry of the append (the registry was briefly unavailable)
sends the same id, so it is recorded once. The request id the event carries is the HTTP request's
``X-Request-ID`` (for correlation only: a client choosing it cannot make an event vanish)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import structlog

from baobei.registry.v1 import audit_service_pb2 as audit_pb2
from edge.clients import Clients
from edge.errors import ServiceUnavailable

log = structlog.get_logger(__name__)
ATTEMPTS = 2
# The registry refuses larger details; long lists are cut to their first items to fit.
MAX_DETAILS_BYTES = 32 * 1024
LIST_KEEP = 50
# Keys whose values never go into the log, wherever they appear in details.
SECRET_KEYS = frozenset({"password", "secret", "secrets", "token", "client_secret", "bind_password", "app_secret"})


def _scrub(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): "***" if str(k).lower() in SECRET_KEYS else _scrub(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_scrub(v) for v in value]
    return value


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str, sort_keys=True)


def details_json(details: dict[str, Any] | None) -> str:
    """``details`` as the JSON object the log keeps (secrets masked, anything odd as text). Too
    large a one keeps the first items of each long list (with ``<key>_total``), else only its keys."""
    clean: dict[str, Any] = _scrub(details or {})
    text = _dumps(clean)
    if len(text.encode()) <= MAX_DETAILS_BYTES:
        return text
    shrunk: dict[str, Any] = {"truncated": True}
    for key, value in clean.items():
        if isinstance(value, list) and len(value) > LIST_KEEP:
            shrunk[key], shrunk[f"{key}_total"] = value[:LIST_KEEP], len(value)
        else:
            shrunk[key] = value
    text = _dumps(shrunk)
    if len(text.encode()) <= MAX_DETAILS_BYTES:
        return text
    return _dumps({"truncated": True, "keys": sorted(clean)[:LIST_KEEP], "bytes": len(_dumps(clean).encode())})


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
    req = audit_pb2.AppendAuditRequest(
        event_id=uuid.uuid4().hex, action=action[:100], outcome=outcome, actor_id=(actor_id or "anonymous")[:200],
        actor_ip=(ip or clients.ip)[:64], target_type=target_type[:64], target_id=target_id[:200],
        details_json=details_json(details), request_id=clients.request_id[:200],
    )
    for attempt in range(1, ATTEMPTS + 1):
        try:
            await clients.audit.Append(req)
            return
        except ServiceUnavailable as err:
            if attempt < ATTEMPTS:
                continue
            failure: Exception = err
        except Exception as err:  # never fail the request the event describes
            failure = err
        log.error("audit.record_failed", action=action, actor_id=actor_id, outcome=outcome, target_type=target_type,
                  target_id=target_id, event_id=req.event_id, error=repr(failure))
        return
