"""In-app sign-in (免登) endpoints of DingTalk, WeCom and Feishu providers, under ``/auth``:

* ``GET /auth/sso/{key}/inapp?next=/projects/123`` — the app's homepage URL in the platform's
  workbench: DingTalk gets a tiny page that asks the client's JS bridge for a code; WeCom and
  Feishu are sent to the platform's own OAuth page inside their client (silent there), which
  comes back to ``/auth/sso/{key}/callback``. Either way the user lands on ``next``.
* ``POST /auth/sso/{key}/code`` {code, next?} — a code a page got from the client's JSAPI
  (DingTalk ``requestAuthCode``, Feishu ``tt.requestAuthCode``; WeCom: a web-authorisation code)
  → a session (the SignInResult and ``next``). JSON only: a cross-site form or a no-CORS fetch
  cannot post it, so nobody can sign a victim's browser in to the attacker's account.

The redirect pair (``/start``, ``/callback``) is served by :mod:`edge.sso.router`."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse
from pydantic import ConfigDict, Field

from baobei.core.errors import FieldViolation, ValidationFailed
from edge.deps import Clients
from edge.openapi_examples import PROVIDER_NOT_FOUND, ErrorExample, error_examples, html_page, json_errors, redirect
from edge.schemas import Model
from edge.schemas_identity import SESSION_EXAMPLE, SIGN_IN_EXAMPLE, SignInResult
from edge.signin import safe_next
from edge.sso import dingtalk, feishu, inapp_page, wecom
from edge.sso.im import ImApp, ImFlow
from edge.sso.providers import SSO_ERRORS, enabled_provider

IM_FLOWS: dict[str, ImFlow] = {p.type: ImFlow(p) for p in (dingtalk.PLATFORM, wecom.PLATFORM, feishu.PLATFORM)}
_NAMES_EN = {"dingtalk": "DingTalk", "wecom": "WeCom", "feishu": "Feishu"}

router = APIRouter(prefix="/auth", tags=["sign-in"], responses=SSO_ERRORS)


class CodeIn(Model):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"code": "a1b2c3d4e5f60718293a4b5c6d7e8f90", "next": "/projects/7c9e6679f4c84b8e9a3b2d1c0e5f4a3b"}]})

    code: str = Field(min_length=1, max_length=512, description="The code the platform's JSAPI gave the page")
    next: str | None = Field(default=None, max_length=2000, description="A path on this site to go to afterwards")


class CodeSignInResult(SignInResult):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        **SIGN_IN_EXAMPLE, "session": {**SESSION_EXAMPLE, "method": "dingtalk", "provider": "dingtalk"},
        "next": "/projects/7c9e6679f4c84b8e9a3b2d1c0e5f4a3b"}]})

    next: str = Field(description="Where to go now (a path on this site)")


@router.post("/sso/{key}/code", response_model=CodeSignInResult, responses=error_examples(
    ErrorExample(401, "sso_code_invalid", "钉钉登录码无效、已使用或已过期，请重新登录"),
    ErrorExample(404, "sso_user_unknown", "该钉钉账号不是本企业的成员，或没有对应的组织用户，请联系管理员"),
    PROVIDER_NOT_FOUND,
    ErrorExample(502, "sso_app_rejected", "钉钉拒绝了应用凭证（invalid appkey），请管理员检查 AppKey/Secret 配置")))
async def sign_in_with_code(key: str, body: CodeIn, request: Request, response: Response,
                            clients: Clients) -> dict[str, Any]:
    """Sign in with a DingTalk / WeCom / Feishu in-app code (JSON body, no credential needed);
    401 ``sso_code_invalid`` for a used, expired or foreign code."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise ValidationFailed([FieldViolation("body", "请求体必须是 JSON（Content-Type: application/json）",
                                               "the body must be JSON (Content-Type: application/json)")])
    provider = await enabled_provider(clients, key, IM_FLOWS)
    return await IM_FLOWS[provider.type].code(request, response, clients, provider, body.code, body.next or "/")


@router.get("/sso/{key}/inapp", response_class=HTMLResponse, responses={
    **json_errors(SSO_ERRORS),
    **html_page("DingTalk: the in-app sign-in page (asks the client's JS bridge for a code and posts it to "
                "`/auth/sso/{key}/code`)"),
    **redirect(302, "WeCom / Feishu: to the platform's in-client OAuth page", "The platform's OAuth URL, which "
               "comes back to `/auth/sso/{key}/callback`"),
    **error_examples(PROVIDER_NOT_FOUND, html_route=True)})
async def inapp(key: str, request: Request, clients: Clients,
                next_: Annotated[str, Query(alias="next", max_length=2000)] = "/") -> Response:
    """The homepage URL to give the app in the platform's workbench: signs the user in inside the
    DingTalk / WeCom / Feishu client and lands them on ``next``."""
    provider = await enabled_provider(clients, key, IM_FLOWS)
    next_path = safe_next(next_)
    flow = IM_FLOWS[provider.type]
    out = await flow.inapp(request, clients, provider, next_path)
    if not isinstance(out, ImApp):
        return out
    base = f"/auth/sso/{quote(key, safe='')}"
    html, csp = inapp_page.render(
        name=flow.platform.name, name_en=_NAMES_EN.get(provider.type, provider.type),
        code_url=f"{base}/code", start_url=f"{base}/start?next={quote(next_path, safe='')}", next_path=next_path,
        corp_id=out.config.corp_id, client_id=out.config.app_id, jsapi_url=out.config.jsapi_url)
    return HTMLResponse(html, headers={"Content-Security-Policy": csp, "Cache-Control": "no-store"})
