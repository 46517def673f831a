"""Server-rendered sign-in pages (zh-CN with English subtitles, no script, no external assets,
phone width): sign in, set a password from an invite / reset link, forgot password. Small on
purpose: the web app replaces them. Plain HTML forms post to the /auth endpoints, which answer a
form post with a redirect or this page again with the error.

Forms carry a per-browser anti-forgery token (``bb_form_csrf`` cookie, SameSite=Strict, echoed in
the hidden ``csrf_token`` field): a page elsewhere cannot sign a victim into the attacker's
account ("login CSRF"). JSON posts need none (a cross-site form cannot send JSON)."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from jinja2 import DictLoader, Environment, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from baobei.core.settings import Settings
from edge import pages, sessions

FORM_CSRF_COOKIE = "bb_form_csrf"
FORM_CSRF_FIELD = "csrf_token"

_BASE = """<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<meta name="robots" content="noindex, nofollow">
<title>{{ title }} · 报备 Baobei</title>
<style>
*{box-sizing:border-box}
body{font-family:-apple-system,"PingFang SC","Microsoft YaHei",sans-serif;margin:0;background:#f5f6f8;color:#222}
main{max-width:420px;margin:24px auto;background:#fff;border-radius:8px;padding:24px;
box-shadow:0 1px 3px rgba(0,0,0,.08)}
@media (max-width:460px){main{margin:0;border-radius:0;min-height:100vh}}
h1{font-size:20px;margin:0 0 16px}.en{color:#888;font-size:13px;font-weight:normal}
label{display:block;margin:12px 0 4px;font-size:14px}
input[type=text],input[type=password],input[type=email]{width:100%;font-size:16px;padding:8px 10px;
border:1px solid #ccc;border-radius:4px}
input:focus,button:focus,a:focus{outline:2px solid #1677ff;outline-offset:1px}
button,.button{display:block;width:100%;font-size:16px;padding:10px;margin-top:16px;border:0;border-radius:4px;
cursor:pointer;background:#1677ff;color:#fff;text-align:center;text-decoration:none}
.secondary{background:#fff;color:#1677ff;border:1px solid #1677ff}
.error{background:#fff1f0;border:1px solid #ffccc7;color:#a8071a;padding:8px 12px;border-radius:4px}
.notice{background:#f6ffed;border:1px solid #b7eb8f;padding:8px 12px;border-radius:4px}
.hint{color:#888;font-size:13px;margin:4px 0 0}
.or{text-align:center;color:#888;margin:20px 0 4px;font-size:13px}
fieldset{border:1px solid #eee;border-radius:4px;margin:12px 0 0;padding:4px 12px 12px}
legend{font-size:14px;color:#555}
.links{margin-top:16px;font-size:14px;text-align:center}.links a{color:#1677ff}
</style>
</head>
<body><main>
{% block body %}{% endblock %}
<p class="hint">报备 Baobei</p>
</main></body>
</html>
"""

_ERRORS = """{% if errors %}<div class="error" role="alert" id="form-errors">{% for e in errors %}<p>{{ e.zh }}
{% if e.en %}<br><span class="en">{{ e.en }}</span>{% endif %}</p>{% endfor %}</div>{% endif %}"""

_SIGNIN = """{% extends "base" %}{% block body %}
<h1>登录 <span class="en">Sign in</span></h1>
{% if signed_in %}<p class="notice">您已登录为 {{ signed_in }}。<span class="en">You are signed in.</span></p>
{% endif %}
{% if notice %}<p class="notice" role="status">{{ notice }}</p>{% endif %}
""" + _ERRORS + """
<form method="post" action="/auth/login" {% if errors %}aria-describedby="form-errors"{% endif %}>
<input type="hidden" name="csrf_token" value="{{ csrf }}">
<input type="hidden" name="next" value="{{ next }}">
<label for="login">账号 <span class="en">User id, e-mail or mobile</span></label>
<input type="text" id="login" name="login" value="{{ login }}" autocomplete="username" required maxlength="320"
 autocapitalize="none" spellcheck="false">
<label for="password">密码 <span class="en">Password</span></label>
<input type="password" id="password" name="password" autocomplete="current-password" required maxlength="1024">
<label for="totp_code">两步验证码（已启用时填写） <span class="en">Authenticator code, if enabled</span></label>
<input type="text" id="totp_code" name="totp_code" inputmode="numeric" autocomplete="one-time-code" maxlength="64"
 aria-describedby="totp-hint">
<p class="hint" id="totp-hint">6 位动态码，或一次性恢复码 <span class="en">6-digit code or a recovery code</span></p>
<button type="submit">登录 <span>Sign in</span></button>
</form>
<p class="links"><a href="/auth/password/forgot">忘记密码？ <span class="en">Forgot password?</span></a></p>
{% if providers %}<p class="or">或使用 <span class="en">or sign in with</span></p>
{% for p in providers %}{% if p.type == "ldap" %}
<form method="post" action="{{ p.start_url }}">
<fieldset><legend>{{ p.name }}（LDAP）</legend>
<input type="hidden" name="csrf_token" value="{{ csrf }}">
<input type="hidden" name="next" value="{{ next }}">
<label for="ldap-login-{{ loop.index }}">账号 <span class="en">Login</span></label>
<input type="text" id="ldap-login-{{ loop.index }}" name="login" autocomplete="username" required maxlength="320"
 autocapitalize="none" spellcheck="false">
<label for="ldap-password-{{ loop.index }}">密码 <span class="en">Password</span></label>
<input type="password" id="ldap-password-{{ loop.index }}" name="password" autocomplete="current-password" required
 maxlength="1024">
<button type="submit" class="secondary">使用 {{ p.name }} 登录</button>
</fieldset></form>
{% else %}<a class="button secondary" href="{{ p.start_url }}?next={{ next | urlencode }}">使用 {{ p.name }} 登录
<span class="en">Sign in with {{ p.name }}</span></a>
{% endif %}{% endfor %}{% endif %}
{% endblock %}"""

_SETUP = """{% extends "base" %}{% block body %}
<h1>{{ heading }} <span class="en">{{ heading_en }}</span></h1>
<p>账号 <span class="en">Account</span>：<strong>{{ user_name }}</strong>（{{ user_id }}）</p>
""" + _ERRORS + """
<form method="post" action="/auth/password/setup" {% if errors %}aria-describedby="form-errors"{% endif %}>
<input type="hidden" name="csrf_token" value="{{ csrf }}">
<input type="hidden" name="token" value="{{ token }}">
<input type="text" name="username" value="{{ user_id }}" autocomplete="username" hidden readonly>
<label for="password">新密码 <span class="en">New password</span></label>
<input type="password" id="password" name="password" autocomplete="new-password" required minlength="{{ min_length }}"
 maxlength="128" aria-describedby="password-hint">
<p class="hint" id="password-hint">至少 {{ min_length }} 个字符，建议用一句话；不能是常见密码，也不能包含账号或姓名。
<span class="en">At least {{ min_length }} characters; a phrase works well. No common passwords, no user id or name.
</span></p>
<label for="password_confirm">再次输入 <span class="en">Repeat it</span></label>
<input type="password" id="password_confirm" name="password_confirm" autocomplete="new-password" required
 maxlength="128">
{% if totp %}<label for="totp_code">两步验证码 <span class="en">Authenticator code</span></label>
<input type="text" id="totp_code" name="totp_code" inputmode="numeric" autocomplete="one-time-code" required
 maxlength="64">{% endif %}
<button type="submit">设置密码并登录 <span>Set password and sign in</span></button>
</form>
<p class="hint">链接仅可使用一次，{{ expires_at }} 前有效。<span class="en">The link works once, until {{ expires_at }}.
</span></p>
{% endblock %}"""

_FORGOT = """{% extends "base" %}{% block body %}
<h1>忘记密码 <span class="en">Forgot password</span></h1>
{% if sent %}<p class="notice" role="status">如果该账号存在并登记了邮箱，我们已发送一封重置密码的邮件，
请查收（链接 {{ ttl }} 小时内有效）。
<br><span class="en">If the account exists and has an e-mail address, a reset link is on its way.</span></p>
{% else %}""" + _ERRORS + """
<p>输入账号、邮箱或手机号，我们会把重置密码的链接发到账号登记的邮箱。没有邮箱的账号请联系管理员重置。
<br><span class="en">We e-mail a reset link to the account's address. Without one, ask an administrator.</span></p>
<form method="post" action="/auth/password/forgot">
<input type="hidden" name="csrf_token" value="{{ csrf }}">
<label for="login">账号 <span class="en">User id, e-mail or mobile</span></label>
<input type="text" id="login" name="login" autocomplete="username" required maxlength="320" autocapitalize="none"
 spellcheck="false">
<button type="submit">发送重置链接 <span>Send reset link</span></button>
</form>{% endif %}
<p class="links"><a href="/signin">返回登录 <span class="en">Back to sign in</span></a></p>
{% endblock %}"""

_TOTP = """{% extends "base" %}{% block body %}
<h1>绑定两步验证 <span class="en">Set up two-step verification</span></h1>
{% if required %}<p class="notice" role="status">您的角色要求使用两步验证，请先完成绑定。
<span class="en">Your role requires two-step verification: set it up to continue.</span></p>{% endif %}
<p>1. 用验证器 App（如 Microsoft Authenticator、Google Authenticator、FreeOTP）扫描二维码：
<br><span class="en">Scan the code with an authenticator app:</span></p>
<div aria-label="二维码 QR code" role="img" style="max-width:220px;margin:8px auto">{{ qr_svg | safe }}</div>
<p class="hint">无法扫描时手动输入密钥 <span class="en">Or type this key</span>：<code>{{ secret }}</code></p>
<p>2. 输入 App 显示的 6 位验证码：<span class="en">Enter the 6-digit code it shows:</span></p>
""" + _ERRORS + """
<form method="post" action="/auth/totp/setup">
<input type="hidden" name="csrf_token" value="{{ csrf }}">
<input type="hidden" name="next" value="{{ next }}">
<label for="code">验证码 <span class="en">Code</span></label>
<input type="text" id="code" name="code" inputmode="numeric" autocomplete="one-time-code" required maxlength="64">
<button type="submit">完成绑定 <span>Turn on</span></button>
</form>
{% endblock %}"""

_RECOVERY = """{% extends "base" %}{% block body %}
<h1>两步验证已启用 <span class="en">Two-step verification is on</span></h1>
<p>请把下面的恢复码保存在安全的地方。手机丢失时，每个恢复码可代替一次验证码；它们只显示这一次。
<br><span class="en">Keep these recovery codes somewhere safe: each replaces a code once. They are shown only
now.</span></p>
<ul>{% for c in codes %}<li><code>{{ c }}</code></li>{% endfor %}</ul>
<a class="button" href="{{ next }}">继续 <span>Continue</span></a>
{% endblock %}"""

_MESSAGE = """{% extends "base" %}{% block body %}
<h1>{{ heading }} <span class="en">{{ heading_en }}</span></h1>
<p>{{ message }}</p>
{% if message_en %}<p class="en">{{ message_en }}</p>{% endif %}
<p class="links"><a href="/auth/password/forgot">重新申请链接 <span class="en">Ask for a new link</span></a> ·
<a href="/signin">登录 <span class="en">Sign in</span></a></p>
{% endblock %}"""

_ENV = Environment(
    loader=DictLoader({"base": _BASE, "signin": _SIGNIN, "setup": _SETUP, "forgot": _FORGOT, "message": _MESSAGE,
                       "totp": _TOTP, "recovery": _RECOVERY}),
    autoescape=select_autoescape(default=True, default_for_string=True),
    auto_reload=False,
)


@dataclass(frozen=True)
class Message:
    zh: str
    en: str = ""


def render(template: str, /, **context: Any) -> str:
    return _ENV.get_template(template).render(**context)


def form_csrf(request: Request) -> str:
    """This browser's form token (a new one when it has none)."""
    current = request.cookies.get(FORM_CSRF_COOKIE, "")
    return current if 20 <= len(current) <= 100 else secrets.token_urlsafe(24)


def form_csrf_ok(request: Request, presented: str) -> bool:
    cookie = request.cookies.get(FORM_CSRF_COOKIE, "")
    return bool(cookie) and bool(presented) and hmac.compare_digest(cookie.encode(), presented.encode())


def page(settings: Settings, request: Request, html: str, *, status: int = 200, csrf: str = "",
         headers: dict[str, str] | None = None) -> HTMLResponse:
    """An HTML answer with the pages' security headers (no referrer, no caching, no framing, forms
    only to this site) and the form token cookie."""
    response = HTMLResponse(html, status_code=status,
                            headers={**pages.security_headers(settings.public_base_url()), **(headers or {})})
    if csrf:
        response.set_cookie(FORM_CSRF_COOKIE, csrf, max_age=4 * 3600, path="/", httponly=True,
                            secure=sessions.cookie_secure(settings, request), samesite="strict")
    return response
