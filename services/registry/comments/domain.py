"""Comments: pure rules for anchors, bodies, threading and who may be mentioned.

A thread is one level deep: a reply names the comment it answers (``reply_to_id``) and always
hangs under the thread's first comment (``parent_id``), so a reply to a reply stays in the same
thread. Deleting keeps a placeholder (the author or an admin may delete; nobody edits)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from baobei.core.errors import FieldViolation, Forbidden, ValidationFailed
from services.registry.domain import Project, User, Viewer

MAX_BODY = 4000
MAX_MENTIONS = 20
MAX_ID = 100
PROJECT_ANCHOR = "project"
_ANCHOR = re.compile(r"^(project|step:(0|[1-9][0-9]{0,3})|task:[A-Za-z0-9_.:-]{1,100})$")


@dataclass(frozen=True)
class Comment:
    id: str
    project_id: str
    anchor: str
    author_id: str
    body: str
    mentions: tuple[str, ...]
    parent_id: str
    reply_to_id: str
    created_at: datetime
    deleted: bool = False
    deleted_at: datetime | None = None
    deleted_by: str = ""


@dataclass(frozen=True)
class Thread:
    comment: Comment
    replies: list[Comment] = field(default_factory=list)


def usable_id(value: str) -> bool:
    """An id worth looking up (PostgreSQL refuses NUL in text; longer ids exist nowhere)."""
    return bool(value) and len(value) <= MAX_ID and "\x00" not in value


def normalise_anchor(anchor: str) -> str:
    """The anchor ("" = the project itself); 422 on `anchor` for anything else than
    ``project``, ``step:<index>`` or ``task:<task id>``."""
    value = anchor.strip() or PROJECT_ANCHOR
    if not _ANCHOR.match(value):
        raise ValidationFailed([FieldViolation(
            "anchor", "评论位置无效：应为 project、step:<环节序号> 或 task:<任务编号>",
            "anchor must be project, step:<index> or task:<task id>")])
    return value


def check_body(body: str) -> str:
    text = body.strip()
    if "\x00" in text:
        raise ValidationFailed([FieldViolation(
            "body", "评论内容不能包含 NUL 字符", "body must not contain NUL characters")])
    if not text:
        raise ValidationFailed([FieldViolation("body", "评论内容不能为空", "body is required")])
    if len(text) > MAX_BODY:
        raise ValidationFailed([FieldViolation(
            "body", f"评论内容不能超过 {MAX_BODY} 个字符", f"body must be at most {MAX_BODY} characters")])
    return text


def distinct(ids: Sequence[str]) -> list[str]:
    seen: dict[str, None] = {}
    for i in ids:
        seen.setdefault(i.strip(), None)
    return list(seen)


def check_mentions(
    mentions: Sequence[Viewer], project: Project, *, user: Callable[[str], User | None],
    managed: Callable[[str], set[str]], can_see: Callable[[Viewer, Project, set[str]], bool],
) -> list[str]:
    """The mentioned user ids (in order, without repeats) when every one of them exists, has not
    left and may see ``project``; else ValidationFailed naming each refused ``mentions[i]``. A
    mention's roles and admin flag come from the directory (``user``), never from the caller;
    its approver / assignee relations are the edge's (only those services know them)."""
    if len(mentions) > MAX_MENTIONS:
        raise ValidationFailed([FieldViolation(
            "mentions", f"一条评论最多 @ {MAX_MENTIONS} 人", f"at most {MAX_MENTIONS} mentions per comment")])
    violations: list[FieldViolation] = []
    out: list[str] = []
    for i, m in enumerate(mentions):
        path, uid = f"mentions[{i}]", m.user_id.strip()
        found = user(uid) if usable_id(uid) else None
        if found is None:
            violations.append(FieldViolation(
                path, f"用户 {uid or '（空）'} 不存在，无法 @", f"user {uid!r} does not exist"))
            continue
        name = found.name or uid
        if found.left:
            violations.append(FieldViolation(path, f"{name} 已离职，无法 @", f"{uid} has left the organisation"))
            continue
        viewer = Viewer(user_id=uid, roles=frozenset(found.roles),
                        approver_project_ids=m.approver_project_ids & {project.id},
                        assignee_project_ids=m.assignee_project_ids & {project.id})
        if not can_see(viewer, project, managed(uid)):
            violations.append(FieldViolation(
                path, f"{name} 无权查看该项目，不能 @ 他/她（可先抄送或加为任务负责人）",
                f"{uid} may not see this project and cannot be mentioned"))
            continue
        if uid not in out:
            out.append(uid)
    if violations:
        raise ValidationFailed(violations, zh="有被 @ 的人无法查看该项目",
                               en="some mentioned users may not see the project")
    return out


def thread_of(parent: Comment | None, *, project_id: str, anchor: str) -> tuple[str, str]:
    """(parent_id, reply_to_id) of a new comment answering ``parent`` (None: a new thread). The
    parent must be on the same project and anchor (else 422 on `parent_id`) and not deleted."""
    if parent is None:
        return "", ""
    if parent.project_id != project_id or parent.anchor != anchor:
        raise ValidationFailed([FieldViolation(
            "parent_id", "只能回复同一项目、同一位置下的评论", "the parent comment is on another project or anchor")])
    if parent.deleted:
        raise ValidationFailed([FieldViolation(
            "parent_id", "该评论已删除，无法回复", "the parent comment was deleted")])
    return parent.parent_id or parent.id, parent.id


def unknown_parent(parent_id: str) -> ValidationFailed:
    return ValidationFailed([FieldViolation("parent_id", f"评论 {parent_id} 不存在", f"comment {parent_id} not found")])


def may_delete(comment: Comment, viewer: Viewer) -> None:
    if viewer.admin or viewer.user_id == comment.author_id:
        return
    raise Forbidden("只能删除自己的评论", "only the author or an admin may delete a comment", code="not_author")

