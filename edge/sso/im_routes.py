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
from pydantic import Field

from baobei.core.errors import FieldViolation, ValidationFailed
from edge.deps import Clients
from edge.schemas import Model
from edge.schemas_identity import SignInResult
from edge.signin import safe_next
from edge.sso import dingtalk, feishu, inapp_page, wecom
from edge.sso.im import ImApp, ImFlow
from edge.sso.providers import SSO_ERRORS, enabled_provider

IM_FLOWS: dict[str, ImFlow] = {p.type: ImFlow(p) for p in (dingtalk.PLATFORM, wecom.PLATFORM, feishu.PLATFORM)}
_NAMES_EN = {"dingtalk": "DingTalk", "wecom": "WeCom", "feishu": "Feishu"}

router = APIRouter(prefix="/auth", tags=["sign-in"], responses=SSO_ERRORS)


class CodeIn(Model):
    code: str = Field(min_length=1, max_length=512, description="The code the platform's JSAPI gave the page")
    next: str | None = Field(default=None, max_length=2000, description="A path on this site to go to afterwards")


class CodeSignInResult(SignInResult):
    next: str = Field(description="Where to go now (a path on this site)")


@router.post("/sso/{key}/code", response_model=CodeSignInResult)
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


@router.get("/sso/{key}/inapp", response_class=HTMLResponse,
            responses={200: {"content": {"text/html": {}}, "description": "DingTalk: the in-app sign-in page"},
                       302: {"description": "WeCom / Feishu: to the platform's in-client OAuth page"}})
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
