"""Group action links (``<base>/a/g/<token>``): the buttons of DingTalk / WeCom group robot cards.

Everybody in the group can read a card, so its link is bound to the approval request (its task,
hence that step's current opening), never to a person, and it proves nothing about who clicked:

- the token is checked first (notify): tampered or expired → 403, whoever asks;
- without a live browser session → 303 to ``/signin?next=/a/g/<token>`` (the sign-in page and
  every SSO start honour ``next``), for GET, HEAD and POST alike;
- signed in: the approval service says what this user may do with it
  (``approval.v1.GroupLinkService``): not an approver of that step → 403 ``link_not_yours``
  (audited); already used by this user → 410 (a group link works **once per approver**, so each
  approver of an ``all`` step can use the same card); their part decided by other means or the
  step over → 409. Otherwise the page shows the project as *this user* may read it.
- POST decides **as the signed-in user** through the same lifecycle ``decide`` update as the
  to-do list (channel ``group_link``; a delegate is recorded ``on_behalf_of``). The session cookie
  is the credential here, so the form must carry the session's CSRF token (hidden field
  ``csrf_token``, or the ``X-CSRF-Token`` header): a cross-site page can make the browser send the
  cookie's request but cannot know that token → 403 ``csrf_failed``, nothing decided.

Every answer carries the action link pages' headers (no referrer, no-store, no framing); the token
is never logged (``/a/<redacted>``). A bearer token is ignored here: these are browser pages."""

from __future__ import annotations

import hmac

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from redis.exceptions import RedisError

from baobei.approval.v1 import group_link_service_pb2 as rules_pb2
from baobei.core.errors import DomainError
from baobei.notify.v1 import group_link_service_pb2 as tokens_pb2
from edge import link_identity, mapping, pages, sessions
from edge.clients import Clients as EdgeClients
from edge.deps import Clients
from edge.routes import bind_project
from edge.routes.action_links import (
    PageError,
    decide_once,
    error_page,
    from_domain,
    read_form,
    result_page,
    step_label,
    summary,
)
from workflows.contracts.lifecycle import DecisionInput

log = structlog.get_logger(__name__)
router = APIRouter(tags=["action links"])
PATH = "/a/g/"
CHANNEL = "group_link"
# state of approval.GroupLinkService.CheckGroupLink → (HTTP status, error code)
_STATE_ERRORS = {"used": (410, "link_used"), "not_assignee": (403, "link_not_yours"),
                 "decided": (409, "already_decided"), "approver_left": (403, "approver_left")}


class SignInFirst(Exception):
    """No live session: the reader must prove who they are before the link decides anything."""


async def _token(clients: EdgeClients, token: str) -> tokens_pb2.GroupLink:
    if not token or len(token) > 1000:
        raise PageError(403, "link_invalid")
    try:
        link: tokens_pb2.GroupLink = (
            await clients.group_link_tokens.ResolveGroupLink(tokens_pb2.ResolveGroupLinkRequest(token=token))).link
    except DomainError as err:
        raise from_domain(err) from None
    if not link.id or not link.task_id:
        raise PageError(403, "link_invalid")
    structlog.contextvars.bind_contextvars(link_id=link.id, task_id=link.task_id)
    return link


async def _reader(request: Request, clients: EdgeClients) -> link_identity.SignedIn:
    try:
        current = await link_identity.signed_in(request, clients)
    except RedisError:
        raise PageError(503, "service_unavailable") from None
    if current is None:
        raise SignInFirst()
    structlog.contextvars.bind_contextvars(user_id=current.user.id)
    return current


async def _rules(clients: EdgeClients, link: tokens_pb2.GroupLink, user_id: str) -> rules_pb2.CheckGroupLinkResponse:
    try:
        checked: rules_pb2.CheckGroupLinkResponse = await clients.group_link_rules.CheckGroupLink(
            rules_pb2.CheckGroupLinkRequest(link_id=link.id, task_id=link.task_id, actor_id=user_id))
        return checked
    except DomainError as err:
        raise from_domain(err) from None


async def _usable(request: Request, clients: EdgeClients, link: tokens_pb2.GroupLink,
                  reader: link_identity.SignedIn) -> rules_pb2.CheckGroupLinkResponse:
    checked = await _rules(clients, link, reader.user.id)
    if checked.state == "usable" and checked.task.id and checked.use_id:
        return checked
    status, code = _STATE_ERRORS.get(checked.state, (403, "link_invalid"))
    if code == "link_not_yours":
        await link_identity.refused(request, clients, who=reader.user.id, reason=code, kind="group",
                                    link_id=link.id, task_id=link.task_id)
    raise PageError(status, code)


