"""The words of Baobei's own notifications, by kind: a workflow sends a kind and a context (code,
name, customer, amount, step, task_id, comment, until, …) and notify writes the title and the inbox
body here, so wording changes in one place and never in a workflow's history. A sender that still
passes a title (older workflow histories, rule fires with the rule author's words, account
e-mails) keeps its own words. Pure: no database, no network."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping
from typing import Any

from jinja2 import Template, Undefined
from jinja2.sandbox import SandboxedEnvironment

from services.notify.domain import SendCommand

_ENV = SandboxedEnvironment(autoescape=False, undefined=Undefined)

# kind → title; "escalated" approval requests have their own words.
TITLES: dict[str, str] = {
    "approval_request": "{% if escalated %}审批超时已升级给您{% elif purpose == 'acceptance' %}待验收审批"
                        "{% elif purpose == 'change' %}待审批变更{% else %}待审批{% endif %}：{{ name }}",
    "approval_remind": "{% if by_owner %}催办{% else %}审批即将超时，请尽快处理{% endif %}：{{ name }}",
    "approval_withdrawn": "审批已撤回：{{ name }}",
    "approval_cc": "抄送：{{ name }}",
    "project_approved": "项目已通过审批：{{ name }}",
    "project_rejected": "项目未通过审批：{{ name }}",
    "project_returned": "项目被退回，请修改后重新提交：{{ name }}",
    "project_closed": "项目已关闭：{{ name }}",
    "acceptance_rejected": "验收未通过，项目继续执行：{{ name }}",
    "change_approved": "项目变更已生效：{{ name }}",
    "change_rejected": "项目变更未通过：{{ name }}",
    "protection_expiring": "保护期即将到期：{{ name }}",
    "protection_lapsed": "保护期已到期：{{ name }}",
    # Comments (评论): the edge sends these with the author's name and an excerpt.
    "mentioned": "{{ author or '有人' }}在评论中 @ 了您：{{ name }}",
    "comment_replied": "{{ author or '有人' }}回复了您的评论：{{ name }}",
    # Project team and handover (issue 16): the edge sends these.
    "task_assigned": "您被指派了新任务：{{ task_name }}（{{ name }}）",
    "project_handed_over": "项目已移交给您：{{ name }}",
    "team_added": "您已加入项目团队（{{ team_role }}）：{{ name }}",
}

# The inbox body: the facts the context holds, one per line, in this order.
BODY_FACTS: tuple[tuple[str, str, str], ...] = (
    # (context key, label, suffix)
    ("code", "编号", ""),
    ("name", "名称", ""),
    ("customer", "客户", ""),
    ("amount", "金额", " 元"),
    ("step", "审批环节", ""),
    ("task_id", "审批任务", ""),
    ("until", "保护期至", ""),
    ("comment", "意见", ""),
    ("excerpt", "评论", ""),
    ("task_name", "任务", ""),
    ("task_due", "截止日期", ""),
    ("handed_from", "原负责人", ""),
    ("handover_reason", "交接原因", ""),
    ("team_role", "团队角色", ""),
)
# Kind-specific closing lines.
BODY_TAILS: dict[str, str] = {
    "protection_expiring": "记录跟进可延长保护期。",
    "protection_lapsed": "客户保护已失效。",
}


@functools.cache
def _compiled(kind: str) -> Template:
    """A kind's title template, compiled once per process (compiling is most of a send's wording)."""
    return _ENV.from_string(TITLES[kind])


def title(kind: str, context: Mapping[str, Any]) -> str:
    return _compiled(kind).render(dict(context)).strip() if TITLES.get(kind) else ""


def body(kind: str, context: Mapping[str, Any]) -> str:
    lines = [f"{label}：{context[key]}{suffix}" for key, label, suffix in BODY_FACTS
             if context.get(key) not in (None, "")]
    if kind in BODY_TAILS:
        lines.append(BODY_TAILS[kind])
    return "\n".join(lines)


def worded(cmd: SendCommand) -> SendCommand:
    """``cmd`` with the kind's title and body where the sender left them empty."""
    if cmd.title.strip():
        return cmd
    words = title(cmd.kind, cmd.context)
    if not words:
        return cmd  # an unknown kind without a title: validation names the field
    return dataclasses.replace(cmd, title=words, body=cmd.body or body(cmd.kind, cmd.context))
