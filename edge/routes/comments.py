"""Project comments (评论): threads anchored at the project, an approval step or a task, with
@mentions that notify the people named. Whoever may see the project may read and comment; a
mention of someone who may not see it is refused (422 naming ``mentions[i]``)."""

from __future__ import annotations

import hashlib
import re
import uuid
from typing import Annotated, Any

from fastapi import Header, Query, Request

from baobei.core.errors import FieldViolation, NotFound, ValidationFailed
from baobei.registry.v1 import comment_service_pb2 as comment_pb2
from baobei.registry.v1 import registry_service_pb2 as registry_pb2
from baobei.tasks.v1 import tasks_service_pb2 as tasks_pb2
from edge import audit, mapping, mentions
from edge.clients import Clients as EdgeClients
from edge.deps import Clients, CurrentUser
from edge.routes import area_router, bind_project
from edge.routes.projects import approval_instance, viewer_of
from edge.schemas_comments import CommentOut, CommentPage, ProjectCommentIn

router = area_router("comments")

STEP = re.compile(r"^step:(\d{1,4})$")
TASK = re.compile(r"^task:([A-Za-z0-9_.:-]{1,100})$")
IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", description="Repeats return the first response and notify nobody again (24 h)"),
]


def comment_out(c: comment_pb2.Comment) -> dict[str, Any]:
    return {
        "id": c.id, "project_id": c.project_id, "anchor": c.anchor, "author_id": c.author_id,
        "author_name": c.author_name or None, "body": c.body, "mentions": list(c.mentions),
        "mention_names": list(c.mention_names), "parent_id": c.parent_id or None,
        "reply_to_id": c.reply_to_id or None, "created_at": mapping.ts(c.created_at), "deleted": c.deleted,
        "deleted_at": mapping.ts(c.deleted_at), "deleted_by": c.deleted_by or None,
    }


def request_id_of(user_id: str, idempotency_key: str | None) -> str:
    """A stable id for a request repeated with the same Idempotency-Key (fixed length), else a new one."""
    if not idempotency_key:
        return uuid.uuid4().hex
    return hashlib.sha256(f"{user_id}\n{idempotency_key}".encode()).hexdigest()


def _bad_anchor(zh: str, en: str) -> ValidationFailed:
    return ValidationFailed([FieldViolation("anchor", zh, en)])


async def check_anchor(clients: EdgeClients, project_id: str, anchor: str) -> None:
    """The step or task an anchor names must exist on the project (422 on `anchor`); the
    registry refuses any other anchor."""
    step = STEP.match(anchor)
    if step:
        instance = await approval_instance(clients, project_id)
        if instance is None or int(step.group(1)) >= len(instance.steps):
            raise _bad_anchor("该项目没有这个审批环节", "the project has no such approval step")
    elif task := TASK.match(anchor):
        try:
            found = await clients.tasks.GetTask(tasks_pb2.GetTaskRequest(task_id=task.group(1)))
        except NotFound:
            found = None
        if found is None or found.task.project_id != project_id:
            raise _bad_anchor("该项目没有这个任务", "the project has no such task")


@router.post("/projects/{project_id}/comments", status_code=201, response_model=CommentOut,
             response_model_exclude_none=True)
async def post_comment(
    project_id: str, body: ProjectCommentIn, request: Request, user: CurrentUser, clients: Clients,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    """Comment on a project, an approval step (`anchor: "step:<index>"`) or a task
    (`anchor: "task:<id>"`), by anyone who may see the project (else 404). `mentions` lists the
    user ids @-ed in the body: each must exist, not have left and be able to see the project, else
    422 naming `mentions[i]` (nothing is stored). `parent_id` answers a comment of the same project
    and anchor (else 422 on `parent_id`); threads are one level deep (a reply to a reply joins its
    thread). Mentioned users get a `mentioned` notification on their channels and the author of
    the comment answered a `comment_replied` one (never the author themselves), with a link to the
    comment. With an `Idempotency-Key`, a repeat creates one comment and notifies once."""
    bind_project(request, project_id)
    viewer = await viewer_of(clients, user)
    # 404 first: whether a step or task exists is nothing to tell someone who may not see the project.
    await clients.registry.GetProject(registry_pb2.GetProjectRequest(project_id=project_id, viewer=viewer))
    anchor = (body.anchor or "").strip() or "project"
    await check_anchor(clients, project_id, anchor)
    created = await clients.comments.CreateComment(comment_pb2.CreateCommentRequest(
        request_id=request_id_of(user.id, idempotency_key), project_id=project_id, viewer=viewer, anchor=anchor,
        body=body.body, mentions=await mentions.mention_viewers(clients, body.mentions, project_id),
        parent_id=(body.parent_id or "").strip(),
    ))
    c = created.comment
    await mentions.notify_comment(
        clients,
        mentions.CommentNotice(
            key=f"comment:{c.id}", project_id=c.project_id, code=created.project_code, name=created.project_name,
            author_id=c.author_id, author_name=c.author_name, body=c.body,
            url=mentions.comment_url(clients, c.project_id, c.id), anchor=c.anchor,
        ),
        mentions=c.mentions, reply_to_author_id=created.reply_to_author_id,
    )
    return comment_out(c)


@router.get("/projects/{project_id}/comments", response_model=CommentPage, response_model_exclude_none=True)
async def list_comments(
    project_id: str, request: Request, user: CurrentUser, clients: Clients,
    anchor: Annotated[str | None, Query(max_length=120, description="Only threads anchored here: `project`, "
                                        "`step:<index>` or `task:<task id>`")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
) -> dict[str, Any]:
    """The project's comment threads, newest thread first, each with its replies oldest first;
    deleted comments stay as placeholders (`deleted: true`, empty body) so replies keep their
    thread. 404 when the caller may not see the project."""
    bind_project(request, project_id)
    resp = await clients.comments.ListComments(comment_pb2.ListCommentsRequest(
        project_id=project_id, viewer=await viewer_of(clients, user), anchor=(anchor or "").strip(), limit=limit,
        cursor=cursor or "",
    ))
    return {
        "items": [{**comment_out(t.comment), "replies": [comment_out(r) for r in t.replies]} for t in resp.threads],
        "next_cursor": resp.next_cursor or None, "total": resp.total,
    }


@router.delete("/comments/{comment_id}", response_model=CommentOut, response_model_exclude_none=True)
async def delete_comment(comment_id: str, user: CurrentUser, clients: Clients) -> dict[str, Any]:
    """Delete a comment: its author or an admin (403 `not_author` for others who see the project,
    404 for those who do not). It stays in its thread as a placeholder (`deleted: true`, body and
    mentions emptied); deleting again changes nothing. Nobody edits comments. An admin deleting
    someone else's comment is audited (`comment.deleted`)."""
    resp = await clients.comments.DeleteComment(comment_pb2.DeleteCommentRequest(
        request_id=uuid.uuid4().hex, comment_id=comment_id, viewer=await viewer_of(clients, user)))
    c = resp.comment
    if c.author_id != user.id and c.deleted_by == user.id:
        await audit.record(clients, "comment.deleted", actor_id=user.id, target_type="comment", target_id=c.id,
                           details={"project_id": c.project_id, "author_id": c.author_id})
    return comment_out(c)


