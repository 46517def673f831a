"""Signed action links (``<base>/a/<token>``) from approval notifications.

``GET /a/<token>`` shows the project (as the link's approver may see it) and a confirmation form;
it never decides, so link scanners and mail previews change nothing. ``POST /a/<token>`` with
``action`` (approve | reject) and ``comment`` decides through the project's workflow exactly like
``POST /approval-tasks/{id}/decision`` does, as the link's approver, with channel ``link`` and the
link id (the approval service marks the link used in the same transaction as the decision). The
page answers only after the workflow has taken the decision.

Every answer (errors included) is HTML with ``Referrer-Policy: no-referrer``, ``no-store`` and no
framing. A tampered / unknown / expired token → 403, a used link → 410, a task decided by other
means → 409, an approver who no longer holds the task (transfer, reassign) or has left the
organisation → 403. The token is
the credential: it is never logged (the access log shows ``/a/<redacted>``).

Signed in as someone else: when the browser brings a live session (``bb_session``) of a user who
is not the link's approver, every method answers 403 ``link_not_yours`` (audited) before the
task's state is even looked at — a colleague signed in on the shared machine, or in the IM client
a link was forwarded to, cannot decide with it. The approver's own session, or none, works as the
contract says. The POST needs no CSRF token: what authorises it is the token in the URL, which a
cross-site page does not know (and with it needs no cookie at all); the session can only refuse.

Group links (``/a/g/<token>``, robot cards) are another kind of token: edge/routes/group_links.py."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from redis.exceptions import RedisError

from baobei.approval.v1 import approval_service_pb2 as approval_pb2
from baobei.core.errors import Conflict, DomainError, Forbidden, Gone, NotFound, ValidationFailed
from baobei.notify.v1 import notify_service_pb2 as notify_pb2
from baobei.registry.v1 import registry_service_pb2 as registry_pb2
from edge import lifecycle, link_identity, mapping, pages
from edge.auth import Principal
from edge.clients import Clients as EdgeClients
from edge.deps import Clients
from edge.errors import ServiceUnavailable, UpstreamFailed, status_of
from edge.routes import bind_project
from edge.routes.acceptance import acceptance_instance
from edge.routes.approvals import DECISION_LOCK_SECONDS
from edge.routes.changes import change_instance, diff_out, get_change_of
from edge.routes.projects import approval_instance, viewer_of
from workflows.contracts.acceptance import ACCEPTANCE_PURPOSE
from workflows.contracts.change import CHANGE_PURPOSE
from workflows.contracts.lifecycle import DecisionInput

log = structlog.get_logger(__name__)
router = APIRouter(tags=["action links"])

ACTIONS = ("approve", "reject")
MAX_COMMENT = 2000
# state of approval.CheckActionLink → (HTTP status, error code)
_STATE_ERRORS = {"used": (410, "link_used"), "not_assignee": (403, "not_assignee"), "decided": (409, "already_decided"),
                 "approver_left": (403, "approver_left")}

# code → (heading zh, heading en, message zh, message en)
_TEXTS: dict[str, tuple[str, str, str, str]] = {
    "link_invalid": ("链接无效", "Invalid link", "该链接无效或已被修改，请从通知中重新打开，或登录系统处理待办。",
                     "This link is invalid or was altered; open it again from the notification "
                     "or use your to-do list."),
    "link_expired": ("链接已过期", "Link expired", "该链接已过期，请登录系统在待办中处理。",
                     "This link has expired; please decide from your to-do list."),
    "not_assignee": ("无权处理", "Not your task", "您已不是该审批任务的审批人（任务可能已转交或重新分配）。",
                     "You no longer hold this approval task (it may have been transferred or reassigned)."),
    "approver_left": ("链接已失效", "Link no longer valid", "该审批人已离职，其审批链接已失效。",
                      "The approver has left the organisation: their action links no longer work."),
    "link_used": ("链接已使用", "Link already used", "该链接已使用过，每个链接只能使用一次。",
                  "This link has already been used; each link works once."),
    "already_decided": ("审批已处理", "Already decided", "该审批任务已通过其他方式处理，无需再次操作。",
                        "This approval task has already been decided by other means."),
    "invalid_action": ("操作无效", "Invalid action", "请选择“同意”或“驳回”。", "Choose approve or reject."),
    "comment_too_long": ("意见过长", "Comment too long", f"审批意见不能超过 {MAX_COMMENT} 个字符。",
                         f"The comment must have at most {MAX_COMMENT} characters."),
    "service_unavailable": ("服务暂不可用", "Service unavailable", "服务暂不可用，请稍后重试。",
                            "The service is temporarily unavailable; retry later."),
    "internal": ("出错了", "Something went wrong", "处理时出错，请稍后重试或登录系统处理。",
                 "Something went wrong; retry later or use your to-do list."),
    "link_not_yours": ("无权使用此链接", "Not your link",
                       "当前登录的用户不是此审批的审批人，无法使用此链接。请用审批人本人的账号登录，或在自己的待办中处理。",
                       "The signed-in user is not an approver of this request: sign in as the approver, "
                       "or use your own to-do list."),
    "csrf_failed": ("请求无法验证", "Request not verified", "页面已过期或请求并非来自本页面，请重新打开链接后再操作。",
                    "The page expired or the request did not come from it; open the link again."),
}


@dataclass
class PageError(Exception):
    status: int
    code: str
    detail: str = ""  # a message from the workflow (e.g. why a decision was refused)


def _headers(clients_or_base: str) -> dict[str, str]:
    return pages.security_headers(clients_or_base)


def error_page(err: PageError, base: str, *, head: bool = False) -> Response:
    zh_h, en_h, zh, en = _TEXTS.get(err.code, _TEXTS["internal"])
    if err.detail:
        zh = en = err.detail
    body = "" if head else pages.render(
        "error", title=zh_h, heading=zh_h, heading_en=en_h, message=zh, message_en=en if en != zh else "",
        code=err.code, status=err.status,
    )
    return HTMLResponse(body, status_code=err.status, headers=_headers(base))


def from_domain(err: DomainError) -> PageError:
    status = status_of(err)
    if isinstance(err, Forbidden) and err.code in ("link_invalid", "link_expired", "approver_left"):
        return PageError(403, err.code)
    if isinstance(err, Forbidden):
        return PageError(403, "not_assignee" if err.code in ("not_approver", "not_assignee") else "link_invalid")
    if isinstance(err, NotFound):
        return PageError(403, "link_invalid")
    if isinstance(err, Gone):
        return PageError(410, "link_used")
    if isinstance(err, Conflict):
        return PageError(409, "already_decided")
    if isinstance(err, ServiceUnavailable):
        return PageError(503, "service_unavailable")
    if isinstance(err, ValidationFailed):
        return PageError(422, "invalid_action", detail=err.zh)
    if isinstance(err, UpstreamFailed):
        return PageError(502, "internal")
    return PageError(status if status >= 400 else 500, "internal")


@dataclass
class Resolved:
    link: notify_pb2.ActionLink
    task: approval_pb2.ApprovalTask


async def _resolve(clients: EdgeClients, token: str, request: Request) -> Resolved:
    """Verify the token (notify), that no other user is signed in, and that the link may be used
    now (approval)."""
    if not token or len(token) > 1000:
        raise PageError(403, "link_invalid")
    try:
        link = (await clients.notify.ResolveActionLink(notify_pb2.ResolveActionLinkRequest(token=token))).link
    except DomainError as err:
        raise from_domain(err) from None
    if not link.id or not link.task_id or not link.approver_id:
        raise PageError(403, "link_invalid")
    structlog.contextvars.bind_contextvars(link_id=link.id, task_id=link.task_id)
    await _not_someone_else(clients, link, request)
    state, task = await _check(clients, link)
    if state != "usable":
        status, code = _STATE_ERRORS.get(state, (403, "link_invalid"))
        raise PageError(status, code)
    if link.project_id and task.project_id and link.project_id != task.project_id:
        raise PageError(403, "link_invalid")
    return Resolved(link=link, task=task)


async def _not_someone_else(clients: EdgeClients, link: notify_pb2.ActionLink, request: Request) -> None:
    """403 link_not_yours when the browser is signed in as a user other than the link's approver."""
    try:
        current = await link_identity.signed_in(request, clients)
    except RedisError:
        current = None  # sessions unreadable: the token alone decides, as the contract says
    if current is None or current.user.id == link.approver_id:
        return
    await link_identity.refused(request, clients, who=current.user.id, reason="link_not_yours", kind="personal",
                                link_id=link.id, task_id=link.task_id)
    raise PageError(403, "link_not_yours")


