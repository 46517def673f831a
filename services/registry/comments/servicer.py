"""CommentService over gRPC: thin methods around the comment store (posting is idempotent on the
request id through the registry's request log)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

import grpc
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session

from baobei.core.db import run_once
from baobei.core.grpc_server import rpc
from baobei.registry.v1 import comment_service_pb2 as pb
from baobei.registry.v1 import comment_service_pb2_grpc as pb_grpc
from baobei.registry.v1 import registry_service_pb2 as registry_pb
from services.registry import mapping
from services.registry.comments import domain, store
from services.registry.domain import Viewer


def comment_to_pb(c: domain.Comment, names: Mapping[str, str]) -> pb.Comment:
    out = pb.Comment(
        id=c.id, project_id=c.project_id, anchor=c.anchor, author_id=c.author_id,
        author_name=names.get(c.author_id, ""), body=c.body, mentions=list(c.mentions),
        mention_names=[names.get(m, "") for m in c.mentions], parent_id=c.parent_id, reply_to_id=c.reply_to_id,
        created_at=mapping.ts(c.created_at), deleted=c.deleted, deleted_by=c.deleted_by,
    )
    if c.deleted_at is not None:
        out.deleted_at.CopyFrom(mapping.ts(c.deleted_at))
    return out


def _mentions(viewers: Sequence[registry_pb.Viewer]) -> list[Viewer]:
    return [Viewer(user_id=v.user_id, approver_project_ids=frozenset(v.approver_project_ids),
                   assignee_project_ids=frozenset(v.assignee_project_ids)) for v in viewers]


class CommentServicer(pb_grpc.CommentServiceServicer):
    def __init__(self, engine: Engine, request_log: sa.Table) -> None:
        self.engine = engine
        self.request_log = request_log

    @rpc
    def CreateComment(self, request: pb.CreateCommentRequest, ctx: grpc.ServicerContext) -> pb.CreateCommentResponse:
        viewer = mapping.viewer_from_pb(request)

        built: list[str] = []

        def apply(session: Session) -> pb.CreateCommentResponse:
            posted = store.create(
                session=session, project_id=request.project_id, viewer=viewer, anchor=request.anchor,
                body=request.body, mentions=_mentions(request.mentions), parent_id=request.parent_id,
                now=datetime.now(UTC),
            )
            names = store.authors(session=session, comments=[posted.comment])
            built.append(posted.comment.id)
            return pb.CreateCommentResponse(
                comment=comment_to_pb(posted.comment, names), created=True, project_code=posted.project.code,
                project_name=posted.project.name, reply_to_author_id=posted.reply_to_author_id,
            )

        out = run_once(self.engine, self.request_log, request_id=request.request_id, method="CreateComment",
                       response_type=pb.CreateCommentResponse, apply=apply)
        # A repeat (or the loser of a concurrent duplicate) answers the first run's comment.
        out.created = bool(built) and out.comment.id == built[-1]
        return out

    @rpc
    def ListComments(self, request: pb.ListCommentsRequest, ctx: grpc.ServicerContext) -> pb.ListCommentsResponse:
        viewer = mapping.viewer_from_pb(request)
        with Session(self.engine) as session:
            threads, cursor, total = store.list_threads(
                session=session, project_id=request.project_id, viewer=viewer, anchor=request.anchor,
                limit=request.limit, cursor=request.cursor,
            )
            every = [c for t in threads for c in (t.comment, *t.replies)]
            names = store.authors(session=session, comments=every)
        return pb.ListCommentsResponse(
            threads=[pb.CommentThread(comment=comment_to_pb(t.comment, names),
                                      replies=[comment_to_pb(r, names) for r in t.replies]) for t in threads],
            next_cursor=cursor, total=total,
        )

    @rpc
    def DeleteComment(self, request: pb.DeleteCommentRequest, ctx: grpc.ServicerContext) -> pb.DeleteCommentResponse:
        viewer = mapping.viewer_from_pb(request)
        with Session(self.engine) as session:
            comment = store.delete(session=session, comment_id=request.comment_id, viewer=viewer,
                                   now=datetime.now(UTC))
            names = store.authors(session=session, comments=[comment])
            out = pb.DeleteCommentResponse(comment=comment_to_pb(comment, names))
            session.commit()
        return out

    @rpc
    def CheckMentions(self, request: pb.CheckMentionsRequest, ctx: grpc.ServicerContext) -> pb.CheckMentionsResponse:
        with Session(self.engine) as session:
            project = store.visible_project(session=session, project_id=request.project_id, viewer=None)
            ids = store.mentioned(session=session, project=project, mentions=_mentions(request.mentions))
        return pb.CheckMentionsResponse(user_ids=ids, project_code=project.code, project_name=project.name)
