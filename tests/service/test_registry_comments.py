"""Comment threads over real gRPC (CommentService in the registry process): post, reply and
reply-to-a-reply (one level deep), anchors, @mentions refused for unknown, departed and outside
users naming mentions[i] (and accepted for the owner's manager, an approver, an assignee, an
admin), parent on another project or anchor refused, idempotent posting, paging and deleting."""

from __future__ import annotations

from typing import Any

import grpc
import pytest

from baobei.registry.v1 import comment_service_pb2 as cpb
from baobei.registry.v1 import comment_service_pb2_grpc as cpb_grpc
from baobei.registry.v1 import registry_service_pb2 as pb
from baobei.registry.v1 import registry_service_pb2_grpc as pb_grpc
from tests.conftest import StartService
from tests.service.test_registry_service import FORM, ORG, create, fails

Stubs = tuple[pb_grpc.RegistryServiceStub, cpb_grpc.CommentServiceStub]
LEFT = pb.UpsertOrgRequest(request_id="org-left", users=[
    pb.User(id="gone", name="离职者", department_id="team", roles=["sales"], left=True),
    pb.User(id="boss", name="管理员", department_id="bj", roles=["admin"]),
])


@pytest.fixture()
def stubs(start_service: StartService) -> Stubs:
    svc = start_service("registry")
    registry = pb_grpc.RegistryServiceStub(svc.channel)
    registry.UpsertOrg(ORG, timeout=10)
    registry.UpsertOrg(LEFT, timeout=10)
    registry.PutForm(FORM, timeout=10)
    return registry, cpb_grpc.CommentServiceStub(svc.channel)


def who(user_id: str, **kw: Any) -> pb.Viewer:
    return pb.Viewer(user_id=user_id, **kw)


_n = iter(range(1, 10_000))


def post(comments: cpb_grpc.CommentServiceStub, project_id: str, author: str = "sales1", body: str = "看一下",
         **kw: Any) -> cpb.CreateCommentResponse:
    req = cpb.CreateCommentRequest(request_id=kw.pop("request_id", f"c-{next(_n)}"), project_id=project_id,
                                   viewer=kw.pop("viewer", who(author)), body=body, **kw)
    resp: cpb.CreateCommentResponse = comments.CreateComment(req, timeout=10)
    return resp


def test_threads_replies_and_anchors(stubs: Stubs) -> None:
    registry, comments = stubs
    p = create(registry, owner_id="sales1")
    first = post(comments, p.id, body="  请经理看下报价  ")
    assert first.created and (first.project_code, first.project_name) == (p.code, p.name)
    c = first.comment
    assert (c.anchor, c.body, c.author_id, c.author_name, c.parent_id) == (
        "project", "请经理看下报价", "sales1", "销售一", "")
    # The manager of the owner's department (via an ancestor) sees the project and replies.
    reply = post(comments, p.id, author="mgr_sh", body="好的", parent_id=c.id)
    assert (reply.comment.parent_id, reply.comment.reply_to_id, reply.reply_to_author_id) == (c.id, c.id, "sales1")
    # A reply to the reply stays in the same thread, answering the reply's author.
    again = post(comments, p.id, body="谢谢", parent_id=reply.comment.id)
    assert (again.comment.parent_id, again.comment.reply_to_id, again.reply_to_author_id) == (
        c.id, reply.comment.id, "mgr_sh")
    on_task = post(comments, p.id, body="任务进展？", anchor="task:t-1")
    on_step = post(comments, p.id, body="第一环节", anchor="step:0")

    every = comments.ListComments(cpb.ListCommentsRequest(project_id=p.id, viewer=who("sales1")), timeout=10)
    assert [t.comment.id for t in every.threads] == [on_step.comment.id, on_task.comment.id, c.id]
    assert [r.body for r in every.threads[2].replies] == ["好的", "谢谢"]
    assert every.total == 3 and every.next_cursor == ""
    tasks = comments.ListComments(cpb.ListCommentsRequest(project_id=p.id, viewer=who("lead"), anchor="task:t-1"),
                                  timeout=10)
    assert [t.comment.body for t in tasks.threads] == ["任务进展？"]
    # Paging: one thread a page.
    page = comments.ListComments(cpb.ListCommentsRequest(project_id=p.id, viewer=who("sales1"), limit=2), timeout=10)
    rest = comments.ListComments(cpb.ListCommentsRequest(project_id=p.id, viewer=who("sales1"), limit=2,
                                                         cursor=page.next_cursor), timeout=10)
    assert [t.comment.id for t in [*page.threads, *rest.threads]] == [t.comment.id for t in every.threads]
    assert rest.next_cursor == ""

    # Parent on another anchor or another project → parent_id.
    f = fails(comments.CreateComment, cpb.CreateCommentRequest(
        request_id="bad-parent", project_id=p.id, viewer=who("sales1"), body="x", parent_id=c.id, anchor="step:0"),
        grpc.StatusCode.INVALID_ARGUMENT)
    assert [v.field for v in f.violations] == ["parent_id"]
    other = create(registry, owner_id="sales1")
    f = fails(comments.CreateComment, cpb.CreateCommentRequest(
        request_id="bad-parent-2", project_id=other.id, viewer=who("sales1"), body="x", parent_id=c.id),
        grpc.StatusCode.INVALID_ARGUMENT)
    assert [v.field for v in f.violations] == ["parent_id"]
    for bad, field in (("", "body"), ("x" * 4001, "body")):
        f = fails(comments.CreateComment, cpb.CreateCommentRequest(
            request_id=f"bad-{len(bad)}", project_id=p.id, viewer=who("sales1"), body=bad),
            grpc.StatusCode.INVALID_ARGUMENT)
        assert [v.field for v in f.violations] == [field]
    f = fails(comments.CreateComment, cpb.CreateCommentRequest(
        request_id="bad-anchor", project_id=p.id, viewer=who("sales1"), body="x", anchor="step:x"),
        grpc.StatusCode.INVALID_ARGUMENT)
    assert [v.field for v in f.violations] == ["anchor"]


