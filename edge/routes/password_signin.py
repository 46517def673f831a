"""Signing in with a local account, under ``/auth`` (anonymous): password (+ TOTP) sign-in, setting
a password through an invite / reset link, and "forgot password"; and the pages that drive them
(``GET /signin``, ``GET /auth/password/setup``, ``GET /auth/password/forgot``).

Each POST takes JSON (the API: answers JSON, sets the session cookies) or a form post from the
pages (``application/x-www-form-urlencoded`` with the page's ``csrf_token``: answers a 303 to
``next`` on success, else the page again with the error and the same status). Refusals:
401 ``invalid_credentials`` (unknown login, no password yet and wrong password alike, in the same
time), 401 ``totp_required`` / ``totp_invalid``, 429 ``account_locked`` with ``Retry-After``
(lockout) and 429 ``rate_limited`` (failed attempts per client IP), 403 ``user_left``."""

from __future__ import annotations

import contextlib
import hashlib
from typing import Any, TypeVar
from urllib.parse import urlencode

import structlog
from fastapi import APIRouter, BackgroundTasks, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, ValidationError
from redis.exceptions import RedisError
from starlette.responses import HTMLResponse

from baobei.core.errors import DomainError, FieldViolation, Forbidden, Unauthenticated, ValidationFailed
from baobei.registry.v1 import accounts_service_pb2 as accounts_pb2
from baobei.registry.v1 import identity_service_pb2 as identity_pb2
from edge import audit, auth, json_body, mapping, ratelimit, sessions, setup_links, signin_pages
from edge.client_address import client_ip
from edge.clients import Clients as EdgeClients
from edge.deps import Clients
from edge.errors import RateLimited, status_of, violation_of
from edge.openapi_examples import (
    ACCOUNT_LOCKED,
    INVALID_CREDENTIALS,
    RATE_LIMITED,
    SIGNED_IN_LEFT,
    TOTP_INVALID,
    TOTP_REQUIRED,
    ErrorExample,
    error_examples,
    html_page,
    json_errors,
    redirect,
)
from edge.routes.accounts import AccountLocked
from edge.schemas import ERROR_RESPONSES
from edge.schemas_accounts import Accepted, ForgotIn, LoginIn, PasswordSignInResult, SetupIn
from edge.signin import open_session, safe_next, sign_in_failed
from edge.sso.configs import start_path

log = structlog.get_logger(__name__)
router = APIRouter(prefix="/auth", tags=["sign-in"], responses=ERROR_RESPONSES)
# The pages (GET): their refusals are pages too, so not the API's error table.
pages_router = APIRouter(tags=["sign-in"])
routers = (router, pages_router)
M = TypeVar("M", bound=BaseModel)
Out = accounts_pb2.SignInResponse
RESTRICTION = "totp_enrolment_required"
UNKNOWN_PREFIX = "baobei:edge:unknown-login:"
FORGOT_MESSAGE = "如果该账号存在并登记了邮箱，重置密码的链接已发送。"
FORM_POSTED = redirect(303, "Form posts (a page's `application/x-www-form-urlencoded`): signed in, on to `next`; "
                       "a refusal shows the page again (HTML) with the error and its status",
                       "`next` (a path on this site), or `/auth/totp/setup?next=…` when TOTP must be set up first")
LINK_INVALID = ErrorExample(403, "setup_link_invalid", "链接无效或已失效，请重新申请")
LINK_EXPIRED = ErrorExample(403, "setup_link_expired", "链接已过期，请重新申请")
LINK_USED = ErrorExample(410, "link_used", "链接已使用过，请重新申请")
PAGE_VALIDATION = json_errors({422: ERROR_RESPONSES[422]})


# ---- bodies: JSON or a page's form ---------------------------------------------------------------


def _body_doc(model: type[BaseModel]) -> dict[str, Any]:
    """The request body in the OpenAPI document (the route reads it itself: JSON or a form)."""
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    return {"requestBody": {"required": True, "content": {
        "application/json": {"schema": schema},
        "application/x-www-form-urlencoded": {"schema": schema}}}}


def _is_form(request: Request) -> bool:
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return ctype == "application/x-www-form-urlencoded"


