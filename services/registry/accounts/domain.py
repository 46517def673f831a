"""Plain rules of local accounts (no storage, no transport): the password policy, the lockout
back-off, TOTP codes and recovery codes, setup-link lifetimes and the sign-in settings.

Password policy (NIST SP 800-63B): a minimum length (setting, 10 by default) and at most 128
characters, no composition rules; refused when it is a common or breached password (the list
shipped beside this module, also with trailing digits and symbols stripped), or contains the
user's id, name (or its pinyin) or the local part of their e-mail. Passwords are compared and
hashed after Unicode NFKC normalisation, so the same password typed with another input method
still matches."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path

import pyotp

from baobei.core.errors import FieldViolation, ValidationFailed

MAX_LENGTH = 128
# The lowest minimum a deployment may configure (the breach list holds passwords of 8+ characters).
MIN_LENGTH_FLOOR = 8
BREACH_LIST = Path(__file__).with_name("common_passwords.txt")
INVITE, RESET = "invite", "reset"
PURPOSES = (INVITE, RESET)
TOTP_STEP_SECONDS = 30
TOTP_DIGITS = 6
TOTP_ISSUER = "Baobei 报备"
RECOVERY_CODES = 10
_TRAILING = re.compile(r"[\d\W_]+$")


@dataclass(frozen=True)
class AccountPolicy:
    """Settings of local accounts (``BAOBEI_PASSWORD_MIN_LENGTH``, ``BAOBEI_LOGIN_*``)."""

    min_length: int = 10
    # Consecutive failures that lock the account; each further failure doubles the lock.
    max_failures: int = 5
    lockout_base_seconds: int = 60
    lockout_max_seconds: int = 3600
    invite_ttl_hours: int = 72
    reset_ttl_hours: int = 1
    # Self-service ("forgot password") links per account and hour; beyond them none is sent.
    self_reset_per_hour: int = 3
    # argon2id parameters (a change rehashes each password at its next successful sign-in).
    hash_time_cost: int = 2
    hash_memory_kib: int = 19456
    hash_parallelism: int = 1

    def __post_init__(self) -> None:
        object.__setattr__(self, "min_length", max(MIN_LENGTH_FLOOR, min(self.min_length, MAX_LENGTH)))
        object.__setattr__(self, "max_failures", max(1, self.max_failures))

    def link_ttl(self, purpose: str) -> timedelta:
        return timedelta(hours=self.invite_ttl_hours if purpose == INVITE else self.reset_ttl_hours)


# ---- passwords ------------------------------------------------------------------------------------


def normalise_password(password: str) -> str:
    return unicodedata.normalize("NFKC", password or "")


@lru_cache(maxsize=1)
def breach_list() -> frozenset[str]:
    lines = BREACH_LIST.read_text(encoding="utf-8").splitlines()
    return frozenset(w.strip() for w in lines if w.strip() and not w.startswith("#"))


def is_common(password: str) -> bool:
    """In the breach list, as given or with trailing digits / symbols stripped ("iloveyou123")."""
    folded = normalise_password(password).casefold()
    base = _TRAILING.sub("", folded)
    common = breach_list()
    return folded in common or (len(base) >= MIN_LENGTH_FLOOR and base in common)


def _pinyin(name: str) -> str:
    if name.isascii():
        return ""
    from pypinyin import lazy_pinyin

    return "".join(lazy_pinyin(name))


def personal_words(user_id: str, name: str, email: str) -> list[str]:
    """Words a password must not contain: the user id, the e-mail's local part, the name and its
    pinyin (ASCII words from 3 characters, Chinese names from 2)."""
    words: list[str] = []
    for word in (user_id, email.split("@", 1)[0] if "@" in email else email, name, _pinyin(name)):
        w = normalise_password(word).casefold().replace(" ", "")
        if len(w) >= (3 if w.isascii() else 2):
            words.append(w)
    return words


def password_problems(password: str, *, field: str = "password", user_id: str = "", name: str = "",
                      email: str = "", policy: AccountPolicy | None = None) -> list[FieldViolation]:
    """Why ``password`` is refused (empty when it is acceptable)."""
    policy = policy or AccountPolicy()
    pw = normalise_password(password)
    if len(pw) < policy.min_length:
        return [FieldViolation(field, f"密码至少需要 {policy.min_length} 个字符",
                               f"the password needs at least {policy.min_length} characters")]
    if len(pw) > MAX_LENGTH:
        return [FieldViolation(field, f"密码不能超过 {MAX_LENGTH} 个字符",
                               f"the password must not exceed {MAX_LENGTH} characters")]
    if is_common(pw):
        return [FieldViolation(field, "该密码过于常见或出现在已泄露的密码中，请换一个",
                               "this password is too common or appeared in a data breach; choose another")]
    folded = pw.casefold().replace(" ", "")
    if any(w in folded for w in personal_words(user_id, name, email)):
        return [FieldViolation(field, "密码不能包含您的账号、姓名或邮箱",
                               "the password must not contain your user id, name or e-mail")]
    return []


def check_password(password: str, *, field: str = "password", user_id: str = "", name: str = "",
                   email: str = "", policy: AccountPolicy | None = None) -> None:
    problems = password_problems(password, field=field, user_id=user_id, name=name, email=email, policy=policy)
    if problems:
        raise ValidationFailed(problems, "密码不符合要求", "the password does not meet the policy")


# ---- lockout -------------------------------------------------------------------------------------


def lock_seconds(failures: int, policy: AccountPolicy) -> int:
    """How long ``failures`` consecutive failures lock the account: nothing below the threshold,
    then the base period, doubling with each further failure, capped."""
    if failures < policy.max_failures:
        return 0
    doublings = min(failures - policy.max_failures, 30)
    return int(min(policy.lockout_max_seconds, policy.lockout_base_seconds * 2**doublings))


def retry_after(locked_until: datetime, now: datetime) -> int:
    return max(1, int((locked_until - now).total_seconds() + 0.999))


# ---- TOTP and recovery codes ---------------------------------------------------------------------


def new_totp_secret() -> str:
    return pyotp.random_base32()  # 160 bits


def totp_uri(secret: str, account: str) -> str:
    return pyotp.TOTP(secret, digits=TOTP_DIGITS, interval=TOTP_STEP_SECONDS).provisioning_uri(
        name=account, issuer_name=TOTP_ISSUER)


def totp_code(secret: str, at: datetime) -> str:
    """The code of ``at`` (tests and the enrolment page's example)."""
    return pyotp.TOTP(secret, digits=TOTP_DIGITS, interval=TOTP_STEP_SECONDS).at(at)


def _digits(code: str) -> str:
    return re.sub(r"[\s-]", "", code or "")


def totp_step(secret: str, code: str, at: datetime, last_step: int) -> int | None:
    """The step a code belongs to, when it is the code of the step of ``at`` or a neighbour
    (±1 step for clock drift) and later than ``last_step`` (a used code is never accepted again);
    else None."""
    code = _digits(code)
    if not secret or len(code) != TOTP_DIGITS or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret, digits=TOTP_DIGITS, interval=TOTP_STEP_SECONDS)
    step = int(at.timestamp()) // TOTP_STEP_SECONDS
    for candidate in (step, step - 1, step + 1):
        if candidate > last_step and hmac.compare_digest(totp.generate_otp(candidate), code):
            return candidate
    return None