async def _check(clients: EdgeClients, link: notify_pb2.ActionLink) -> tuple[str, approval_pb2.ApprovalTask]:
    try:
        resp = await clients.approval.CheckActionLink(
            approval_pb2.CheckActionLinkRequest(link_id=link.id, task_id=link.task_id, approver_id=link.approver_id)
        )
    except DomainError as err:
        raise from_domain(err) from None
    return resp.state, resp.task


async def _approver(clients: EdgeClients, user_id: str) -> Principal:
    try:
        user = (await clients.registry.GetUser(registry_pb2.GetUserRequest(user_id=user_id))).user
    except NotFound:
        return Principal(id=user_id)
    roles = tuple(user.roles)
    return Principal(id=user.id or user_id, is_admin="admin" in roles, roles=roles, name=user.name,
                     department_id=user.department_id)


def _plain(value: Any) -> str:
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list):
        return "、".join(_plain(v) for v in value)
    if isinstance(value, dict):
        return "，".join(f"{k}: {_plain(v)}" for k, v in value.items())
    return "" if value is None else str(value)


def step_label(task: approval_pb2.ApprovalTask) -> str:
    """The task's step as the page names it (an acceptance request's step says 验收, a change's 变更)."""
    if task.purpose == ACCEPTANCE_PURPOSE:
        return f"验收 · {task.step_name}"
    if task.purpose == CHANGE_PURPOSE:
        return f"变更 · {task.step_name}"
    return task.step_name