async def read_form(request: Request) -> dict[str, str]:
    try:
        form = await request.form()
    except Exception:  # noqa: BLE001 - a malformed form is an empty one
        return {}
    return {k: v for k, v in form.items() if isinstance(v, str)}


async def _json(request: Request) -> Any:
    try:
        return json_body.parse(await request.body())
    except ValueError:
        raise ValidationFailed([FieldViolation("body", "请求体必须是 JSON", "the body must be JSON")]) from None


def _model(model: type[M], data: Any) -> M:
    try:
        return model.model_validate(data if isinstance(data, dict) else {})
    except ValidationError as err:
        raise ValidationFailed([violation_of(dict(e)) for e in err.errors()]) from None


# ---- limits and outcomes --------------------------------------------------------------------------


def _limit(clients: EdgeClients, name: str) -> ratelimit.Limit:
    s = clients.settings
    return ratelimit.Limit(name, int(getattr(s, f"rate_limit_{name}")), s.rate_limit_window_seconds)


async def _count_failure(clients: EdgeClients, ip: str) -> None:
    with contextlib.suppress(RateLimited):  # counted; the answer stays the sign-in's own
        await ratelimit.check(clients.redis, _limit(clients, "login_failures"), ip)


def _refusal(resp: accounts_pb2.SignInResponse) -> DomainError:
    if resp.outcome == Out.LOCKED:
        return AccountLocked(resp.retry_after_seconds)
    if resp.outcome == Out.TOTP_REQUIRED:
        return Unauthenticated("请输入两步验证码", "enter the code from your authenticator app", code="totp_required")
    if resp.outcome == Out.TOTP_INVALID:
        return Unauthenticated("两步验证码不正确或已使用", "the authenticator code is wrong or was used already",
                               code="totp_invalid")
    if resp.outcome == Out.USER_LEFT:
        return Forbidden("账号已停用", "the account is disabled", code="user_left")
    return Unauthenticated("账号或密码错误", "wrong login or password", code="invalid_credentials")


_REASONS = {Out.LOCKED: "account_locked", Out.TOTP_REQUIRED: "totp_required", Out.TOTP_INVALID: "totp_invalid",
            Out.USER_LEFT: "user_left", Out.INVALID_CREDENTIALS: "invalid_credentials"}


async def _unknown_login_lock(clients: EdgeClients, login: str) -> int:
    """A login that names nobody is locked like an account would be (same threshold and back-off,
    kept in Redis), so a lockout does not tell an account exists. Seconds left, 0 when not locked."""
    s = clients.settings
    digest = hashlib.sha256(login.strip().casefold().encode()).hexdigest()[:32]
    failures, lock = f"{UNKNOWN_PREFIX}failures:{digest}", f"{UNKNOWN_PREFIX}lock:{digest}"
    try:
        left = int(await clients.redis.ttl(lock))
        if left > 0:
            return left
        async with clients.redis.pipeline(transaction=True) as pipe:
            pipe.incr(failures)
            pipe.expire(failures, 24 * 3600)
            count = int((await pipe.execute())[0])
        # The registry's rule (services/registry/accounts/domain.lock_seconds) on the same settings.
        seconds = 0
        if count >= max(1, s.login_max_failures):
            doublings = min(count - max(1, s.login_max_failures), 30)
            seconds = int(min(s.login_lockout_max_seconds, s.login_lockout_seconds * 2**doublings))
        if seconds:
            await clients.redis.set(lock, "1", ex=seconds)
        return seconds
    except RedisError:
        return 0


async def _finish(request: Request, response: Response, clients: EdgeClients, resp: accounts_pb2.SignInResponse,
                  *, login: str, ip: str, end_other_sessions: bool = False) -> dict[str, Any]:
    """Open the session of a successful check; else audit and raise the refusal."""
    if resp.outcome == Out.OK:
        if end_other_sessions:
            # A new password by link: every session the user had ends (someone may have had it).
            await sessions.store_of(request).revoke_user(resp.user.id)
        body = await open_session(request, response, clients, resp.user, method="password",
                                  restriction=RESTRICTION if resp.totp_enrolment_required else "")
        body["totp_enrolment_required"] = resp.totp_enrolment_required
        body["recovery_codes_left"] = resp.recovery_codes_left if resp.recovery_code_used else None
        return body
    if resp.outcome != Out.TOTP_REQUIRED:
        await _count_failure(clients, ip)
    if resp.outcome == Out.INVALID_CREDENTIALS and not resp.user_id and login:
        seconds = await _unknown_login_lock(clients, login)
        if seconds:
            resp = accounts_pb2.SignInResponse(outcome=Out.LOCKED, retry_after_seconds=seconds)
    await sign_in_failed(request, clients, method="password", reason=_REASONS.get(resp.outcome, "refused"),
                         login=login, user_id=resp.user_id)
    raise _refusal(resp)


