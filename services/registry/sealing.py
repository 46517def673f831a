"""Secrets sealed at rest in the registry's database: sign-in provider secrets (client secrets, bind
passwords, app secrets) and TOTP secrets of local accounts.

A sealed value is ``enc:v1:<Fernet token>`` (AES-128-CBC + HMAC-SHA256, authenticated: a changed
byte or another key is an error, never garbage). The Fernet key is derived with HKDF-SHA256 from
``BAOBEI_REGISTRY_SECRETS_KEY`` (any string of at least 16 characters), so operators can use
``openssl rand -base64 32`` as is. Without that setting, the registry generates a key once and keeps
it in its own database (table ``registry_secrets_key``). Values without the prefix are legacy
plain text: they are read as they are, and :func:`reseal_at_rest` seals them at start-up; it also
re-seals values still under an old key (``BAOBEI_REGISTRY_SECRETS_OLD_KEYS``), which completes a
key rotation."""

from __future__ import annotations

import base64
import secrets as pysecrets
from collections.abc import Iterable
from datetime import UTC, datetime

import sqlalchemy as sa
import structlog
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, col, select

from services.registry.models import Base

log = structlog.get_logger(__name__)

PREFIX = "enc:v1:"
MIN_KEY_LENGTH = 16
_INFO = b"baobei registry secrets v1"
GENERATED = "generated"


class SealError(RuntimeError):
    """A sealed value no configured key opens: the key changed, or the value was altered."""


class SecretsKeyRow(Base, table=True):
    """The generated sealing key, used only when BAOBEI_REGISTRY_SECRETS_KEY is empty."""

    __tablename__ = "registry_secrets_key"

    name: str = Field(primary_key=True, max_length=50)
    secret: str = Field(max_length=200)
    created_at: datetime = Field(sa_type=sa.DateTime(timezone=True))


def _fernet(key: str) -> Fernet:
    if len(key) < MIN_KEY_LENGTH:
        raise ValueError(f"a registry secrets key needs at least {MIN_KEY_LENGTH} characters")
    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(key.encode())
    return Fernet(base64.urlsafe_b64encode(raw))


class Sealer:
    """Seals under ``key``; unseals under ``key`` or any of ``old_keys``."""

    def __init__(self, key: str, old_keys: Iterable[str] = ()) -> None:
        self._current = _fernet(key)
        olds = [k for k in old_keys if k and k != key]
        self._all = MultiFernet([self._current, *(_fernet(k) for k in olds)])

    def seal(self, text: str) -> str:
        """``""`` stays ``""`` (callers test emptiness for "not set")."""
        return PREFIX + self._current.encrypt(text.encode()).decode() if text else ""

    def unseal(self, value: str) -> str:
        if not value.startswith(PREFIX):
            return value  # legacy plain text, sealed at the next start or write
        try:
            return self._all.decrypt(value[len(PREFIX):].encode()).decode()
        except InvalidToken:
            raise SealError(
                "a stored registry secret cannot be unsealed: it was sealed under another key "
                "(list the previous BAOBEI_REGISTRY_SECRETS_KEY in BAOBEI_REGISTRY_SECRETS_OLD_KEYS) "
                "or it was altered") from None

    def is_current(self, value: str) -> bool:
        """Sealed under the current key (or empty): nothing to re-seal."""
        if not value:
            return True
        if not value.startswith(PREFIX):
            return False
        try:
            self._current.decrypt(value[len(PREFIX):].encode())
        except InvalidToken:
            return False
        return True

    def reseal(self, value: str) -> str:
        return value if self.is_current(value) else self.seal(self.unseal(value))


def stored_key(engine: Engine, *, create: bool = True) -> str | None:
    """The generated key kept in the registry's database, created on first use (concurrent
    starters agree on one)."""
    with Session(engine) as session:
        row = session.get(SecretsKeyRow, GENERATED)
        if row is not None or not create:
            return row.secret if row is not None else None
        session.add(SecretsKeyRow(name=GENERATED, secret=pysecrets.token_urlsafe(32), created_at=datetime.now(UTC)))
        try:
            session.commit()
        except IntegrityError:
            session.rollback()
    with Session(engine) as session:
        row = session.get(SecretsKeyRow, GENERATED)
        assert row is not None
        return row.secret


def sealer_for(engine: Engine, key: str = "", old_keys: Iterable[str] = ()) -> Sealer:
    """The configured key, else the generated one. A generated key, if any, stays readable after a
    key is configured, so switching to a configured key needs no step."""
    if key:
        generated = stored_key(engine, create=False)
        return Sealer(key, [*old_keys, *([generated] if generated else [])])
    generated = stored_key(engine)
    assert generated is not None
    return Sealer(generated, old_keys)


def reseal_at_rest(engine: Engine, sealer: Sealer) -> int:
    """Seal legacy plain text and values under an old key; the number of rows changed. A value no
    key opens is left as it is (logged): reading it answers a clear error."""
    from services.registry.accounts.models import AccountRow
    from services.registry.identity.models import AuthProviderRow

    changed = unreadable = 0
    with Session(engine) as session:
        providers = [(p.key, p.version, dict(p.secrets or {})) for p in session.exec(select(AuthProviderRow))]
        accounts = [(a.user_id, a.totp_secret, a.totp_pending) for a in session.exec(select(AccountRow).where(
            (col(AccountRow.totp_secret) != "") | (col(AccountRow.totp_pending) != "")))]
    # Each write is conditional on the row being as read, so a concurrent change always wins.
    with Session(engine) as session:
        for key, version, old in providers:
            try:
                new = {k: sealer.reseal(v) if isinstance(v, str) else v for k, v in old.items()}
            except SealError:
                unreadable += 1
                continue
            if new != old:
                result = session.execute(sa.update(AuthProviderRow).where(
                    col(AuthProviderRow.key) == key, col(AuthProviderRow.version) == version).values(secrets=new))
                changed += getattr(result, "rowcount", 0)
        for user_id, secret, pending in accounts:
            try:
                values = {"totp_secret": sealer.reseal(secret), "totp_pending": sealer.reseal(pending)}
            except SealError:
                unreadable += 1
                continue
            if (values["totp_secret"], values["totp_pending"]) != (secret, pending):
                result = session.execute(sa.update(AccountRow).where(
                    col(AccountRow.user_id) == user_id, col(AccountRow.totp_secret) == secret,
                    col(AccountRow.totp_pending) == pending).values(**values))
                changed += getattr(result, "rowcount", 0)
        session.commit()
    if changed:
        log.info("registry.secrets_resealed", rows=changed)
    if unreadable:
        log.error("registry.secrets_unreadable", rows=unreadable,
                  hint="set BAOBEI_REGISTRY_SECRETS_OLD_KEYS to the key these were sealed under")
    return changed