def _signin(clients: EdgeClients, token: str) -> Response:
    headers = pages.security_headers(clients.settings.public_base_url())
    return RedirectResponse(link_identity.signin_url(clients, PATH + token), status_code=303, headers=headers)


async def _csrf_ok(request: Request, reader: link_identity.SignedIn) -> bool:
    try:
        form = await request.form()
        presented = str(form.get(link_identity.CSRF_FIELD) or "")
    except Exception:  # not a form body: only the header can carry it
        presented = ""
    presented = presented or request.headers.get(sessions.CSRF_HEADER, "")
    return bool(presented) and hmac.compare_digest(presented.encode(), reader.record.csrf.encode())


def _failed(err: Exception, base: str, method: str, *, head: bool = False) -> Response:
    if isinstance(err, PageError):
        log.info("group_link.refused", status=err.status, code=err.code, method=method)
        return error_page(err, base, head=head)
    if isinstance(err, DomainError):
        return error_page(from_domain(err), base, head=head)
    log.exception("group_link.failed", error=type(err).__name__)  # never the JSON shape, nor the token
    return error_page(PageError(500, "internal"), base, head=head)


@router.head("/a/g/{token}", response_class=HTMLResponse, include_in_schema=False)
async def head_group_link(token: str, request: Request, clients: Clients) -> Response:
    """Link scanners probe with HEAD: same checks, no body, nothing decided."""
    return await show_group_link(token, request, clients)


@router.get(
    "/a/g/{token}", response_class=HTMLResponse, summary="Group action link page (sign in first)",
    responses={303: {"description": "Not signed in: to /signin?next=…"},
               403: {"description": "Tampered, expired, or not an approver of that step"},
               409: {"description": "Decided"}, 410: {"description": "Already used by this approver"}},
)
async def show_group_link(token: str, request: Request, clients: Clients) -> Response:
    """The project (as the signed-in approver may see it) and an approve / reject form with the
    session's CSRF token. A GET (or HEAD) never decides anything."""
    base = clients.settings.public_base_url()
    head = request.method == "HEAD"
    try:
        link = await _token(clients, token)
        bind_project(request, link.project_id)
        reader = await _reader(request, clients)
        checked = await _usable(request, clients, link, reader)
        if head:
            return HTMLResponse("", headers=pages.security_headers(base))
        shown = await summary(clients, reader.user.id, checked.task.project_id or link.project_id, task=checked.task)
        html = pages.render(
            "confirm", title="审批确认", action_url=f"{base}{PATH}{token}", step=step_label(checked.task),
            due_at=mapping.ts(checked.task.due_at) or "", expires_at=mapping.ts(link.expires_at) or "",
            group=True, csrf_token=reader.record.csrf, **shown,
        )
        return HTMLResponse(html, headers=pages.security_headers(base))
    except SignInFirst:
        return _signin(clients, token)
    except Exception as err:
        return _failed(err, base, request.method, head=head)


@router.post(
    "/a/g/{token}", response_class=HTMLResponse, summary="Decide through a group action link (signed in)",
    responses={303: {"description": "Not signed in: to /signin?next=…"},
               403: {"description": "Tampered, expired, not an approver of that step, or no CSRF token"},
               409: {"description": "Decided"}, 410: {"description": "Already used by this approver"},
               422: {"description": "action is not approve or reject"}},
)
async def use_group_link(token: str, request: Request, clients: Clients) -> Response:
    """Form fields `action` (approve | reject), `comment` and `csrf_token` (the session's). Decides
    as the signed-in user; answers 200 once the decision has taken effect in the workflow."""
    base = clients.settings.public_base_url()
    try:
        link = await _token(clients, token)
        bind_project(request, link.project_id)
        reader = await _reader(request, clients)
        if not await _csrf_ok(request, reader):
            await link_identity.refused(request, clients, who=reader.user.id, reason="csrf_failed", kind="group",
                                        link_id=link.id, task_id=link.task_id)
            raise PageError(403, "csrf_failed")
        checked = await _usable(request, clients, link, reader)
        action, comment = await read_form(request)
        task = checked.task

        async def recheck() -> PageError | None:
            again = await _rules(clients, link, reader.user.id)
            if again.state in _STATE_ERRORS:
                status, code = _STATE_ERRORS[again.state]
                return PageError(status, code)
            return None

        status = await decide_once(
            clients, task,
            DecisionInput(task_id=task.id, user_id=reader.user.id, action=action, comment=comment,
                          channel=CHANNEL, link_id=checked.use_id),
            recheck=recheck,
        )
        log.info("group_link.decided", action=action, status=status, on_behalf_of=task.on_behalf_of)
        return await result_page(clients, task.project_id, action, status)
    except SignInFirst:
        return _signin(clients, token)
    except Exception as err:
        return _failed(err, base, "POST")