async def _password_sign_in(request: Request, response: Response, clients: EdgeClients,
                            body: LoginIn) -> dict[str, Any]:
    ip = client_ip(request.scope)
    await ratelimit.check(clients.redis, _limit(clients, "login_failures"), ip, consume=False)
    req = accounts_pb2.SignInRequest(login=body.login, password=body.password, totp_code=body.totp_code or "")
    req.now.FromDatetime(auth.now())
    resp = await clients.accounts.SignIn(req)
    return await _finish(request, response, clients, resp, login=body.login, ip=ip)


async def _set_password(request: Request, response: Response, clients: EdgeClients,
                        body: SetupIn) -> dict[str, Any]:
    ip = client_ip(request.scope)
    await ratelimit.check(clients.redis, _limit(clients, "login_failures"), ip, consume=False)
    req = accounts_pb2.UseSetupLinkRequest(token=body.token, password=body.password, totp_code=body.totp_code or "")
    req.now.FromDatetime(auth.now())
    try:
        resp = await clients.accounts.UseSetupLink(req)
    except DomainError as err:
        if not isinstance(err, ValidationFailed):
            await _count_failure(clients, ip)  # a dead or guessed link
        raise
    out = await _finish(request, response, clients, resp, login=resp.user_id, ip=ip, end_other_sessions=True)
    await audit.record(clients, "password.set_by_link", actor_id=resp.user.id, target_type="user",
                       target_id=resp.user.id, ip=ip)
    return out


def _page_headers(err: DomainError) -> dict[str, str]:
    return {"Retry-After": str(err.retry_after)} if isinstance(err, RateLimited) else {}


def messages(err: DomainError) -> list[signin_pages.Message]:
    if err.violations:
        return [signin_pages.Message(v.zh, v.en) for v in err.violations]
    return [signin_pages.Message(err.zh, err.en if err.en != err.zh else "")]


def _form_refused() -> Forbidden:
    return Forbidden("页面已过期，请重新提交", "the page expired; submit it again", code="csrf_failed")


# ---- sign in -------------------------------------------------------------------------------------


@router.post("/login", response_model=PasswordSignInResult, openapi_extra=_body_doc(LoginIn), responses={
    **FORM_POSTED, **error_examples(INVALID_CREDENTIALS, TOTP_REQUIRED, TOTP_INVALID, SIGNED_IN_LEFT, ACCOUNT_LOCKED,
                                    RATE_LIMITED)})
async def login(request: Request, response: Response, clients: Clients) -> Any:
    """Sign in with a local account: `{"login", "password", "totp_code"?}` (login = user id,
    e-mail or mobile). Sets the session cookies (`bb_session`, `bb_csrf`) and answers the user
    and the CSRF token. With `totp_enrolment_required` the session may only enrol TOTP until it
    is done. A page's form post answers 303 to its `next`."""
    if not _is_form(request):
        return await _password_sign_in(request, response, clients, _model(LoginIn, await _json(request)))
    form = await read_form(request)
    target = safe_next(form.get("next"))
    try:
        if not signin_pages.form_csrf_ok(request, form.get(signin_pages.FORM_CSRF_FIELD, "")):
            raise _form_refused()
        redirect = RedirectResponse(target, status_code=303)
        body = await _password_sign_in(request, redirect, clients, _model(LoginIn, form))
        if body["totp_enrolment_required"]:  # set it up first, then on to next
            redirect.headers["location"] = "/auth/totp/setup?" + urlencode({"next": target})
        return redirect
    except DomainError as err:
        return await signin_page(request, clients, target, login=form.get("login", "")[:320], error=err)