async def summary(
    clients: EdgeClients, viewer_id: str, project_id: str, *, task: approval_pb2.ApprovalTask | None = None
) -> dict[str, Any]:
    """What the confirmation page shows: the project read AS the approver ``viewer_id`` (fields
    with read_roles they lack are absent, exactly as in the API), its form labels and the steps
    of the task's chain (the registration's, the acceptance request's or the change's); for a
    change request's task (变更), the change's reason and its before/after diff without the paths
    the approver may not read."""
    approver = await _approver(clients, viewer_id)
    viewer = await viewer_of(clients, approver)
    try:
        project = (
            await clients.registry.GetProject(registry_pb2.GetProjectRequest(project_id=project_id, viewer=viewer))
        ).project
    except NotFound:
        raise PageError(403, "not_assignee") from None
    labels: dict[str, str] = {}
    with contextlib.suppress(DomainError):
        form = (
            await clients.registry.GetForm(
                registry_pb2.GetFormRequest(key=project.form_key, version=project.form_version)
            )
        ).form
        labels = {f.key: f.label or f.key for f in form.fields}
    values = mapping.struct_to_dict(project.fields)
    fields = [{"label": labels.get(k, k), "value": _plain(v)} for k, v in values.items() if v not in (None, "", [])]
    owner = project.owner_id
    with contextlib.suppress(DomainError):
        o = (await clients.registry.GetUser(registry_pb2.GetUserRequest(user_id=project.owner_id))).user
        owner = f"{o.name}（{o.id}）" if o.name else o.id
    steps: list[dict[str, Any]] = []
    change: dict[str, Any] | None = None
    if task is not None and task.purpose == ACCEPTANCE_PURPOSE:
        instance = await acceptance_instance(clients, project_id, task.subject_id)
    elif task is not None and task.purpose == CHANGE_PURPOSE and task.subject_id:
        found = await get_change_of(clients, task.subject_id, viewer)

        def label(path: str) -> str:
            core = {"amount": "金额", "start_date": "开始日期", "end_date": "结束日期"}
            return core.get(path) or labels.get(path.removeprefix("fields."), path.removeprefix("fields."))

        change = {"reason": found.reason, "diff": [
            {"label": label(d["field"]), "before": _plain(d["before"]), "after": _plain(d["after"])}
            for d in diff_out(found, set(project.hidden))]}
        instance = await change_instance(clients, project_id, found.id)
    else:
        instance = await approval_instance(clients, project_id)
    for s in mapping.approval_out(instance).get("steps", []) if instance is not None else []:
        decisions = [
            f"{d.get('user_id')} {pages.ACTION_ZH.get(str(d.get('action')), d.get('action'))}"
            + (f"：{d['comment']}" if d.get("comment") else "")
            for d in s.get("decisions", [])
        ]
        steps.append({"name": s.get("name"), "status": pages.STEP_STATUS_ZH.get(s.get("status"), s.get("status")),
                      "decisions": decisions})
    customer = project.customer.name + (f"（{project.customer.uscc}）" if project.customer.uscc else "")
    return {
        "project": {
            "code": project.code, "name": project.name, "customer": customer, "amount": project.amount,
            "region": project.region, "business_line": project.business_line, "owner": owner,
            "status": pages.status_text(mapping.status_name(project.status)),
        },
        "fields": fields,
        "steps": steps,
        "change": change,
        "approver": approver.name or approver.id,
    }


