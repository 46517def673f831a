"""The page that sets up two-step verification in the browser (``/auth/totp/setup``): where a
form sign-in of a user whose role requires TOTP lands, and where anyone signed in may turn it on.
It shows the QR code and takes the first code as a form post; the session's own CSRF token is its
anti-forgery field. Without a live session it sends the browser to ``/signin``."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from starlette.responses import HTMLResponse, Response

from baobei.core.errors import DomainError, Forbidden
from baobei.registry.v1 import accounts_service_pb2 as accounts_pb2
from edge import audit, auth, sessions, signin_pages
from edge.client_address import client_ip
from edge.clients import Clients as EdgeClients
from edge.deps import Clients
from edge.openapi_examples import html_page, json_errors, redirect
from edge.routes.accounts import qr_svg
from edge.routes.password_signin import messages, read_form
from edge.schemas import ERROR_RESPONSES
from edge.signin import safe_next

router = APIRouter(prefix="/auth", tags=["sign-in"])
PATH = "/auth/totp/setup"
SENT_ON = redirect(303, "Not signed in: to the sign-in page, and back here afterwards; TOTP already enabled: on to "
                   "`next`", "`/signin?next=/auth/totp/setup?next=…`, or `next`")
FORM_SCHEMA = {"type": "object", "required": ["code", "csrf_token"], "properties": {
    "code": {"type": "string", "maxLength": 64, "description": "The authenticator's current 6-digit code"},
    "next": {"type": "string", "description": "Where to go afterwards (a path on this site)"},
    "csrf_token": {"type": "string", "description": "The session's CSRF token (the page's hidden field)"}},
    "examples": [{"code": "492039", "next": "/", "csrf_token": "kq3V1n8mZp0xWc7Lr2Yt5Hs9Jb4Ud6Fg1Ae8Io3Nv0"}]}


def _to_signin(target: str) -> RedirectResponse:
    return RedirectResponse("/signin?" + urlencode({"next": f"{PATH}?{urlencode({'next': target})}"}), status_code=303)


async def _page(request: Request, clients: EdgeClients, record: sessions.SessionRecord, target: str, *,
                error: DomainError | None = None) -> Response:
    try:
        started = await clients.accounts.StartTotp(accounts_pb2.StartTotpRequest(user_id=record.user_id))
    except DomainError as err:
        if err.code != "totp_already_enabled":
            raise
        return RedirectResponse(target, status_code=303)
    html = signin_pages.render("totp", title="两步验证", qr_svg=qr_svg(started.uri), secret=started.secret,
                               csrf=record.csrf, next=target, required=bool(record.restriction),
                               errors=messages(error) if error else [])
    return signin_pages.page(clients.settings, request, html, status=422 if error else 200)


@router.get(PATH.removeprefix("/auth"), response_class=HTMLResponse, responses={
    **html_page("The QR code and secret to add to an authenticator app, and a form for its first code"), **SENT_ON,
    **json_errors({422: ERROR_RESPONSES[422]})})
async def totp_setup_page(request: Request, clients: Clients, next: str = "/") -> Response:
    """Set up an authenticator app (signed-in browsers; others are sent to `/signin`)."""
    target = safe_next(next)
    record = await sessions.store_of(request).load(request.cookies.get(sessions.COOKIE, ""))
    if record is None:
        return _to_signin(target)
    return await _page(request, clients, record, target)


@router.post(PATH.removeprefix("/auth"), response_class=HTMLResponse, responses={
    **html_page("Enabled: the page with the recovery codes (shown once)"), **SENT_ON,
    **html_page("A wrong code or an expired form: the page again with the error", 422)},
    openapi_extra={"requestBody": {"required": True, "content": {
        "application/x-www-form-urlencoded": {"schema": FORM_SCHEMA}}}})
async def totp_setup(request: Request, clients: Clients) -> Any:
    """The page's form: `code`, `next` and the session's CSRF token as `csrf_token`. Answers the
    recovery codes (once); a wrong code shows the page again (422)."""
    form = await read_form(request)
    target = safe_next(form.get("next"))
    sid = request.cookies.get(sessions.COOKIE, "")
    store = sessions.store_of(request)
    record = await store.load(sid)
    if record is None:
        return _to_signin(target)
    if not sessions.csrf_ok(record, "POST", form.get(signin_pages.FORM_CSRF_FIELD)):
        return await _page(request, clients, record, target, error=Forbidden(
            "页面已过期，请重新提交", "the page expired; submit it again", code="csrf_failed"))
    req = accounts_pb2.ConfirmTotpRequest(user_id=record.user_id, code=form.get("code", "")[:64])
    req.now.FromDatetime(auth.now())
    try:
        resp = await clients.accounts.ConfirmTotp(req)
    except DomainError as err:
        if err.code == "totp_already_enabled":
            return RedirectResponse(target, status_code=303)
        return await _page(request, clients, record, target, error=err)
    await store.lift_restriction(sid)
    await audit.record(clients, "totp.enabled", actor_id=record.user_id, target_type="user",
                       target_id=record.user_id, ip=client_ip(request.scope))
    html = signin_pages.render("recovery", title="恢复码", codes=list(resp.recovery_codes), next=target)
    return signin_pages.page(clients.settings, request, html)