async def _providers(clients: EdgeClients) -> list[dict[str, str]]:
    """The enabled providers, as `/auth/methods` lists them (the page works without them)."""
    try:
        resp = await clients.identity.ListProviders(identity_pb2.ListProvidersRequest(enabled_only=True))
    except DomainError:
        return []
    return [{"key": p.key, "type": p.type, "name": p.name or p.key, "start_url": start_path(p.type, p.key)}
            for p in resp.providers]


async def signin_page(request: Request, clients: EdgeClients, target: str, *, login: str = "",
                      error: DomainError | None = None, notice: str = "") -> HTMLResponse:
    csrf = signin_pages.form_csrf(request)
    record = await sessions.store_of(request).load(request.cookies.get(sessions.COOKIE, ""))
    html = signin_pages.render(
        "signin", title="登录", next=target, login=login, csrf=csrf, errors=messages(error) if error else [],
        providers=await _providers(clients), signed_in=record.user_id if record else "", notice=notice)
    return signin_pages.page(clients.settings, request, html, status=status_of(error) if error else 200, csrf=csrf,
                             headers=_page_headers(error) if error else None)


@pages_router.get("/signin", response_class=HTMLResponse, responses={
    **html_page("The sign-in page: login, password and TOTP code; a button (LDAP: a form) per provider"),
    **PAGE_VALIDATION})
async def signin(request: Request, clients: Clients, next: str = "/") -> HTMLResponse:
    """The sign-in page: login and password (and TOTP code), and a button (LDAP: a form) per
    enabled provider. `next` is where to go afterwards (a path on this site)."""
    return await signin_page(request, clients, safe_next(next))


# ---- set a password through a link ---------------------------------------------------------------


def _link_error_page(request: Request, clients: EdgeClients, err: DomainError) -> HTMLResponse:
    html = signin_pages.render("message", title="链接无效", heading="链接不可用", heading_en="Link not usable",
                               message=err.zh, message_en=err.en if err.en != err.zh else "")
    return signin_pages.page(clients.settings, request, html, status=status_of(err))


async def _setup_page(request: Request, clients: EdgeClients, token: str, *,
                      error: DomainError | None = None) -> HTMLResponse:
    req = accounts_pb2.CheckSetupLinkRequest(token=token)
    req.now.FromDatetime(auth.now())
    try:
        link = await clients.accounts.CheckSetupLink(req)
    except DomainError as err:
        return _link_error_page(request, clients, err)
    csrf = signin_pages.form_csrf(request)
    invite = link.purpose == "invite"
    html = signin_pages.render(
        "setup", title="设置密码", heading="设置密码" if invite else "重置密码",
        heading_en="Set your password" if invite else "Reset your password", user_id=link.user.id,
        user_name=link.user.name or link.user.id, token=token, csrf=csrf, totp=link.totp_enabled,
        min_length=clients.settings.password_min_length, expires_at=mapping.ts(link.expires_at),
        errors=messages(error) if error else [])
    return signin_pages.page(clients.settings, request, html, status=status_of(error) if error else 200, csrf=csrf,
                             headers=_page_headers(error) if error else None)


@pages_router.get("/auth/password/setup", response_class=HTMLResponse, responses={
    **html_page("The page to choose a password (and enter the TOTP code when the account has one)"),
    **html_page("setup_link_invalid / setup_link_expired: a page saying the link cannot be used", 403),
    **html_page("link_used: a page saying the link was used already", 410), **PAGE_VALIDATION})
async def setup_page(request: Request, clients: Clients, token: str = "") -> HTMLResponse:
    """The page of an invite / reset link: choose a password (403 / 410 page for a dead link)."""
    return await _setup_page(request, clients, token)


@router.post("/password/setup", response_model=PasswordSignInResult, openapi_extra=_body_doc(SetupIn), responses={
    **redirect(303, "Form posts: the password is set and this browser signed in, on to `/`; a refusal shows the "
               "page again (HTML)", "`/`"),
    **error_examples(ErrorExample(422, "validation_failed", "输入校验失败", (
        ("password", "该密码过于常见或出现在已泄露的密码中，请换一个"),)), LINK_INVALID, LINK_EXPIRED, LINK_USED,
        TOTP_REQUIRED)})