def test_only_viewers_comment_and_read(stubs: Stubs) -> None:
    registry, comments = stubs
    p = create(registry, owner_id="sales1")
    # mgr_bj manages another department: the project does not exist for them.
    fails(comments.CreateComment, cpb.CreateCommentRequest(request_id="x1", project_id=p.id, viewer=who("mgr_bj"),
                                                           body="hi"), grpc.StatusCode.NOT_FOUND)
    fails(comments.ListComments, cpb.ListCommentsRequest(project_id=p.id, viewer=who("mgr_bj")),
          grpc.StatusCode.NOT_FOUND)
    # As an approver (the approval service said so) they may.
    ok = post(comments, p.id, viewer=who("mgr_bj", approver_project_ids=[p.id]), body="审批意见")
    assert ok.comment.author_id == "mgr_bj"


def test_mentions_must_see_the_project(stubs: Stubs) -> None:
    registry, comments = stubs
    p = create(registry, owner_id="sales1")
    refused = fails(comments.CreateComment, cpb.CreateCommentRequest(
        request_id="m-bad", project_id=p.id, viewer=who("sales1"), body="@北京经理 @离职者 @? @财务",
        mentions=[who("mgr_sh"), who("mgr_bj"), who("gone"), who("nobody"), who("fin", is_admin=True,
                                                                                  roles=["admin"])]),
        grpc.StatusCode.INVALID_ARGUMENT)
    by_field = {v.field: v.zh for v in refused.violations}
    assert list(by_field) == ["mentions[1]", "mentions[2]", "mentions[3]", "mentions[4]"]
    assert "北京经理 无权查看该项目" in by_field["mentions[1]"]
    assert "已离职" in by_field["mentions[2]"] and "不存在" in by_field["mentions[3]"]
    # Roles and admin claims in a mention are not trusted: 财务 is no admin in the directory.
    assert "财务 无权查看该项目" in by_field["mentions[4]"]
    # Nothing was stored.
    assert comments.ListComments(cpb.ListCommentsRequest(project_id=p.id, viewer=who("sales1")), timeout=10).total == 0
    ok = post(comments, p.id, body="@各位", mentions=[
        who("mgr_sh"), who("mgr_bj", approver_project_ids=[p.id]), who("fin", assignee_project_ids=[p.id]),
        who("boss"), who("mgr_sh"),
    ])
    assert list(ok.comment.mentions) == ["mgr_sh", "mgr_bj", "fin", "boss"]
    assert list(ok.comment.mention_names) == ["上海经理", "北京经理", "财务", "管理员"]
    # Relations for another project do not count.
    f = fails(comments.CheckMentions, cpb.CheckMentionsRequest(
        project_id=p.id, mentions=[who("mgr_bj", approver_project_ids=["other"])]), grpc.StatusCode.INVALID_ARGUMENT)
    assert [v.field for v in f.violations] == ["mentions[0]"]
    checked = comments.CheckMentions(cpb.CheckMentionsRequest(project_id=p.id, mentions=[who("lead")]), timeout=10)
    assert (list(checked.user_ids), checked.project_code) == (["lead"], p.code)


def test_posting_is_idempotent_and_deleting_leaves_a_placeholder(stubs: Stubs) -> None:
    registry, comments = stubs
    p = create(registry, owner_id="sales1")
    first = post(comments, p.id, request_id="same", body="一次", mentions=[who("lead")])
    again = post(comments, p.id, request_id="same", body="一次", mentions=[who("lead")])
    assert first.created and not again.created and again.comment.id == first.comment.id
    listed = comments.ListComments(cpb.ListCommentsRequest(project_id=p.id, viewer=who("sales1")), timeout=10)
    assert listed.total == 1
    reply = post(comments, p.id, author="lead", body="收到", parent_id=first.comment.id)

    # Someone else (the manager) may not delete the rep's comment; the author and admins may.
    fails(comments.DeleteComment, cpb.DeleteCommentRequest(comment_id=first.comment.id, viewer=who("lead")),
          grpc.StatusCode.PERMISSION_DENIED)
    fails(comments.DeleteComment, cpb.DeleteCommentRequest(comment_id=first.comment.id, viewer=who("mgr_bj")),
          grpc.StatusCode.NOT_FOUND)
    gone = comments.DeleteComment(cpb.DeleteCommentRequest(comment_id=first.comment.id, viewer=who("sales1")),
                                  timeout=10).comment
    assert gone.deleted and gone.body == "" and list(gone.mentions) == [] and gone.deleted_by == "sales1"
    twice = comments.DeleteComment(cpb.DeleteCommentRequest(comment_id=first.comment.id, viewer=who("sales1")),
                                   timeout=10).comment
    assert twice.deleted_at == gone.deleted_at
    comments.DeleteComment(cpb.DeleteCommentRequest(comment_id=reply.comment.id, viewer=who("x", is_admin=True)),
                           timeout=10)
    thread = comments.ListComments(cpb.ListCommentsRequest(project_id=p.id, viewer=who("sales1")),
                                   timeout=10).threads[0]
    assert thread.comment.deleted and [r.deleted for r in thread.replies] == [True]
    f = fails(comments.CreateComment, cpb.CreateCommentRequest(
        request_id="to-deleted", project_id=p.id, viewer=who("lead"), body="x", parent_id=first.comment.id),
        grpc.StatusCode.INVALID_ARGUMENT)
    assert [v.field for v in f.violations] == ["parent_id"]
