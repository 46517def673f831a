"""Refusals of a browser sign-in flow (SSO start and callback): the contract's JSON error shape
for API clients, a small HTML page with a way back to the sign-in page for people (the browser
asks for ``text/html``). Every refusal carries its own status, since a sign-in callback has codes
of its own (state, provider, token, user)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from jinja2 import DictLoader, Environment, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from baobei.core.errors import Conflict, DomainError, Forbidden, NotFound, ValidationFailed
from edge import pages
from edge.errors import RateLimited, ServiceUnavailable, error_body, request_locale, status_of


@dataclass
class SsoError(Exception):
    status: int
    code: str
    zh: str
    en: str
    field: str = ""  # what was wrong, e.g. id_token.aud (the error's details)

    def __post_init__(self) -> None:
        super().__init__(self.en)

    def text(self, locale: str) -> str:
        return self.en if locale == "en" else self.zh


def from_domain(err: DomainError) -> SsoError:
    """A refusal from a service (the registry matching the user) as a sign-in refusal: who is
    unknown or has left may not sign in (403), several candidates or a taken link is a conflict
    an admin resolves (409)."""
    if isinstance(err, NotFound | Forbidden | ValidationFailed):
        status = 403
    elif isinstance(err, Conflict):
        status = 409
    else:
        status = status_of(err)
    return SsoError(status, err.code, err.zh, err.en or err.zh)


_PAGE = """{% extends "base" %}{% block body %}
<h1>登录失败 <span class="en">Sign-in failed</span></h1>
<p>{{ zh }}</p>
{% if en != zh %}<p class="en">{{ en }}</p>{% endif %}
<p><a href="{{ signin }}">返回登录页 <span class="en">Back to sign-in</span></a></p>
<p class="muted">错误代码 Error code: {{ code }} ({{ status }})</p>
{% endblock %}"""

_ENV = Environment(loader=DictLoader({"base": pages._BASE, "page": _PAGE}),
                   autoescape=select_autoescape(default=True, default_for_string=True), auto_reload=False)


def wants_html(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "").lower()


def error_response(request: Request, err: SsoError | DomainError, *, next_path: str = "/") -> Response:
    """The refusal as a page (browsers) or the contract's JSON error (anything else)."""
    if isinstance(err, RateLimited | ServiceUnavailable):
        sso = SsoError(status_of(err), err.code, err.zh, err.en or err.zh)
        headers = {"Retry-After": str(err.retry_after)} if isinstance(err, RateLimited) else {}
    else:
        sso = err if isinstance(err, SsoError) else from_domain(err)
        headers = {}
    headers["Cache-Control"] = "no-store"
    if wants_html(request):
        base = request.app.state.settings.public_base_url()
        body = _ENV.get_template("page").render(
            title="登录失败", zh=sso.zh, en=sso.en, code=sso.code, status=sso.status,
            signin="/signin" + (f"?next={quote(next_path, safe='/')}" if next_path != "/" else ""))
        return HTMLResponse(body, status_code=sso.status, headers={**pages.security_headers(base), **headers})
    locale = request_locale(request)
    details = [{"field": sso.field, "message": sso.text(locale)}] if sso.field else []
    return JSONResponse(error_body(sso.code, sso.text(locale), details), status_code=sso.status, headers=headers)