async def setup(request: Request, response: Response, clients: Clients) -> Any:
    """Set the password through an invite / reset link `{"token", "password", "totp_code"?}`:
    422 naming `password` when the policy refuses it (the link stays usable), 403
    `setup_link_invalid` / `setup_link_expired`, 410 `link_used`. An account with two-step
    verification also needs its code (401 `totp_required` / `totp_invalid`). Then every session of
    the user ends and this browser is signed in (as `POST /auth/login`)."""
    if not _is_form(request):
        return await _set_password(request, response, clients, _model(SetupIn, await _json(request)))
    form = await read_form(request)
    token = form.get("token", "")[:200]
    try:
        if not signin_pages.form_csrf_ok(request, form.get(signin_pages.FORM_CSRF_FIELD, "")):
            raise _form_refused()
        if form.get("password", "") != form.get("password_confirm", ""):
            raise ValidationFailed([FieldViolation("password_confirm", "两次输入的密码不一致",
                                                   "the passwords do not match")])
        redirect = RedirectResponse("/", status_code=303)
        await _set_password(request, redirect, clients, _model(SetupIn, form))
        return redirect
    except DomainError as err:
        return await _setup_page(request, clients, token, error=err)


# ---- forgot password -----------------------------------------------------------------------------


async def _send_reset(clients: EdgeClients, login: str, ip: str) -> None:
    """Issue and e-mail a reset link when the login names a user with an e-mail (in the
    background: the answer neither waits for it nor differs)."""
    try:
        resp = await setup_links.issue(clients, purpose="reset", actor_id="self", login=login)
        emailed = False
        if resp.issued:
            emailed = await setup_links.send_mail(clients, resp.user, "reset",
                                                  setup_links.setup_url(clients, resp.token), resp.expires_at)
        await audit.record(clients, "password.forgot", actor_id="anonymous", target_type="user",
                           target_id=resp.user.id, details={"issued": resp.issued, "emailed": emailed,
                                                            "reason": resp.reason}, ip=ip)
    except Exception:  # noqa: BLE001 - nobody waits for this answer
        log.exception("password.forgot_failed")


@router.post("/password/forgot", status_code=202, response_model=Accepted, openapi_extra=_body_doc(ForgotIn),
             responses={202: {"description": "Accepted, whether or not the login exists (a form post answers the "
                                             "page saying so, HTML)",
                              "content": {"text/html": {"schema": {"type": "string"}}}},
                        **error_examples(RATE_LIMITED, ErrorExample(422, "validation_failed", "输入校验失败", (
                            ("login", "必填项"),)))})
async def forgot(request: Request, clients: Clients, background: BackgroundTasks) -> Any:
    """"Forgot password" `{"login"}`: always 202, whether or not the login exists (a reset link
    goes to the account's e-mail when it has one, at most 3 an hour). 429 `rate_limited` per
    client IP."""
    is_form = _is_form(request)
    ip = client_ip(request.scope)
    form: dict[str, str] = {}
    try:
        if is_form:
            form = await read_form(request)
            if not signin_pages.form_csrf_ok(request, form.get(signin_pages.FORM_CSRF_FIELD, "")):
                raise _form_refused()
        body = _model(ForgotIn, form if is_form else await _json(request))
        await ratelimit.check(clients.redis, _limit(clients, "password_forgot"), ip)
    except DomainError as err:
        if not is_form:
            raise
        return _forgot_page(request, clients, error=err)
    background.add_task(_send_reset, clients, body.login, ip)
    if is_form:
        return _forgot_page(request, clients, sent=True, background=background)
    return {"message": FORGOT_MESSAGE}


def _forgot_page(request: Request, clients: EdgeClients, *, sent: bool = False, error: DomainError | None = None,
                 background: BackgroundTasks | None = None) -> HTMLResponse:
    csrf = signin_pages.form_csrf(request)
    html = signin_pages.render("forgot", title="忘记密码", csrf=csrf, sent=sent,
                               ttl=clients.settings.reset_link_ttl_hours, errors=messages(error) if error else [])
    response = signin_pages.page(clients.settings, request, html, status=202 if sent else status_of(error) if error
                                 else 200, csrf=csrf, headers=_page_headers(error) if error else None)
    response.background = background
    return response


@pages_router.get("/auth/password/forgot", response_class=HTMLResponse,
                  responses=html_page("The \"forgot password\" page: a form asking for the login"))
async def forgot_page(request: Request, clients: Clients) -> HTMLResponse:
    """The "forgot password" page."""
    return _forgot_page(request, clients)
