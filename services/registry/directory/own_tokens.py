"""Rules of the tokens people create for themselves (pure: no I/O, no clock).

- A name is required (what the token is for: it is listed, never the secret).
- Scopes: only what the user may have — ``reports:read`` for everyone, ``crm:write`` and
  ``org:sync`` for users with the ``integrator`` or ``admin`` role. Asked with a token, also only
  what that token has: a token never mints a stronger one. No scopes given = all of those.
- Lifetime 1–365 days (default 90); asked with a token, never past that token's expiry (the
  default is shortened to it, a longer explicit one is refused): a leaked short-lived token
  cannot buy itself a longer life. Longer-lived tokens come from a browser session or an admin."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from baobei.core.errors import FieldViolation, Forbidden, ValidationFailed
from services.registry.access import INTEGRATOR_ROLE, MAX_NAME, SCOPES
from services.registry.domain import ADMIN_ROLE

DEFAULT_DAYS = 90
MAX_DAYS = 365
# Scopes that only integrators (and admins) may hold.
INTEGRATION_SCOPES = ("crm:write", "org:sync")


@dataclass(frozen=True)
class OwnTokenSpec:
    name: str
    scopes: tuple[str, ...]
    expires_at: datetime


def allowed_scopes(roles: Sequence[str], parent_scopes: Sequence[str] | None) -> tuple[str, ...]:
    """Scopes the user may give a token of their own, in ``SCOPES`` order."""
    integrator = INTEGRATOR_ROLE in roles or ADMIN_ROLE in roles
    mine = [s for s in SCOPES if integrator or s not in INTEGRATION_SCOPES]
    return tuple(s for s in mine if parent_scopes is None or s in parent_scopes)


def own_token_spec(
    *, name: str, scopes: Sequence[str], scopes_given: bool, expires_in_days: int, roles: Sequence[str],
    parent_scopes: Sequence[str] | None, parent_expires_at: datetime | None, now: datetime,
) -> OwnTokenSpec:
    """The validated request: 422 naming every bad field at once, then 403 ``scope_not_allowed``
    naming each scope the user (or the asking token) may not pass on."""
    bad: list[FieldViolation] = []
    name = name.strip()
    if not name:
        bad.append(FieldViolation("name", "请填写令牌名称（用途）", "name the token (what it is for)"))
    elif len(name) > MAX_NAME:
        bad.append(FieldViolation("name", f"不能超过 {MAX_NAME} 个字符", f"must have at most {MAX_NAME} characters"))
    elif any(ord(c) < 32 or ord(c) == 127 for c in name):
        bad.append(FieldViolation("name", "不能包含控制字符", "must not contain control characters"))
    chosen: list[tuple[int, str]] = []
    for i, raw in enumerate(scopes):
        scope = raw.strip()
        if scope not in SCOPES:
            bad.append(FieldViolation(f"scopes[{i}]", f"未知权限范围 {scope}，可选：{'、'.join(SCOPES)}",
                                      f"unknown scope {scope}; one of {', '.join(SCOPES)}"))
        elif scope not in (s for _, s in chosen):
            chosen.append((i, scope))
    days = expires_in_days or DEFAULT_DAYS
    expires_at = now + timedelta(days=days)
    if not 1 <= days <= MAX_DAYS:
        bad.append(FieldViolation("expires_in_days", f"须在 1 到 {MAX_DAYS} 之间", f"must be between 1 and {MAX_DAYS}"))
    elif parent_expires_at is not None and expires_at > parent_expires_at:
        if expires_in_days:
            until = parent_expires_at.isoformat(timespec="seconds")
            bad.append(FieldViolation(
                "expires_in_days", f"用令牌创建的令牌不能晚于该令牌的到期时间（{until}）",
                f"a token created with a token cannot outlive it ({until})"))
        expires_at = parent_expires_at
    if bad:
        raise ValidationFailed(bad)
    allowed = allowed_scopes(roles, parent_scopes)
    if not scopes_given:
        return OwnTokenSpec(name=name, scopes=allowed, expires_at=expires_at)
    refused = [(i, s) for i, s in chosen if s not in allowed]
    if refused:
        raise Forbidden(
            f"不能为自己的令牌授予权限范围 {'、'.join(s for _, s in refused)}",
            f"you may not give your token the scope(s) {', '.join(s for _, s in refused)}",
            code="scope_not_allowed",
            violations=[FieldViolation(f"scopes[{i}]", f"你（或当前令牌）没有权限范围 {s}",
                                       f"neither you nor the token in use may hold {s}") for i, s in refused],
        )
    return OwnTokenSpec(name=name, scopes=tuple(s for _, s in chosen), expires_at=expires_at)
