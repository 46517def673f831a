"""Request and response models of personal access tokens."""

from __future__ import annotations

from pydantic import Field

from edge.schemas import Model

SCOPE_DOC = "crm:write (CRM routes), org:sync (org sync routes), reports:read (GET /reports/*)"


class TokenIn(Model):
    """Optional body of `POST /users/{id}/tokens`; no body = every scope, 90 days, no name."""

    name: str | None = Field(default=None, description="What the token is for (at most 100 characters)")
    scopes: list[str] | None = Field(
        default=None, description=f"Scopes of the token; omitted = all of them. {SCOPE_DOC}", examples=[["crm:write"]]
    )
    expires_in_days: int | None = Field(default=None, description="Lifetime, 1–3650 days (default 90)")


class TokenOut(Model):
    """A token as listed: never the secret."""

    id: str
    name: str
    scopes: list[str] = Field(description=SCOPE_DOC)
    created_at: str
    expires_at: str
    last_used_at: str | None = Field(default=None, description="Updated at most once a minute; null = never used")


class TokenIssued(TokenOut):
    token: str = Field(description="The secret: shown once, stored nowhere (only its SHA-256)")


class TokenList(Model):
    items: list[TokenOut]
