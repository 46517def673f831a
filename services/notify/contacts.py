"""Recipients' contact details (name, e-mail, mobile, departed) read from the registry over gRPC
at delivery time, so Send never waits on another service."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import grpc
import structlog

from baobei.core.grpc_client import channel, metadata
from baobei.registry.v1 import registry_service_pb2 as rpb
from baobei.registry.v1 import registry_service_pb2_grpc as rpb_grpc

log = structlog.get_logger(__name__)
_HAS_LEFT = "left" in rpb.User.DESCRIPTOR.fields_by_name


@dataclass(frozen=True)
class Contact:
    user_id: str
    name: str = ""
    email: str = ""
    mobile: str = ""
    left: bool = False


class ContactsUnavailable(Exception):
    """The directory could not be reached: the delivery attempt is retryable."""


class Contacts(Protocol):
    def get(self, user_id: str) -> Contact | None: ...

    def close(self) -> None: ...


class NoDirectory:
    """No registry configured: nobody has an e-mail address or a mobile number."""

    def get(self, user_id: str) -> Contact | None:
        return None

    def close(self) -> None:
        return None


class RegistryContacts:
    def __init__(self, addr: str, *, timeout: float = 10.0) -> None:
        self._addr = addr
        self._channel = channel(addr)
        self._stub = rpb_grpc.RegistryServiceStub(self._channel)
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
