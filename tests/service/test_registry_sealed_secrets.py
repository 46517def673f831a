"""Secrets sealed at rest in the registry's database, over real gRPC: provider secrets and TOTP
secrets are not plain text in their rows, yet GetProvider(with_secrets) and TOTP sign-in work;
legacy plain-text rows keep working and are sealed at the next start; a configured key takes over
from the generated one; another key is a clear error."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import pytest
import sqlalchemy as sa
from google.protobuf import timestamp_pb2

from baobei.core.db import make_engine
from baobei.registry.v1 import accounts_service_pb2 as apb
from baobei.registry.v1 import accounts_service_pb2_grpc as apb_grpc
from baobei.registry.v1 import identity_service_pb2 as ipb
from baobei.registry.v1 import identity_service_pb2_grpc as ipb_grpc
from baobei.registry.v1 import registry_service_pb2 as pb
from baobei.registry.v1 import registry_service_pb2_grpc as pb_grpc
from services.registry.accounts import domain
from services.registry.sealing import PREFIX
from tests.conftest import running_service

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PASSWORD = "correct horse battery staple 42"
KEY = "configured-registry-key-" + "x" * 20


def ts(at: datetime) -> timestamp_pb2.Timestamp:
    out = timestamp_pb2.Timestamp()
    out.FromDatetime(at)
    return out


@contextmanager
def registry(db_url: str, **kw: Any) -> Iterator[grpc.Channel]:
    with running_service("registry", db_url=db_url, **kw) as svc:
        yield svc.channel


def put_provider(ch: grpc.Channel, request_id: str, **secrets: str) -> ipb.Provider:
    p = ipb.Provider(key="corp", type="oidc", name="公司登录", enabled=True)
    p.config.update({"issuer": "https://sso.example.com", "client_id": "baobei"})
    p.secrets.update(secrets)
    return ipb_grpc.IdentityServiceStub(ch).PutProvider(
        ipb.PutProviderRequest(request_id=request_id, provider=p, actor_id="root"), timeout=10)


def get_secrets(ch: grpc.Channel) -> dict[str, Any]:
    got = ipb_grpc.IdentityServiceStub(ch).GetProvider(ipb.GetProviderRequest(key="corp", with_secrets=True),
                                                       timeout=10)
    return dict(got.secrets)


def stored_secrets(db_url: str) -> dict[str, Any]:
    with make_engine(db_url).connect() as conn:
        raw = conn.execute(sa.text("SELECT secrets FROM auth_provider WHERE key = 'corp'")).scalar_one()
    return dict(json.loads(raw) if isinstance(raw, str) else raw)


def stored_totp(db_url: str) -> tuple[str, str]:
    with make_engine(db_url).connect() as conn:
        row = conn.execute(sa.text("SELECT totp_secret, totp_pending FROM account WHERE user_id = 'u1'")).one()
    return row[0], row[1]


@pytest.fixture()
def db_url(make_db_url: Callable[[str], str]) -> str:
    url = make_db_url("registry")
    with registry(url) as ch:
        pb_grpc.RegistryServiceStub(ch).UpsertOrg(pb.UpsertOrgRequest(
            request_id="org", departments=[pb.Department(id="hq", name="总部")],
            users=[pb.User(id="u1", name="张三", email="zhang@example.com", department_id="hq")]), timeout=10)
    return url


def test_provider_secrets_are_sealed_in_the_row_and_readable_over_grpc(db_url: str) -> None:
    with registry(db_url) as ch:
        out = put_provider(ch, "p1", client_secret="s3cret-oidc")
        assert list(out.secrets_set) == ["client_secret"] and not out.secrets.fields
        row = stored_secrets(db_url)
        assert row["client_secret"].startswith(PREFIX) and "s3cret-oidc" not in json.dumps(row)
        assert get_secrets(ch) == {"client_secret": "s3cret-oidc"}
        # An unchanged PUT keeps the sealed value as it is and the version.
        again = put_provider(ch, "p2", client_secret="s3cret-oidc")
        assert again.version == out.version and stored_secrets(db_url) == row
    # After a restart (same generated key in the database) the secret still reads.
    with registry(db_url) as ch:
        assert get_secrets(ch) == {"client_secret": "s3cret-oidc"}


def test_legacy_plain_text_provider_secret_works_and_is_sealed_at_next_start(db_url: str) -> None:
    with registry(db_url) as ch:
        put_provider(ch, "p1", client_secret="placeholder")
        with make_engine(db_url).begin() as conn:
            conn.execute(sa.text("UPDATE auth_provider SET secrets = :s WHERE key = 'corp'"),
                         {"s": json.dumps({"client_secret": "legacy-plain", "bind_password": "pw"})})
        assert get_secrets(ch) == {"client_secret": "legacy-plain", "bind_password": "pw"}
        assert sorted(ipb_grpc.IdentityServiceStub(ch).GetProvider(
            ipb.GetProviderRequest(key="corp"), timeout=10).secrets_set) == ["bind_password", "client_secret"]
    with registry(db_url) as ch:
        row = stored_secrets(db_url)
        assert all(v.startswith(PREFIX) for v in row.values()) and "legacy-plain" not in json.dumps(row)
        assert get_secrets(ch) == {"client_secret": "legacy-plain", "bind_password": "pw"}


def sign_in(ch: grpc.Channel, code: str, at: datetime) -> apb.SignInResponse:
    return apb_grpc.AccountServiceStub(ch).SignIn(
        apb.SignInRequest(login="u1", password=PASSWORD, totp_code=code, now=ts(at)), timeout=10)


def test_totp_secret_is_sealed_yet_verifies(db_url: str) -> None:
    with registry(db_url) as ch:
        accounts = apb_grpc.AccountServiceStub(ch)
        accounts.SetPassword(apb.SetPasswordRequest(user_id="u1", password=PASSWORD, now=ts(T0)), timeout=10)
        secret = accounts.StartTotp(apb.StartTotpRequest(user_id="u1"), timeout=10).secret
        _, pending = stored_totp(db_url)
        assert pending.startswith(PREFIX) and secret not in pending
        # Starting again hands back the same (unsealed) pending secret.
        assert accounts.StartTotp(apb.StartTotpRequest(user_id="u1"), timeout=10).secret == secret
        accounts.ConfirmTotp(apb.ConfirmTotpRequest(user_id="u1", code=domain.totp_code(secret, T0), now=ts(T0)),
                             timeout=10)
        stored, pending = stored_totp(db_url)
        assert stored.startswith(PREFIX) and secret not in stored and pending == ""
        t1 = T0 + timedelta(minutes=5)
        assert sign_in(ch, "000000" if domain.totp_code(secret, t1) != "000000" else "111111",
                       t1).outcome == apb.SignInResponse.TOTP_INVALID
        assert sign_in(ch, domain.totp_code(secret, t1 + timedelta(minutes=1)),
                       t1 + timedelta(minutes=1)).outcome == apb.SignInResponse.OK


def test_legacy_plain_text_totp_secret_still_verifies_and_is_sealed_at_next_start(db_url: str) -> None:
    secret = domain.new_totp_secret()
    with registry(db_url) as ch:
        apb_grpc.AccountServiceStub(ch).SetPassword(
            apb.SetPasswordRequest(user_id="u1", password=PASSWORD, now=ts(T0)), timeout=10)
        with make_engine(db_url).begin() as conn:
            conn.execute(sa.text("UPDATE account SET totp_secret = :s WHERE user_id = 'u1'"), {"s": secret})
        assert sign_in(ch, domain.totp_code(secret, T0), T0).outcome == apb.SignInResponse.OK
    with registry(db_url) as ch:
        stored, _ = stored_totp(db_url)
        assert stored.startswith(PREFIX) and secret not in stored
        t1 = T0 + timedelta(minutes=2)
        assert sign_in(ch, domain.totp_code(secret, t1), t1).outcome == apb.SignInResponse.OK


def test_configured_key_takes_over_and_another_key_is_a_clear_error(db_url: str) -> None:
    with registry(db_url) as ch:
        put_provider(ch, "p1", client_secret="under-generated")
    # A configured key reads what the generated key sealed, and re-seals it at start.
    with registry(db_url, secrets_key=KEY) as ch:
        assert get_secrets(ch) == {"client_secret": "under-generated"}
    resealed = stored_secrets(db_url)
    with make_engine(db_url).begin() as conn:
        conn.execute(sa.text("DELETE FROM registry_secrets_key"))
    with registry(db_url, secrets_key=KEY) as ch:
        assert get_secrets(ch) == {"client_secret": "under-generated"}
    # Rotation: the new key with the old one listed; without it, a clear error (not a crash at start).
    with registry(db_url, secrets_key=KEY + "-new", secrets_old_keys=[KEY]) as ch:
        assert get_secrets(ch) == {"client_secret": "under-generated"}
    assert stored_secrets(db_url) != resealed
    with registry(db_url, secrets_key="some-other-key-entirely") as ch:
        with pytest.raises(grpc.RpcError) as err:
            get_secrets(ch)
        assert "BAOBEI_REGISTRY_SECRETS_OLD_KEYS" in (err.value.details() or "")