def _action_url(clients: EdgeClients, token: str) -> str:
    return f"{clients.settings.public_base_url()}/a/{token}"


@router.head("/a/{token}", response_class=HTMLResponse, include_in_schema=False)
async def head_link(token: str, request: Request, clients: Clients) -> Response:
    """Link scanners probe with HEAD: same checks, no body, nothing decided."""
    return await show_link(token, request, clients)


@router.get(
    "/a/{token}", response_class=HTMLResponse, include_in_schema=True,
    summary="Action link confirmation page",
    responses={403: {"description": "Tampered, expired, or not the assignee"}, 409: {"description": "Decided"},
               410: {"description": "Already used"}},
)
async def show_link(token: str, request: Request, clients: Clients) -> Response:
    """The project summary (as the approver may see it) and an approve / reject form that POSTs
    back. A GET (or HEAD) never decides anything."""
    base = clients.settings.public_base_url()
    head = request.method == "HEAD"
    try:
        resolved = await _resolve(clients, token, request)
        bind_project(request, resolved.task.project_id)
        if head:
            return HTMLResponse("", headers=_headers(base))
        shown = await summary(clients, resolved.link.approver_id, resolved.task.project_id or resolved.link.project_id,
                              task=resolved.task)
        html = pages.render(
            "confirm", title="审批确认", action_url=_action_url(clients, token), step=step_label(resolved.task),
            due_at=mapping.ts(resolved.task.due_at) or "", expires_at=mapping.ts(resolved.link.expires_at) or "",
            **shown,
        )
        return HTMLResponse(html, headers=_headers(base))
    except PageError as err:
        log.info("action_link.refused", status=err.status, code=err.code, method=request.method)
        return error_page(err, base, head=head)
    except DomainError as err:
        return error_page(from_domain(err), base, head=head)
    except Exception as err:  # never the JSON error shape (nor the token) on this page
        log.exception("action_link.failed", error=type(err).__name__)
        return error_page(PageError(500, "internal"), base, head=head)


