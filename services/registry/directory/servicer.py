"""DirectoryService over gRPC: thin methods around the directory store."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeVar

import grpc
from sqlalchemy.engine import Engine
from sqlmodel import Session

from baobei.core.grpc_server import rpc
from baobei.registry.v1 import directory_service_pb2 as pb
from baobei.registry.v1 import directory_service_pb2_grpc as pb_grpc
from baobei.registry.v1 import registry_service_pb2 as registry_pb
from services.registry import mapping
from services.registry.directory import store
from services.registry.directory.domain import DepartmentNode, DirectoryEntry
from services.registry.directory.index import refresh_index

T = TypeVar("T")


def entry_to_pb(e: DirectoryEntry) -> pb.DirectoryUser:
    u = e.user
    return pb.DirectoryUser(
        id=u.id, name=u.name, department_id=u.department_id, department_name=e.department_name, roles=list(u.roles),
        left=u.left, contact_visible=e.contact_visible, email=u.email, mobile=u.mobile, region=u.region,
    )


def node_to_pb(n: DepartmentNode) -> pb.OrgDepartment:
    d = n.department
    return pb.OrgDepartment(id=d.id, name=d.name, parent_id=d.parent_id, manager_id=d.manager_id,
                            manager_name=n.manager_name, manager_left=n.manager_left, member_count=n.member_count,
                            total_count=n.total_count)


def _now(request_now: object) -> datetime:
    return mapping.ts_or_none(request_now) or datetime.now(UTC)  # type: ignore[arg-type]


class DirectoryServicer(pb_grpc.DirectoryServiceServicer):
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def _read(self, fn: Callable[[Session], T]) -> T:
        with Session(self.engine) as session:
            return fn(session)

    @rpc
    def GetOrgTree(self, request: pb.GetOrgTreeRequest, ctx: grpc.ServicerContext) -> pb.GetOrgTreeResponse:
        nodes, unassigned = self._read(lambda s: store.org_tree(
            session=s, viewer=mapping.viewer_from_pb(request), include_left=request.include_left))
        return pb.GetOrgTreeResponse(departments=[node_to_pb(n) for n in nodes], unassigned_count=unassigned)

    @rpc
    def SearchUsers(self, request: pb.SearchUsersRequest, ctx: grpc.ServicerContext) -> pb.SearchUsersResponse:
        with Session(self.engine) as session:
            if refresh_index(session=session):
                session.commit()
            entries, cursor = store.search_users(
                session=session, viewer=mapping.viewer_from_pb(request), q=request.q,
                department_id=request.department_id, recursive=request.recursive, role=request.role,
                include_left=request.include_left, limit=request.limit, cursor=request.cursor,
            )
        return pb.SearchUsersResponse(users=[entry_to_pb(e) for e in entries], next_cursor=cursor)

    @rpc
    def GetDirectoryUser(self, request: pb.GetDirectoryUserRequest, ctx: grpc.ServicerContext) -> pb.DirectoryUser:
        return entry_to_pb(self._read(lambda s: store.get_user(
            session=s, viewer=mapping.viewer_from_pb(request), user_id=request.user_id)))

    @rpc
    def ListAccessTokens(
        self, request: pb.ListAccessTokensRequest, ctx: grpc.ServicerContext
    ) -> pb.ListAccessTokensResponse:
        tokens, cursor = self._read(lambda s: store.list_access_tokens(
            session=s, now=_now(request.now), user_id=request.user_id,
            expiring_before=mapping.ts_or_none(request.expiring_before), include_expired=request.include_expired,
            limit=request.limit, cursor=request.cursor,
        ))
        return pb.ListAccessTokensResponse(
            tokens=[pb.TokenEntry(token=mapping.access_token_to_pb(t), user_name=name, expired=expired)
                    for t, name, expired in tokens],
            next_cursor=cursor,
        )

    @rpc
    def IssueOwnToken(
        self, request: pb.IssueOwnTokenRequest, ctx: grpc.ServicerContext
    ) -> registry_pb.IssueTokenResponse:
        # Not through run_once: the request log would keep the plaintext token.
        with Session(self.engine) as session:
            token, record = store.issue_own_token(
                session=session, user_id=request.user_id.strip(), name=request.name, scopes=list(request.scopes),
                scopes_given=request.scopes_given, expires_in_days=request.expires_in_days,
                via_token_id=request.via_token_id.strip(), now=_now(request.now),
            )
            session.commit()
        return registry_pb.IssueTokenResponse(token=token, access_token=mapping.access_token_to_pb(record))
