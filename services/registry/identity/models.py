"""Identity tables, on the registry's metadata (one database, one migration chain)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field

from services.registry.models import Base


def _ts() -> Any:
    return sa.DateTime(timezone=True)


class AuthProviderRow(Base, table=True):
    """A sign-in provider an admin configured at run time."""

    __tablename__ = "auth_provider"

    key: str = Field(primary_key=True, max_length=64)
    type: str = Field(max_length=20)
    name: str = Field(default="", max_length=200)
    enabled: bool = Field(default=True)
    config: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    # Client secrets, bind passwords, app secrets: only the edge's sign-in flows read them back.
    secrets: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    version: int = Field(default=1)
    updated_at: datetime = Field(sa_type=_ts())
    updated_by: str = Field(default="", max_length=100)


class IdentityLinkRow(Base, table=True):
    """(provider, subject) → one org user; a user has at most one subject per provider, so two
    provider accounts can never sign in as the same person, nor one account as two."""

    __tablename__ = "identity_link"
    __table_args__ = (sa.UniqueConstraint("provider_key", "user_id", name="uq_identity_link_user"),)

    provider_key: str = Field(primary_key=True, max_length=64)
    subject: str = Field(primary_key=True, max_length=300)
    user_id: str = Field(max_length=100, index=True)
    display: str = Field(default="", max_length=320)
    # IM providers: the person's userid in the org on that platform (personal notices address it).
    platform_user_id: str = Field(default="", sa_column=sa.Column(sa.String(200), nullable=False, server_default=""))
    linked_at: datetime = Field(sa_type=_ts())
    last_sign_in_at: datetime | None = Field(default=None, sa_type=_ts(), nullable=True)
