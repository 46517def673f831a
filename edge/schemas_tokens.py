"""Request and response models of personal access tokens."""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field

from edge.schemas import Model

SCOPE_DOC = "crm:write (CRM routes), org:sync (org sync routes), reports:read (GET /reports/*)"
TOKEN_EXAMPLE: dict[str, Any] = {
    "id": "5b0e9c2f8a4d4e1f9c3b7a6d2e8f0a1c", "name": "CRM 同步脚本", "scopes": ["crm:write"],
    "created_at": "2026-12-01T08:30:00Z", "expires_at": "2027-03-01T08:30:00Z", "last_used_at": "2026-12-01T09:02:00Z",
}


class TokenIn(Model):
    """Optional body of `POST /users/{id}/tokens`; no body = every scope, 90 days, no name."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"name": "CRM 同步脚本", "scopes": ["crm:write"], "expires_in_days": 90}]})

    name: str | None = Field(default=None, description="What the token is for (at most 100 characters)")
    scopes: list[str] | None = Field(
        default=None, description=f"Scopes of the token; omitted = all of them. {SCOPE_DOC}", examples=[["crm:write"]]
    )
    expires_in_days: int | None = Field(default=None, description="Lifetime, 1–3650 days (default 90)")


class TokenOut(Model):
    """A token as listed: never the secret."""

    model_config = ConfigDict(json_schema_extra={"examples": [TOKEN_EXAMPLE]})

    id: str
    name: str
    scopes: list[str] = Field(description=SCOPE_DOC)
    created_at: str
    expires_at: str
    last_used_at: str | None = Field(default=None, description="Updated at most once a minute; null = never used")


class TokenIssued(TokenOut):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"token": "bbt_Qm9vZ2llV29vZ2llLXNlY3JldC10b2tlbi1leGFtcGxl", **TOKEN_EXAMPLE, "last_used_at": None}]})

    token: str = Field(description="The secret: shown once, stored nowhere (only its SHA-256)")


class TokenList(Model):
    model_config = ConfigDict(json_schema_extra={"examples": [{"items": [TOKEN_EXAMPLE, {
        "id": "0d7c3e1a9b2f4c8e6a5d4b3c2e1f0a9b", "name": "BI 报表导出", "scopes": ["reports:read"],
        "created_at": "2026-11-15T02:00:00Z", "expires_at": "2026-12-15T02:00:00Z", "last_used_at": None}]}]})

    items: list[TokenOut]
