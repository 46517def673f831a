"""Server-rendered HTML of the action link pages (zh-CN with English subtitles): the approval
confirmation page (personal links; group links add the signed-in user and the session's CSRF
token as a hidden field), the result page and the error pages. Jinja2 with autoescaping; every page is
served with the security headers of :func:`security_headers` (no referrer, no caching, no
framing)."""

from __future__ import annotations

from typing import Any

from jinja2 import DictLoader, Environment, select_autoescape

_BASE = """<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<meta name="robots" content="noindex, nofollow">
<title>{{ title }} · 报备 Baobei</title>
<style>
body{font-family:-apple-system,"PingFang SC","Microsoft YaHei",sans-serif;margin:0;background:#f5f6f8;color:#222}
main{max-width:640px;margin:24px auto;background:#fff;border-radius:8px;padding:24px;
box-shadow:0 1px 3px rgba(0,0,0,.08)}
h1{font-size:20px;margin:0 0 4px}.en{color:#888;font-size:13px;font-weight:normal}
table{border-collapse:collapse;width:100%;margin:16px 0}th,td{text-align:left;padding:6px 4px;
border-bottom:1px solid #eee;vertical-align:top}th{width:35%;color:#555;font-weight:normal}
textarea{width:100%;min-height:80px;box-sizing:border-box;margin:8px 0}
button{font-size:16px;padding:8px 20px;margin-right:12px;border:0;border-radius:4px;cursor:pointer}
.approve{background:#1677ff;color:#fff}.reject{background:#ff4d4f;color:#fff}
.status{display:inline-block;padding:2px 8px;border-radius:4px;background:#eef}
.muted{color:#888;font-size:13px}
</style>
</head>
<body><main>
{% block body %}{% endblock %}
<p class="muted">报备 Baobei</p>
</main></body>
</html>
"""

_CONFIRM = """{% extends "base" %}{% block body %}
<h1>审批确认 <span class="en">Approval request</span></h1>
<p class="muted">当前步骤 Step：<strong>{{ step }}</strong>{% if due_at %} · 截止 Due {{ due_at }}{% endif %}</p>
<table>
<tr><th>项目编号 <span class="en">Code</span></th><td>{{ project.code }}</td></tr>
<tr><th>项目名称 <span class="en">Name</span></th><td>{{ project.name }}</td></tr>
{% if project.customer %}<tr><th>客户 <span class="en">Customer</span></th><td>{{ project.customer }}</td></tr>
{% endif %}
{% if project.amount %}<tr><th>金额 <span class="en">Amount (CNY)</span></th><td>{{ project.amount }}</td></tr>
{% endif %}
{% if project.region %}<tr><th>区域 <span class="en">Region</span></th><td>{{ project.region }}</td></tr>{% endif %}
{% if project.business_line %}<tr><th>业务线 <span class="en">Business line</span></th>
<td>{{ project.business_line }}</td></tr>{% endif %}
<tr><th>报备人 <span class="en">Owner</span></th><td>{{ project.owner }}</td></tr>
<tr><th>状态 <span class="en">Status</span></th><td><span class="status">{{ project.status }}</span></td></tr>
{% for f in fields %}<tr><th>{{ f.label }}</th><td>{{ f.value }}</td></tr>{% endfor %}
</table>
{% if change %}<table>
<tr><th>变更申请 <span class="en">Change request</span></th><td>{{ change.reason }}</td></tr>
{% for d in change.diff %}<tr><th>{{ d.label }}</th>
<td>{{ d.before or "—" }} → <strong>{{ d.after or "—" }}</strong></td></tr>
{% endfor %}</table>{% endif %}
{% if steps %}<table>
<tr><th>审批步骤 <span class="en">Steps</span></th><td></td></tr>
{% for s in steps %}<tr><th>{{ s.name }}</th><td>{{ s.status }}{% if s.decisions %} ·
{% for d in s.decisions %}{{ d }}{% if not loop.last %}；{% endif %}{% endfor %}{% endif %}</td></tr>{% endfor %}
</table>{% endif %}
<form method="post" action="{{ action_url }}">
{% if csrf_token %}<input type="hidden" name="csrf_token" value="{{ csrf_token }}">
{% endif %}<label for="comment">审批意见（可选） <span class="en">Comment (optional)</span></label>
<textarea id="comment" name="comment" maxlength="2000"></textarea>
<button class="approve" type="submit" name="action" value="approve">同意 <span>Approve</span></button>
<button class="reject" type="submit" name="action" value="reject">驳回 <span>Reject</span></button>
</form>
{% if group %}<p class="muted">您已以 {{ approver }} 的身份登录，审批将以您的名义记录。此群链接每位审批人可使用一次，
{{ expires_at }} 前有效。<br>You are signed in as {{ approver }}: the decision is recorded as yours. Each approver
can use this group link once, until {{ expires_at }}.</p>
{% else %}<p class="muted">此链接仅限 {{ approver }} 使用一次，{{ expires_at }} 前有效。
<br>This link works once, for {{ approver }} only, until {{ expires_at }}.</p>
{% endif %}{% endblock %}"""

_RESULT = """{% extends "base" %}{% block body %}
<h1>{{ heading }} <span class="en">{{ heading_en }}</span></h1>
<table>
<tr><th>项目 <span class="en">Project</span></th><td>{{ code }} {{ name }}</td></tr>
<tr><th>项目状态 <span class="en">Project status</span></th><td><span class="status">{{ status }}</span></td></tr>
</table>
<p>您的审批意见已记录，可以关闭此页面。<br><span class="en">Your decision has been recorded; you may close
this page.</span></p>
{% endblock %}"""

_ERROR = """{% extends "base" %}{% block body %}
<h1>{{ heading }} <span class="en">{{ heading_en }}</span></h1>
<p>{{ message }}</p>
<p class="en">{{ message_en }}</p>
<p class="muted">错误代码 Error code: {{ code }} ({{ status }})</p>
{% endblock %}"""

_ENV = Environment(
    loader=DictLoader({"base": _BASE, "confirm": _CONFIRM, "result": _RESULT, "error": _ERROR}),
    autoescape=select_autoescape(default=True, default_for_string=True),
    auto_reload=False,
)

STATUS_ZH = {
    "draft": "草稿", "pending_approval": "审批中", "active": "已生效", "closed": "已关闭", "returned": "已退回",
    "rejected": "已驳回", "cancelled": "已取消",
}
STEP_STATUS_ZH = {
    "waiting": "等待中", "pending": "审批中", "approved": "已同意", "rejected": "已驳回", "returned": "已退回",
    "skipped": "已跳过",
}
ACTION_ZH = {"approve": "同意", "reject": "驳回", "return": "退回", "transfer": "转交", "add_approver": "加签"}


def status_text(status: str) -> str:
    zh = STATUS_ZH.get(status)
    return f"{zh} {status}" if zh else status


def render(template: str, /, **context: Any) -> str:
    return _ENV.get_template(template).render(**context)


def security_headers(base_url: str) -> dict[str, str]:
    """Headers of every action link response: the token in the URL must not leak through a
    Referer, a cache or a framing page, and the form may only post back to our own base URL."""
    return {
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store, max-age=0",
        "Pragma": "no-cache",
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "X-Robots-Tag": "noindex, nofollow",
        "Content-Security-Policy": (
            "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
            f"form-action 'self' {base_url}; frame-ancestors 'none'; base-uri 'none'"
        ),
    }