def is_recovery_code(code: str) -> bool:
    c = _digits(code).lower()
    return len(c) == 10 and all(ch in "0123456789abcdef" for ch in c)


def recovery_hash(code: str) -> str:
    return hashlib.sha256(_digits(code).lower().encode()).hexdigest()


def new_recovery_codes(n: int = RECOVERY_CODES) -> list[str]:
    """Codes like ``3f9a1-07c2e`` (40 random bits each: they are single-use and rate-limited by
    the lockout, and stored as SHA-256)."""
    out = []
    for _ in range(n):
        h = secrets.token_hex(5)
        out.append(f"{h[:5]}-{h[5:]}")
    return out


# ---- setup links and settings --------------------------------------------------------------------


def new_link_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256((token or "").strip().encode()).hexdigest()


def check_purpose(purpose: str) -> None:
    if purpose not in PURPOSES:
        raise ValidationFailed([FieldViolation("purpose", "用途必须是 invite 或 reset", "purpose: invite or reset")])


def normalise_roles(roles: Iterable[str]) -> list[str]:
    """Trimmed, de-duplicated role names; a blank or over-long one is refused naming its index."""
    out: dict[str, None] = {}
    problems: list[FieldViolation] = []
    for i, role in enumerate(roles):
        r = role.strip()
        if not r or len(r) > 100:
            problems.append(FieldViolation(f"totp_required_roles[{i}]", "角色名不能为空且不超过 100 个字符",
                                           "a role name must be 1 to 100 characters"))
            continue
        out.setdefault(r, None)
    if problems:
        raise ValidationFailed(problems)
    return list(out)


def totp_required(roles: Iterable[str], required_roles: Iterable[str]) -> bool:
    return bool(set(roles) & set(required_roles))
