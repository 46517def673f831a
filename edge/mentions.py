"""@mentions and comment notifications, shared by project comments and approval comments.

Who may be mentioned is the registry's rule (CommentService): the edge only adds the relations the
registry cannot know — whether the mentioned user approves the project (approval service) or holds
one of its tasks (tasks service). Notifications go through notify ``Send`` one recipient at a time
with a request id derived from the comment and the recipient, so a retried post notifies once."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import quote

import structlog
from google.protobuf import struct_pb2

from baobei.approval.v1 import approval_service_pb2 as approval_pb2
from baobei.notify.v1 import notify_service_pb2 as notify_pb2
from baobei.registry.v1 import registry_service_pb2 as registry_pb2
from baobei.tasks.v1 import tasks_service_pb2 as tasks_pb2
from edge.clients import Clients

log = structlog.get_logger(__name__)

EXCERPT = 80
MENTIONED = "mentioned"
REPLIED = "comment_replied"


async def _relations(clients: Clients, user_id: str, project_id: str) -> registry_pb2.Viewer:
    approving, assigned = await asyncio.gather(
        clients.approval.ListApproverProjects(approval_pb2.ListApproverProjectsRequest(user_id=user_id)),
        clients.tasks.ListAssigneeProjects(tasks_pb2.ListAssigneeProjectsRequest(user_id=user_id)),
    )
    viewer = registry_pb2.Viewer(user_id=user_id)
    if project_id in approving.project_ids:
        viewer.approver_project_ids.append(project_id)
    if project_id in assigned.project_ids:
        viewer.assignee_project_ids.append(project_id)
    return viewer


async def mention_viewers(clients: Clients, user_ids: Sequence[str], project_id: str) -> list[registry_pb2.Viewer]:
    """One Viewer per mention (same order, repeats kept so the registry names ``mentions[i]``),
    carrying only this project's approver / assignee relation of that user."""
    ids = [u.strip() for u in user_ids]
    # Ids that cannot name anyone (NUL, too long) are left to the registry's "does not exist".
    distinct = [u for u in dict.fromkeys(ids) if u and len(u) <= 100 and "\x00" not in u]
    found = await asyncio.gather(*(_relations(clients, u, project_id) for u in distinct))
    by_id = dict(zip(distinct, found, strict=True))
    return [by_id.get(u) or registry_pb2.Viewer(user_id=u) for u in ids]


def excerpt(body: str, limit: int = EXCERPT) -> str:
    text = " ".join(body.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def comment_url(clients: Clients, project_id: str, comment_id: str) -> str:
    """The project page of the web app, opened at the comment."""
    base = clients.settings.public_base_url()
    return f"{base}/projects/{quote(project_id)}?comment={quote(comment_id)}#comment-{quote(comment_id)}"


@dataclass(frozen=True)
class CommentNotice:
    """What the notifications of one comment say."""

    key: str  # stable per comment: the request ids of its notifications derive from it
    project_id: str
    code: str
    name: str
    author_id: str
    author_name: str
    body: str
    url: str
    anchor: str = "project"


async def notify_comment(
    clients: Clients, notice: CommentNotice, *, mentions: Iterable[str], reply_to_author_id: str = "",
) -> list[str]:
    """``mentioned`` to every mentioned user and ``comment_replied`` to the author of the comment
    answered (unless mentioned too); never to the author. Returns who was notified."""
    plan: dict[str, str] = {}
    for uid in mentions:
        if uid and uid != notice.author_id:
            plan.setdefault(uid, MENTIONED)
    if reply_to_author_id and reply_to_author_id != notice.author_id:
        plan.setdefault(reply_to_author_id, REPLIED)
    for uid, kind in plan.items():
        context = struct_pb2.Struct()
        context.update({
            "code": notice.code, "name": notice.name, "author": notice.author_name or notice.author_id,
            "author_id": notice.author_id, "excerpt": excerpt(notice.body), "anchor": notice.anchor,
            "comment_url": notice.url,
        })
        await clients.notify.Send(notify_pb2.SendRequest(
            request_id=f"{notice.key}:{kind}:{uid}", recipient_ids=[uid], kind=kind, project_id=notice.project_id,
            action_urls={uid: notice.url}, context=context,
        ))
    if plan:
        log.info("comment.notified", key=notice.key, mentioned=sum(k == MENTIONED for k in plan.values()),
                 replied=REPLIED in plan.values())
    return list(plan)
