"""Request and response bodies of project comments (评论) with @mentions."""

from __future__ import annotations

from pydantic import Field

from edge.schemas import Model

MAX_BODY = 4000
MAX_MENTIONS = 20
ANCHOR_DESCRIPTION = (
    "Where the thread hangs: `project` (default), `step:<index>` (an approval step, 0-based, as in "
    "`approval.steps`) or `task:<task id>` (a task of the project)"
)


class ProjectCommentIn(Model):
    body: str = Field(min_length=1, max_length=MAX_BODY, description="Plain text; `@姓名` is shown as typed",
                      examples=["@李经理 请看一下报价是否合适"])
    mentions: list[str] = Field(
        default_factory=list, max_length=MAX_MENTIONS,
        description="User ids to notify (kind `mentioned`). Each must exist, not have left and be able to see "
        "the project, else 422 naming `mentions[i]`. Mentioning oneself is allowed and notifies nobody.",
    )
    parent_id: str | None = Field(
        default=None, max_length=64,
        description="Reply to this comment (same project and anchor, else 422 on `parent_id`). Threads are one "
        "level deep: a reply to a reply joins the same thread; its author is notified (`comment_replied`).",
    )
    anchor: str | None = Field(default=None, max_length=120, description=ANCHOR_DESCRIPTION,
                               examples=["project", "step:0", "task:7f3c2a9e"])


class CommentOut(Model):
    id: str
    project_id: str
    anchor: str = Field(description=ANCHOR_DESCRIPTION)
    author_id: str
    author_name: str | None = None
    body: str = Field(description="Empty once deleted")
    mentions: list[str] = Field(default_factory=list)
    mention_names: list[str] = Field(default_factory=list, description="Display names of `mentions`, same order")
    parent_id: str | None = Field(default=None, description="The thread's first comment; absent on it")
    reply_to_id: str | None = Field(default=None, description="The comment answered; absent on a first comment")
    created_at: str | None = None
    deleted: bool = False
    deleted_at: str | None = None
    deleted_by: str | None = None


class CommentThreadOut(CommentOut):
    replies: list[CommentOut] = Field(default_factory=list, description="Oldest first")


class CommentPage(Model):
    items: list[CommentThreadOut] = Field(description="Threads, newest first")
    next_cursor: str | None = None
    total: int = Field(default=0, description="Threads on the project (with the anchor filter)")
