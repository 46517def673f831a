"""GroupLinkService: resolves the group tokens of robot cards (``/a/g/<token>``). Same key, lifetime
and row as the personal link the card's notification carries, another salt; the answer names the
approval task but no approver (the edge has the reader sign in)."""

from __future__ import annotations

from datetime import UTC, datetime

import grpc
from sqlalchemy.engine import Engine

from baobei.core.grpc_server import rpc
from baobei.notify.v1 import group_link_service_pb2 as pb
from baobei.notify.v1 import group_link_service_pb2_grpc as pb_grpc
from services.notify import links, mapping, store
from services.notify.servicer import NotifyConfig


class GroupLinkServicer(pb_grpc.GroupLinkServiceServicer):
    def __init__(self, *, engine: Engine, config: NotifyConfig) -> None:
        self.engine = engine
        self.config = config
        self._signer = links.serializer(config.link_key, group=True)

    @rpc
    def ResolveGroupLink(
        self, request: pb.ResolveGroupLinkRequest, context: grpc.ServicerContext
    ) -> pb.ResolveGroupLinkResponse:
        max_age = int(self.config.link_ttl.total_seconds())
        verified = links.verify(self.config.link_key, request.token, max_age_seconds=max_age, s=self._signer,
                                group=True)
        link = store.get_link(self.engine, verified.link_id)
        if link is None:
            raise links.invalid()
        if link.expires_at <= datetime.now(UTC):
            raise links.expired()
        return pb.ResolveGroupLinkResponse(link=pb.GroupLink(
            id=link.id, task_id=link.task_id, project_id=link.project_id,
            expires_at=mapping.timestamp(link.expires_at)))
