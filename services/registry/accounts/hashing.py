"""Password hashes: argon2id through argon2-cffi's ``PasswordHasher`` (RFC 9106 low-memory
profile: t=3, m=64 MiB, p=4, 16-byte salt). A hash made with other parameters still verifies and
is replaced at the next successful sign-in (``needs_rehash``)."""

from __future__ import annotations

import contextlib
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from services.registry.accounts.domain import normalise_password

HASHER = PasswordHasher()


def hash_password(password: str) -> str:
    return HASHER.hash(normalise_password(password))


def verify(password_hash: str, password: str) -> bool:
    if not password_hash:
        dummy_verify(password)
        return False
    try:
        return HASHER.verify(password_hash, normalise_password(password))
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    try:
        return HASHER.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return HASHER.hash("baobei-dummy-password-for-timing")


def dummy_verify(password: str) -> None:
    """As slow as a real check: an unknown login takes as long to refuse as a wrong password."""
    with contextlib.suppress(VerifyMismatchError, VerificationError, InvalidHashError):
        HASHER.verify(_dummy_hash(), normalise_password(password))
