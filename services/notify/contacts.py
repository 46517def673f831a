"""Recipients' contact details (name, e-mail, mobile, departed) and their identities on the IM
platforms (identity links of DingTalk / WeCom / Feishu sign-in) read from the registry over gRPC
at delivery time, so Send never waits on another service."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Protocol

import grpc
import structlog

from baobei.core.grpc_client import channel, metadata
from baobei.registry.v1 import identity_service_pb2 as ipb
from baobei.registry.v1 import identity_service_pb2_grpc as ipb_grpc
from baobei.registry.v1 import registry_service_pb2 as rpb
from baobei.registry.v1 import registry_service_pb2_grpc as rpb_grpc

log = structlog.get_logger(__name__)
PROVIDERS_TTL_SECONDS = 60.0
_HAS_LEFT = "left" in rpb.User.DESCRIPTOR.fields_by_name


@dataclass(frozen=True)
class Contact:
    user_id: str
    name: str = ""
    email: str = ""
    mobile: str = ""
    left: bool = False


@dataclass(frozen=True)
class Identity:
    """A person's identity link to a sign-in provider: the provider's stable ``subject`` (DingTalk
    / Feishu unionid, WeCom userid) and, when the link recorded it, their ``userid`` in the org."""

    subject: str
    userid: str = ""


class ContactsUnavailable(Exception):
    """The directory could not be reached: the delivery attempt is retryable."""


class Contacts(Protocol):
    def get(self, user_id: str) -> Contact | None: ...

    # provider key → the person's identity there (empty when none or unknown user).
    def identities(self, user_id: str) -> dict[str, Identity]: ...

    # Keys of the enabled sign-in providers of a type (dingtalk / wecom / feishu), sorted.
    def providers(self, provider_type: str) -> tuple[str, ...]: ...

    def close(self) -> None: ...


class NoDirectory:
    """No registry configured: nobody has an e-mail address or a mobile number."""

    def get(self, user_id: str) -> Contact | None:
        return None

    def identities(self, user_id: str) -> dict[str, Identity]:
        return {}

    def providers(self, provider_type: str) -> tuple[str, ...]:
        return ()

    def close(self) -> None:
        return None


class RegistryContacts:
    def __init__(self, addr: str, *, timeout: float = 10.0) -> None:
        self._addr = addr
        self._channel = channel(addr)
        self._stub = rpb_grpc.RegistryServiceStub(self._channel)
        self._identity = ipb_grpc.IdentityServiceStub(self._channel)
        # Providers change rarely: read at most once a minute (per notify process).
        self._providers: tuple[float, dict[str, tuple[str, ...]]] | None = None
        self._lock = threading.Lock()
        self._timeout = timeout

    def close(self) -> None:
        self._channel.close()

    def get(self, user_id: str) -> Contact | None:
        if not user_id:
            return None
        try:
            resp = self._stub.GetUser(rpb.GetUserRequest(user_id=user_id), timeout=self._timeout, metadata=metadata())
        except grpc.RpcError as err:
            if err.code() in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT):
                return None
            log.warning("notify.registry_failed", addr=self._addr, code=str(err.code()))
            raise ContactsUnavailable(f"registry GetUser failed: {err.code()}") from err
        u = resp.user
        return Contact(
            user_id=u.id,
            name=u.name,
            email=u.email,
            mobile=u.mobile,
            left=bool(getattr(u, "left", False)) if _HAS_LEFT else False,
        )

    def identities(self, user_id: str) -> dict[str, Identity]:
        if not user_id:
            return {}
        try:
            resp = self._identity.ListIdentityLinks(ipb.ListIdentityLinksRequest(user_id=user_id),
                                                    timeout=self._timeout, metadata=metadata())
        except grpc.RpcError as err:
            if err.code() in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT):
                return {}
            log.warning("notify.registry_failed", addr=self._addr, code=str(err.code()))
            raise ContactsUnavailable(f"registry ListIdentityLinks failed: {err.code()}") from err
        return {link.provider_key: Identity(subject=link.subject, userid=link.platform_user_id) for link in resp.links}

    def providers(self, provider_type: str) -> tuple[str, ...]:
        with self._lock:
            cached = self._providers
            if cached is None or time.monotonic() - cached[0] > PROVIDERS_TTL_SECONDS:
                try:
                    resp = self._identity.ListProviders(ipb.ListProvidersRequest(enabled_only=True),
                                                        timeout=self._timeout, metadata=metadata())
                except grpc.RpcError as err:
                    log.warning("notify.registry_failed", addr=self._addr, code=str(err.code()))
                    raise ContactsUnavailable(f"registry ListProviders failed: {err.code()}") from err
                by_type: dict[str, list[str]] = {}
                for p in resp.providers:
                    by_type.setdefault(p.type, []).append(p.key)
                cached = (time.monotonic(), {t: tuple(sorted(keys)) for t, keys in by_type.items()})
                self._providers = cached
            return cached[1].get(provider_type, ())
