"""gRPC surface of the notify service: translate, delegate to domain/store, translate back."""

from __future__ import annotations

from datetime import UTC, datetime

import grpc
from sqlalchemy.engine import Engine

from baobei.core.db import run_once
from baobei.core.errors import FieldViolation, ValidationFailed, require
from baobei.core.grpc_server import rpc
from baobei.notify.v1 import notify_service_pb2 as pb
from baobei.notify.v1 import notify_service_pb2_grpc as pb_grpc
from services.notify import domain, mapping, store
from services.notify.models import processed_request


class NotifyServicer(pb_grpc.NotifyServiceServicer):
    def __init__(self, *, engine: Engine) -> None:
        self.engine = engine

    @rpc
    def Send(self, request: pb.SendRequest, context: grpc.ServicerContext) -> pb.SendResponse:
        command = mapping.send_command(request)
        domain.validate_send(command)
        return run_once(
            self.engine,
            processed_request,
            request_id=command.request_id,
            method="Send",
            response_type=pb.SendResponse,
            apply=lambda session: mapping.send_response(
                store.add_notifications(session, command=command, now=datetime.now(UTC))
            ),
        )

    @rpc
    def ListInbox(self, request: pb.ListInboxRequest, context: grpc.ServicerContext) -> pb.ListInboxResponse:
        violations: list[FieldViolation] = require(request.user_id, "user_id", "用户", "user_id")
        if violations:
            raise ValidationFailed(violations)
        limit = domain.page_limit(request.limit)
        cursor = domain.decode_cursor(request.cursor)
        items, more = store.list_inbox(self.engine, user_id=request.user_id.strip(), limit=limit, cursor=cursor)
        return mapping.inbox_response(items, domain.next_cursor(items, limit, has_more=more))
