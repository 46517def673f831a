"""Plain rules of identity: provider types and keys, and how an external attribute is compared
with an org user's (no transport, no storage)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from baobei.core.errors import FieldViolation, ValidationFailed

PROVIDER_TYPES = ("oidc", "ldap", "dingtalk", "wecom", "feishu")
MATCH_FIELDS = ("id", "email", "mobile")
_KEY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


@dataclass(frozen=True)
class Candidate:
    """An org user as the matcher sees them."""

    id: str
    email: str
    mobile: str
    left: bool


def check_provider(key: str, type_: str) -> None:
    problems = []
    if not _KEY.match(key):
        problems.append(FieldViolation("key", "标识只能包含小写字母、数字、- 和 _（最长 64）",
                                       "key: lower-case letters, digits, - and _ (at most 64)"))
    if type_ not in PROVIDER_TYPES:
        problems.append(FieldViolation("type", f"类型必须是 {' / '.join(PROVIDER_TYPES)} 之一",
                                       f"type must be one of {', '.join(PROVIDER_TYPES)}"))
    if problems:
        raise ValidationFailed(problems)


def normalise(field: str, value: str) -> str:
    """E-mail case-insensitively, mobiles without +86/0086, spaces and dashes; ids as given."""
    value = (value or "").strip()
    if field == "email":
        return value.lower()
    if field == "mobile":
        digits = re.sub(r"[\s\-()]", "", value)
        for prefix in ("+86", "0086"):
            if digits.startswith(prefix):
                digits = digits[len(prefix):]
        return digits
    return value


def matches(field: str, value: str, users: Iterable[Candidate]) -> list[Candidate]:
    """Users whose ``field`` equals ``value`` (normalised); an empty value matches nobody."""
    wanted = normalise(field, value)
    if not wanted:
        return []
    return [u for u in users if normalise(field, getattr(u, field)) == wanted]
