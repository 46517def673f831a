"""Per-kind notification templates: Jinja2 in a sandbox, built-in zh-CN defaults, validation.

A template has four sources: ``title`` (e-mail subject, robot title), ``text`` (plain-text e-mail),
``html`` (HTML e-mail, autoescaped) and ``markdown`` (robots, and the cards of personal notices
through enterprise apps). Missing optional context keys render
empty; a template that does not compile, or fails to render with a sample context, is refused
naming the field (``template.title`` …). Pure: no database, no network."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import jinja2
from jinja2 import TemplateError, Undefined
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup, escape

from baobei.core.errors import FieldViolation, ValidationFailed

DEFAULT_KIND = "default"
FIELDS = ("title", "text", "html", "markdown")
MAX_SOURCE = 20_000


@dataclass(frozen=True)
class Template:
    kind: str
    title: str
    text: str
    html: str = ""
    markdown: str = ""
    version: int = 0
    updated_by: str = ""
    updated_at: datetime | None = None
    builtin: bool = False


@dataclass(frozen=True)
class Rendered:
    title: str
    text: str
    html: str
    markdown: str


def _nl2br(value: Any) -> Markup:
    return Markup("<br>\n").join(escape(str(value or "")).split("\n"))


def _env(*, autoescape: bool) -> SandboxedEnvironment:
    env = SandboxedEnvironment(autoescape=autoescape, undefined=Undefined, keep_trailing_newline=False)
    env.filters["nl2br"] = _nl2br
    return env


_TEXT_ENV = _env(autoescape=False)
_HTML_ENV = _env(autoescape=True)


def _env_for(field: str) -> SandboxedEnvironment:
    return _HTML_ENV if field == "html" else _TEXT_ENV


# ---- built-in defaults --------------------------------------------------------------------------

_LEADS: dict[str, tuple[str, str]] = {
    # kind → (first sentence, link label)
    "approval_request": ("有一个项目等待您审批，请查看后决定同意或拒绝。", "打开审批页面"),
    "approval_cc": ("抄送给您：以下项目的审批进展供您知悉。", "查看项目"),
    "approval_remind": ("有一个项目的审批即将超时，请尽快处理。", "打开审批页面"),
    "project_approved": ("您提交的项目已审批通过。", "查看项目"),
    "project_rejected": ("您提交的项目未通过审批。", "查看项目"),
    "project_returned": ("您提交的项目被退回修改，请补充后重新提交。", "查看项目"),
    "project_closed": ("您的项目已关闭。", "查看项目"),
    "acceptance_rejected": ("您的项目验收未通过，已退回执行阶段；请按意见整改后重新申请验收。", "查看项目"),
    "change_approved": ("您提交的项目变更已审批通过并生效。", "查看项目"),
    "change_rejected": ("您提交的项目变更未通过审批，项目保持不变。", "查看项目"),
    "protection_expiring": ("您的项目保护期即将到期，请及时推进或申请延期。", "查看项目"),
    "protection_lapsed": ("您的项目保护期已失效，客户已释放。", "查看项目"),
    "task_overdue": ("有任务已逾期，请尽快处理。", "查看任务"),
    "early_warning": ("项目出现预警，请关注。", "查看项目"),
    "mentioned": ("有人在项目评论中 @ 了您，请查看并回复。", "查看评论"),
    "comment_replied": ("您的评论有了新回复。", "查看评论"),
    "task_assigned": ("您被指派了一项新任务，请查看并按期完成。", "查看任务"),
    "project_handed_over": ("管理员已将以下项目的报备移交给您负责。", "查看项目"),
    "team_added": ("您已被加入以下项目的团队，可以查看项目及其任务。", "查看项目"),
    "account_invite": ("管理员为您开通了报备系统账号，请通过下面的链接设置密码（链接仅可使用一次）。", "设置密码"),
    "password_reset": ("我们收到了重置您报备系统密码的请求，请通过下面的链接设置新密码（链接仅可使用一次）；"
                       "如果不是您本人操作，请忽略此邮件。", "重置密码"),
    DEFAULT_KIND: ("", "查看详情"),
}

_FACTS = (
    ("code", "项目编号"),
    ("name", "项目名称"),
    ("customer", "客户"),
    ("amount", "金额"),
    ("step", "审批环节"),
    ("comment", "意见"),
    ("author", "评论人"),
    ("excerpt", "评论"),
    ("due", "截止时间"),
)


def _text_source(lead: str, label: str) -> str:
    facts = "".join(f"{{% if {key} %}}{zh}：{{{{ {key} }}}}\n{{% endif %}}" for key, zh in _FACTS)
    return (
        "{{ recipient_name or recipient_id }}，您好：\n\n"
        + (f"{lead}\n\n" if lead else "")
        + "{{ title }}\n{% if body %}{{ body }}\n{% endif %}"
        + facts
        + f"{{% if action_url %}}\n{label}：{{{{ action_url }}}}\n{{% endif %}}"
        + "\n—— 报备系统（此邮件由系统自动发送，请勿直接回复）\n"
    )


def _html_source(lead: str, label: str) -> str:
    facts = "".join(
        f"{{% if {key} %}}<tr><th align=\"left\" style=\"padding:4px 12px 4px 0;color:#666\">{zh}</th>"
        f"<td style=\"padding:4px 0\">{{{{ {key} }}}}</td></tr>{{% endif %}}"
        for key, zh in _FACTS
    )
    return (
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>{{ title }}</title></head>"
        "<body style=\"font-family:'PingFang SC','Microsoft YaHei',sans-serif;color:#222;line-height:1.6\">"
        "<p>{{ recipient_name or recipient_id }}，您好：</p>"
        + (f"<p>{lead}</p>" if lead else "")
        + "<h3 style=\"margin:16px 0 8px\">{{ title }}</h3>"
        "{% if body %}<p>{{ body | nl2br }}</p>{% endif %}"
        f"<table style=\"border-collapse:collapse;margin:8px 0\">{facts}</table>"
        "{% if action_url %}<p><a href=\"{{ action_url }}\" style=\"display:inline-block;padding:8px 16px;"
        f"background:#1677ff;color:#fff;text-decoration:none;border-radius:4px\">{label}</a></p>{{% endif %}}"
        "<p style=\"color:#999;font-size:12px\">此邮件由报备系统自动发送，请勿直接回复。</p>"
        "</body></html>"
    )


def _markdown_source(lead: str, label: str) -> str:
    facts = "".join(f"{{% if {key} %}}> {zh}：{{{{ {key} }}}}\n{{% endif %}}" for key, zh in _FACTS)
    return (
        "### {{ title }}\n\n"
        + (f"{lead}\n\n" if lead else "")
        + "{% if body %}{{ body }}\n\n{% endif %}"
        + facts
        + f"{{% if action_url %}}\n[{label}]({{{{ action_url }}}})\n{{% endif %}}"
    )


def _builtin(kind: str) -> Template:
    lead, label = _LEADS[kind]
    return Template(
        kind=kind,
        title="{{ title }}",
        text=_text_source(lead, label),
        html=_html_source(lead, label),
        markdown=_markdown_source(lead, label),
        version=0,
        builtin=True,
    )


BUILTINS: dict[str, Template] = {kind: _builtin(kind) for kind in _LEADS}


def effective(kind: str, stored: Mapping[str, Template]) -> Template:
    """The template used for ``kind``: the admin's, else the built-in one, else the generic default
    (admin-edited default first)."""
    return stored.get(kind) or BUILTINS.get(kind) or stored.get(DEFAULT_KIND) or BUILTINS[DEFAULT_KIND]


# ---- validation and rendering -----------------------------------------------------------------

SAMPLE_CONTEXT: dict[str, Any] = {
    "title": "待审批：华东智慧园区项目",
    "body": "项目 P-2026-0001 待审批\n审批环节：部门经理",
    "action_url": "https://baobei.example.com/a/sample-token",
    "recipient_id": "u-sample",
    "recipient_name": "张三",
    "project_id": "p-sample",
    "kind": "approval_request",
    "code": "P-2026-0001",
    "name": "华东智慧园区项目",
    "customer": "示例客户有限公司",
    "amount": "1000000.00",
    "step": "部门经理",
    "comment": "同意",
    "due": "2026-12-01",
}


def validate(t: Template) -> Template:
    """Compile every source and render it with the sample context; ValidationFailed names each
    failing field. Title and text are required; html / markdown may be empty (derived)."""
    violations: list[FieldViolation] = []
    if not t.title.strip():
        violations.append(FieldViolation("template.title", "标题模板为必填项", "template.title is required"))
    if not t.text.strip():
        violations.append(FieldViolation("template.text", "正文模板为必填项", "template.text is required"))
    for name in FIELDS:
        source = getattr(t, name)
        if len(source) > MAX_SOURCE:
            violations.append(
                FieldViolation(f"template.{name}", f"模板长度不能超过 {MAX_SOURCE}", f"at most {MAX_SOURCE} characters")
            )
            continue
        if not source:
            continue
        try:
            _env_for(name).from_string(source).render(SAMPLE_CONTEXT)
        except TemplateError as err:
            violations.append(
                FieldViolation(f"template.{name}", f"模板无法编译或渲染：{err}", f"template does not render: {err}")
            )
        except Exception as err:  # noqa: BLE001 - sandbox or filter errors are the template's fault
            violations.append(
                FieldViolation(f"template.{name}", f"模板渲染出错：{err}", f"template failed to render: {err}")
            )
    if violations:
        raise ValidationFailed(violations)
    return t


@functools.lru_cache(maxsize=512)
def _compiled(name: str, source: str) -> jinja2.Template:
    """A part's source compiled once (per process, the most recent 512): compiling costs far more
    than rendering, and every delivery of a kind renders the same sources."""
    return _env_for(name).from_string(source)


def _render_one(name: str, source: str, ctx: Mapping[str, Any]) -> str:
    return _compiled(name, source).render(dict(ctx)).strip()


def render(t: Template, ctx: Mapping[str, Any]) -> Rendered:
    """Render all four parts; empty html / markdown are derived from the text. A template that
    fails at render time (a saved template is validated, so only odd data does this) falls back
    to the generic built-in so the message still goes out."""
    try:
        return _render(t, ctx)
    except Exception:  # noqa: BLE001
        return _render(BUILTINS[DEFAULT_KIND], ctx)


def _render(t: Template, ctx: Mapping[str, Any]) -> Rendered:
    title = _render_one("title", t.title, ctx) or str(ctx.get("title", ""))
    text = _render_one("text", t.text, ctx)
    html = _render_one("html", t.html, ctx) if t.html else str(_nl2br(text))
    markdown = _render_one("markdown", t.markdown, ctx) if t.markdown else f"### {title}\n\n{text}"
    return Rendered(title=title, text=text, html=html, markdown=markdown)
