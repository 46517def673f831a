"""Account tables, on the registry's metadata (one database, one migration chain)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field

from services.registry.models import Base


def _ts() -> Any:
    return sa.DateTime(timezone=True)


class AccountRow(Base, table=True):
    """The local account of one org user (a row exists once a password, TOTP or a failure is
    recorded). Failures and the lock live here, so they survive restarts and every edge replica
    sees the same count."""

    __tablename__ = "account"

    user_id: str = Field(primary_key=True, max_length=100)
    # argon2id PHC string ("$argon2id$v=19$m=...,t=...,p=...$salt$hash"); "" = no password yet.
    password_hash: str = Field(default="", max_length=255)
    password_set_at: datetime | None = Field(default=None, sa_type=_ts(), nullable=True)
    # Consecutive failures (wrong password or code) since the last success.
    failed_count: int = Field(default=0)
    locked_until: datetime | None = Field(default=None, sa_type=_ts(), nullable=True)
    last_failure_at: datetime | None = Field(default=None, sa_type=_ts(), nullable=True)
    last_sign_in_at: datetime | None = Field(default=None, sa_type=_ts(), nullable=True)
    # Base32 TOTP secret once confirmed; the one being enrolled until then. Both sealed
    # (services/registry/sealing.py: "enc:v1:…"; legacy rows may hold plain base32).
    totp_secret: str = Field(default="", max_length=255)
    totp_pending: str = Field(default="", max_length=255)
    # The last 30-second step whose code was accepted: a code is never accepted twice.
    totp_last_step: int = Field(default=0, sa_type=sa.BigInteger)
    totp_enabled_at: datetime | None = Field(default=None, sa_type=_ts(), nullable=True)
    # SHA-256 hex of the unused recovery codes.
    recovery_codes: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    updated_at: datetime = Field(sa_type=_ts())


class SetupLinkRow(Base, table=True):
    """A single-use invite or password-reset link; only the token's SHA-256 is kept."""

    __tablename__ = "account_setup_link"

    token_hash: str = Field(primary_key=True, max_length=64)
    user_id: str = Field(max_length=100, index=True)
    # invite | reset
    purpose: str = Field(max_length=10)
    # open | used | void (superseded by a newer link, or the password changed meanwhile)
    state: str = Field(default="open", max_length=10)
    created_at: datetime = Field(sa_type=_ts())
    expires_at: datetime = Field(sa_type=_ts())
    used_at: datetime | None = Field(default=None, sa_type=_ts(), nullable=True)
    # The admin who issued it, or "self" (forgot password), or "cli".
    created_by: str = Field(default="", max_length=100)


class AuthSettingsRow(Base, table=True):
    """Sign-in settings admins change at run time (one row, id 1)."""

    __tablename__ = "auth_settings"

    id: int = Field(default=1, primary_key=True, sa_column_kwargs={"autoincrement": False})
    totp_required_roles: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    # Retired bootstrap admin tokens: [{"fingerprint": sha256 hex, "at": ISO time, "by": user id}].
    retired_bootstrap_tokens: list[dict[str, str]] = Field(default_factory=list, sa_type=sa.JSON)
    version: int = Field(default=0)
    updated_at: datetime | None = Field(default=None, sa_type=_ts(), nullable=True)
    updated_by: str = Field(default="", max_length=100)