@router.post(
    "/a/{token}", response_class=HTMLResponse, summary="Decide through an action link",
    responses={403: {"description": "Tampered, expired, or not the assignee"}, 409: {"description": "Decided"},
               410: {"description": "Already used"}, 422: {"description": "action is not approve or reject"}},
)
async def use_link(token: str, request: Request, clients: Clients) -> Response:
    """Form fields `action` (approve | reject) and `comment`. Answers 200 once the decision has
    taken effect in the project's workflow."""
    base = clients.settings.public_base_url()
    try:
        resolved = await _resolve(clients, token, request)
        bind_project(request, resolved.task.project_id)
        action, comment = await read_form(request)
        status = await decide_once(
            clients, resolved.task,
            DecisionInput(task_id=resolved.task.id, user_id=resolved.link.approver_id, action=action,
                          comment=comment, channel="link", link_id=resolved.link.id),
            recheck=lambda: _state_error(clients, resolved.link),
        )
        log.info("action_link.decided", action=action, status=status)
        return await result_page(clients, resolved.task.project_id, action, status)
    except PageError as err:
        log.info("action_link.refused", status=err.status, code=err.code, method="POST")
        return error_page(err, base)
    except DomainError as err:
        return error_page(from_domain(err), base)
    except Exception as err:
        log.exception("action_link.failed", error=type(err).__name__)
        return error_page(PageError(500, "internal"), base)


async def read_form(request: Request) -> tuple[str, str]:
    try:
        form = await request.form()
    except Exception:  # not a form body (JSON, garbage): no valid action
        raise PageError(422, "invalid_action") from None
    action = str(form.get("action") or "").strip()
    comment = str(form.get("comment") or "").strip()
    if action not in ACTIONS:
        raise PageError(422, "invalid_action")
    if len(comment) > MAX_COMMENT:
        raise PageError(422, "comment_too_long")
    return action, comment


async def decide_once(
    clients: EdgeClients, task: approval_pb2.ApprovalTask, decision: DecisionInput,
    recheck: Callable[[], Awaitable[PageError | None]],
) -> str:
    """Run the decision through the project's workflow (one in flight per task, like the API);
    a refusal after the page's checks (used, decided or handed on meanwhile) says which."""
    lock = f"baobei:edge:decide:{task.id}"
    try:
        if not await clients.redis.set(lock, decision.user_id, nx=True, ex=DECISION_LOCK_SECONDS):
            raise PageError(409, "already_decided")
    except RedisError:
        lock = ""  # without Redis the workflow and the approval service still refuse a second use
    try:
        result = await lifecycle.decide(clients, task.project_id, decision, purpose=task.purpose,
                                          subject_id=task.subject_id)
    except DomainError as err:
        raise (await recheck() or from_domain(err)) from None
    finally:
        if lock:
            with contextlib.suppress(RedisError):
                await clients.redis.delete(lock)
    return result.status


async def _state_error(clients: EdgeClients, link: notify_pb2.ActionLink) -> PageError | None:
    state, _ = await _check(clients, link)
    if state in _STATE_ERRORS:
        status, code = _STATE_ERRORS[state]
        return PageError(status, code)
    return None


async def result_page(clients: EdgeClients, project_id: str, action: str, status: str) -> Response:
    project = await project_brief(clients, project_id)
    heading = ("已同意", "Approved") if action == "approve" else ("已驳回", "Rejected")
    html = pages.render(
        "result", title=heading[0], heading=heading[0], heading_en=heading[1],
        code=project.code, name=project.name, status=pages.status_text(status),
    )
    return HTMLResponse(html, headers=_headers(clients.settings.public_base_url()))


async def project_brief(clients: EdgeClients, project_id: str) -> registry_pb2.Project:
    try:
        got: registry_pb2.GetProjectResponse = await clients.registry.GetProject(
            registry_pb2.GetProjectRequest(project_id=project_id))
        return got.project
    except DomainError:
        return registry_pb2.Project(id=project_id)
