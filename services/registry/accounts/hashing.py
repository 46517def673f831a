"""Password hashes: argon2id through argon2-cffi's ``PasswordHasher``. The parameters are
settings (default: OWASP's recommendation m=19 MiB, t=2, p=1, 16-byte salt); a hash made with
other parameters still verifies and is replaced at the next successful sign-in
(``needs_rehash``)."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from services.registry.accounts.domain import normalise_password

_REFUSED = (VerifyMismatchError, VerificationError, InvalidHashError)


@dataclass
class Hasher:
    time_cost: int = 2
    memory_kib: int = 19456
    parallelism: int = 1
    _ph: PasswordHasher = field(init=False, repr=False)
    _dummy: str = field(init=False, default="", repr=False)

    def __post_init__(self) -> None:
        self._ph = PasswordHasher(time_cost=max(1, self.time_cost), memory_cost=max(8 * self.parallelism,
                                  self.memory_kib), parallelism=max(1, self.parallelism), type=Type.ID)

    def hash(self, password: str) -> str:
        return self._ph.hash(normalise_password(password))

    def verify(self, password_hash: str, password: str) -> bool:
        if not password_hash:
            self.dummy_verify(password)
            return False
        try:
            return self._ph.verify(password_hash, normalise_password(password))
        except _REFUSED:
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        try:
            return self._ph.check_needs_rehash(password_hash)
        except InvalidHashError:
            return True

    def dummy_verify(self, password: str) -> None:
        """As slow as a real check: an unknown login takes as long to refuse as a wrong password."""
        if not self._dummy:
            self._dummy = self._ph.hash("baobei-dummy-password-for-timing")
        with contextlib.suppress(*_REFUSED):
            self._ph.verify(self._dummy, normalise_password(password))
