"""Response models of the audit log (`GET /api/v1/audit-log`, `/audit-log/verify`)."""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field

from edge.schemas import Model

_HASH = "9f2c4e0d1b7a3c5e8f6d2a4b0c9e7f1a3d5b8c0e2f4a6d8b1c3e5f7a9b0d2c4e"
_PREV = "4b1d0c9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c"
EVENT_EXAMPLE: dict[str, Any] = {
    "seq": 1024, "at": "2026-12-01T08:30:00.123456Z", "action": "token.issued", "outcome": "success",
    "actor_id": "admin", "actor_ip": "10.0.0.8", "target_type": "user", "target_id": "zhangsan",
    "details": {"token_id": "tok_3f9a", "name": "CRM 同步脚本", "scopes": ["crm:write"], "expires_in_days": 90},
    "request_id": "6f1c2b0e9d8a4c7b", "prev_hash": _PREV, "hash": _HASH,
}


class AuditEventOut(Model):
    """One event of the audit log."""

    model_config = ConfigDict(json_schema_extra={"examples": [EVENT_EXAMPLE]})

    seq: int = Field(description="Position in the hash chain (1, 2, 3, … without gaps)")
    at: str = Field(description="When it happened (UTC)")
    action: str = Field(description="sign_in, token.issued, token.revoked, org.upserted, org.synced, form.changed, "
                                    "policy.changed, rule.changed, channel.changed, approval.cancelled, "
                                    "approval.reassigned, export, audit.exported, auth_provider.changed, "
                                    "audit.purged, …")
    outcome: str = Field(description="success | failure")
    actor_id: str = Field(description="Who did it (`anonymous` for a failed sign-in of an unknown login)")
    actor_ip: str = Field(description="The caller's address as the edge saw it")
    target_type: str | None = Field(default=None, description="user, form, approval_policy, rule, project, …")
    target_id: str | None = None
    details: dict[str, Any] = Field(description="What changed (never a secret)")
    request_id: str | None = Field(default=None, description="The request's X-Request-ID")
    prev_hash: str = Field(description="Hash of the previous event (64 zeros for the first)")
    hash: str = Field(description="SHA-256 (hex) over the canonical form of this event and prev_hash")


class AuditPage(Model):
    model_config = ConfigDict(json_schema_extra={"examples": [{"items": [EVENT_EXAMPLE], "next_cursor": "1024"}]})

    items: list[AuditEventOut] = Field(description="Newest first")
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page")


class ChainPointOut(Model):
    seq: int
    hash: str


class AuditVerifyOut(Model):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"ok": True, "checked": 1024, "first_broken_seq": None, "reason": None,
         "anchor": {"seq": 0, "hash": "0" * 64}, "head": {"seq": 1024, "hash": _HASH}},
        {"ok": False, "checked": 311, "first_broken_seq": 311, "reason": "hash mismatch",
         "anchor": {"seq": 0, "hash": "0" * 64}, "head": {"seq": 1024, "hash": _HASH}},
    ]})

    ok: bool = Field(description="The chain holds from the anchor to the head")
    checked: int = Field(description="Events whose hash was checked")
    # A default, so that /openapi.json does not require it: FastAPI drops nulls from the document,
    # examples included (the answer always carries it).
    first_broken_seq: int | None = Field(default=None, description="The first event edited, or missing (its seq); "
                                                                   "null when ok")
    reason: str | None = Field(default=None, description="hash mismatch | broken link | missing event | "
                                                         "out of order | event after the head | head mismatch | "
                                                         "anchor mismatch")
    anchor: ChainPointOut = Field(description="Where the chain starts: the last event removed by retention "
                                              "(seq 0, 64 zeros when none was)")
    head: ChainPointOut = Field(description="The newest event as the chain's head records it (note it elsewhere "
                                            "to detect a rewritten tail later)")
