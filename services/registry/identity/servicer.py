"""IdentityService over gRPC: thin methods around the identity store."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import grpc
import sqlalchemy as sa
from google.protobuf import json_format
from google.protobuf.message import Message
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from baobei.core.db import run_once
from baobei.core.grpc_server import rpc
from baobei.registry.v1 import identity_service_pb2 as pb
from baobei.registry.v1 import identity_service_pb2_grpc as pb_grpc
from services.registry import mapping
from services.registry.identity import store
from services.registry.identity.models import AuthProviderRow, IdentityLinkRow
from services.registry.sealing import Sealer
from services.registry.store.rows import user_of

M = TypeVar("M", bound=Message)
T = TypeVar("T")


def provider_to_pb(row: AuthProviderRow, *, with_secrets: bool, sealer: Sealer | None = None) -> pb.Provider:
    """Secrets only ``with_secrets`` (then ``sealer`` unseals them); ``secrets_set`` names them."""
    out = pb.Provider(key=row.key, type=row.type, name=row.name, enabled=row.enabled, version=row.version,
                      secrets_set=sorted(k for k, v in (row.secrets or {}).items() if v not in (None, "")),
                      updated_by=row.updated_by, updated_at=mapping.ts(row.updated_at))
    out.config.update(row.config or {})
    if with_secrets:
        assert sealer is not None
        out.secrets.update(store.unseal_secrets(dict(row.secrets or {}), sealer))
    return out


def link_to_pb(row: IdentityLinkRow) -> pb.IdentityLink:
    out = pb.IdentityLink(provider_key=row.provider_key, subject=row.subject, user_id=row.user_id,
                          display=row.display, linked_at=mapping.ts(row.linked_at),
                          platform_user_id=row.platform_user_id or "")
    if row.last_sign_in_at is not None:
        out.last_sign_in_at.CopyFrom(mapping.ts(row.last_sign_in_at))
    return out


class IdentityServicer(pb_grpc.IdentityServiceServicer):
    def __init__(self, engine: Engine, request_log: sa.Table, sealer: Sealer) -> None:
        self.engine = engine
        self.request_log = request_log
        self.sealer = sealer

    def _once(self, request_id: str, method: str, response_type: type[M], apply: Callable[[Session], M]) -> M:
        return run_once(self.engine, self.request_log, request_id=request_id, method=method,
                        response_type=response_type, apply=apply)

    def _read(self, fn: Callable[[Session], T]) -> T:
        with Session(self.engine) as session:
            return fn(session)

    @rpc
    def PutProvider(self, request: pb.PutProviderRequest, ctx: grpc.ServicerContext) -> pb.Provider:
        p = request.provider

        def apply(session: Session) -> pb.Provider:
            row = store.put_provider(
                session=session, key=p.key, type_=p.type, name=p.name, enabled=p.enabled,
                config=json_format.MessageToDict(p.config), secrets=json_format.MessageToDict(p.secrets),
                clear_secrets=list(request.clear_secrets), actor_id=request.actor_id,
                sealer=self.sealer,
            )
            return provider_to_pb(row, with_secrets=False)

        return self._once(request.request_id, "PutProvider", pb.Provider, apply)

    @rpc
    def GetProvider(self, request: pb.GetProviderRequest, ctx: grpc.ServicerContext) -> pb.Provider:
        return self._read(lambda s: provider_to_pb(store.get_provider(session=s, key=request.key),
                                                   with_secrets=request.with_secrets, sealer=self.sealer))

    @rpc
    def ListProviders(self, request: pb.ListProvidersRequest, ctx: grpc.ServicerContext) -> pb.ListProvidersResponse:
        rows = self._read(lambda s: store.list_providers(session=s, enabled_only=request.enabled_only))
        return pb.ListProvidersResponse(providers=[provider_to_pb(r, with_secrets=False) for r in rows])

    @rpc
    def DeleteProvider(self, request: pb.DeleteProviderRequest, ctx: grpc.ServicerContext) -> pb.DeleteProviderResponse:
        return self._once(request.request_id, "DeleteProvider", pb.DeleteProviderResponse,
                          lambda s: pb.DeleteProviderResponse(
                              deleted=store.delete_provider(session=s, key=request.key)))

    @rpc
    def ResolveIdentity(
        self, request: pb.ResolveIdentityRequest, ctx: grpc.ServicerContext
    ) -> pb.ResolveIdentityResponse:
        def attempt() -> pb.ResolveIdentityResponse:
            with Session(self.engine) as session:
                user, linked = store.resolve_identity(
                    session=session, provider_key=request.provider_key, subject=request.subject,
                    match_field=request.match_field, match_value=request.match_value, display=request.display,
                    platform_user_id=request.platform_user_id,
                )
                out = pb.ResolveIdentityResponse(user=mapping.user_to_pb(user_of(user)), linked_now=linked)
                session.commit()
                return out

        try:
            return attempt()
        except IntegrityError:
            # A concurrent first sign-in of the same person linked them first: read their link.
            return attempt()

    @rpc
    def ListIdentityLinks(
        self, request: pb.ListIdentityLinksRequest, ctx: grpc.ServicerContext
    ) -> pb.ListIdentityLinksResponse:
        rows = self._read(lambda s: store.list_links(session=s, user_id=request.user_id))
        return pb.ListIdentityLinksResponse(links=[link_to_pb(r) for r in rows])

    @rpc
    def DeleteIdentityLink(
        self, request: pb.DeleteIdentityLinkRequest, ctx: grpc.ServicerContext
    ) -> pb.DeleteIdentityLinkResponse:
        return self._once(request.request_id, "DeleteIdentityLink", pb.DeleteIdentityLinkResponse,
                          lambda s: pb.DeleteIdentityLinkResponse(
                              deleted=store.delete_link(session=s, user_id=request.user_id,
                                                        provider_key=request.provider_key)))
