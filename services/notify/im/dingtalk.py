"""DingTalk (钉钉) enterprise internal app: 工作通知 (work notices) and 待办 (to-dos) for one person.

APIs (sources: open.dingtalk.com "发送工作通知" asynchronous-sending-of-enterprise-session-messages,
"更新工作通知状态栏", "消息类型与数据格式", "全局错误码", "调用频率限制" call-frequency-limit, the
待办 pages "创建待办 / 更新待办 / 删除待办 / 查询企业下用户待办列表"):

* App token: ``GET oapi/gettoken?appkey&appsecret`` → {access_token, expires_in 7200}, the same
  call and the same Redis entry as the edge's DingTalk sign-in (``cache_key("dingtalk", api_base,
  app_key, app_secret)``), so sign-ins and notices share one token. The internal app's token works
  for both hosts: ``oapi.dingtalk.com`` takes it as ``?access_token=``, ``api.dingtalk.com/v1.0``
  as header ``x-acs-dingtalk-access-token``.
* Work notice: ``POST oapi/topapi/message/corpconversation/asyncsend_v2`` {agent_id (number),
  userid_list "a,b", msg} → {errcode 0, task_id}. An **OA message** (``msgtype: oa``: message_url /
  pc_message_url, head, body.title / form / content, ``status_bar``) because its status bar is the
  one part of a sent notice DingTalk lets us change: ``topapi/message/corpconversation/status_bar/
  update`` {agent_id, task_id, status_value, status_bg}. ``Sent.message_ref`` is that task_id.
  DingTalk delivers identical content to one user at
  most once a day and ``msg`` holds at most 2048 bytes: each notice carries a short reference of
  its delivery (identical on a retry, so a retried send is dropped by DingTalk rather than shown
  twice), and the content is cut to fit. A notice without any URL is plain ``markdown`` (nothing
  to update later: ``message_ref`` "").
* 互动卡片 (interactive card with a button), when the channel names a card template
  (``options.card_template_id``, built once in DingTalk's card designer; ``options.robot_code``
  defaults to the AppKey): ``POST api/v1.0/card/instances/createAndDeliver`` {cardTemplateId,
  outTrackId, cardData.cardParamMap, openSpaceId ``dtv1.card//IM_ROBOT.<userid>``,
  imRobotOpenDeliverModel {spaceType IM_ROBOT, robotCode}} into the person's chat with the app's
  robot; updated in place by ``PUT api/v1.0/card/instances`` {outTrackId, cardData,
  cardUpdateOptions.updateCardDataByKey} (status, status_color, closed "true" — the template hides
  the button). ``Sent.message_ref`` is ``card:<outTrackId>``. Without a template the OA notice is
  used: it needs nothing but the app, and a tap opens the task page, which has the buttons.
* 待办: ``POST api/v1.0/todo/users/{unionId}/tasks?operatorId={unionId}`` {subject, description,
  executorIds, detailUrl {appUrl, pcUrl}, dueTime ms, sourceId} → {id}; completed by ``PUT
  …/tasks/{id}?operatorId=`` {done: true}, removed by ``DELETE …/tasks/{id}?operatorId=``. The
  sourceId is the delivery id (the idempotency key; the Baobei task id when none): DingTalk
  refuses a second to-do with one sourceId ("task exist"), so a retried create finds the first
  one — in our Redis record of it, else through ``POST …/org/tasks/query`` {isDone: false}.
  These APIs address people by unionId: ``topapi/v2/user/get`` {userid} → result.unionid, cached
  in Redis for 30 days (it also tells an unknown userid before anything is sent: DingTalk's
  asyncsend would accept it and drop the notice silently).

Outcomes (``DeliveryFailed``; ``TokenRejected`` → refreshed once by ``with_app_token_sync``):
* oapi answers HTTP 200 with ``errcode``: 0 ok; 40014 / 42001 / 40001, or 88 with sub_code 40014
  / 42001 (88 is "鉴权异常": with another sub_code, e.g. 60011 "没有调用该接口的权限", it is a
  missing permission, permanent) → token; -1 系统繁忙 → retryable; 90002 (platform-wide limit of
  the API), 90018 (this app's per-API QPS), 90019 → retryable after ``QPS_RETRY_AFTER``; 90020
  (the organisation's monthly API quota) → permanent until the admin buys more; the per-IP limit
  answers ``{"status": 1111, "wait": 5, "punish": "deny"}`` (minutes) → retryable after that wait;
  60121 unknown user, 33012 bad userid, 40035 bad parameters and every other errcode → permanent.
* v1.0 answers an HTTP status with {code, message}: 2xx ok; 401 / ``InvalidAuthentication`` →
  token; 429, 403 ``Forbidden.AccessDenied.QpsLimit…``, 400 ``…flowControlError`` (to-dos limited
  per executor / organisation) → retryable; 403 ``…ApiCountLimitForOrg`` (monthly quota),
  ``…AccessTokenPermissionDenied`` (待办写权限 not granted), other 4xx → permanent; 5xx →
  retryable. Completing or deleting a to-do that no longer exists ("task not exist") is done.
* Transport errors and timeouts → retryable; a non-JSON answer → retryable."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
import redis
import structlog

from baobei.core.app_tokens import SyncAppTokens, TokenRejected, cache_key, with_app_token_sync
from services.notify.channels.base import DeliveryFailed, make_client
from services.notify.channels.wecom import plain_text
from services.notify.im.base import Card, CardState, ImApp, Sent, Todo

log = structlog.get_logger(__name__)
T = TypeVar("T")

OAPI = "https://oapi.dingtalk.com"
API = "https://api.dingtalk.com"
ASYNCSEND = "/topapi/message/corpconversation/asyncsend_v2"
STATUS_BAR = "/topapi/message/corpconversation/status_bar/update"
USER_GET = "/topapi/v2/user/get"
# 互动卡片 (interactive cards, v1.0 card API): created and delivered into the person's chat with the
# app's robot, updated in place by outTrackId.
CARD_DELIVER = "/v1.0/card/instances/createAndDeliver"
CARD_UPDATE = "/v1.0/card/instances"
CARD_REF = "card:"
# The variables a card template is given (and its update changes): see docs/integrations.md.
CARD_OPEN, CARD_CLOSED = "false", "true"

TOKEN_ERRCODES = frozenset({40001, 40014, 42001})
TOKEN_SUBCODES = frozenset({"40001", "40014", "42001"})
ERR_AUTH = 88
ERR_BUSY = -1
QPS_ERRCODES = frozenset({90002, 90018, 90019})
ERR_MONTHLY_QUOTA = 90020
ERR_NOT_MEMBER = 60121
# QPS limits count per second; a short wait clears them.
QPS_RETRY_AFTER = 2.0
# The per-IP limit bans for ``wait`` minutes (5 when it does not say).
IP_BAN_MINUTES = 5
MSG_MAX_BYTES = 2048
STATUS_MAX_CHARS = 20
UNIONID_TTL = 30 * 86400
REF_TTL = 3 * 86400
_PREFIX = "baobei:im:dingtalk:"

# OA colours (ARGB): the head band and the status bar by outcome.
HEAD_BG = "FF0089FF"
BG_OPEN = "0xFF0089FF"
BG_APPROVED = "0xFF00B042"
BG_REJECTED = "0xFFF54A45"
BG_CLOSED = "0xFF8F959E"


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _digest(*parts: str, n: int = 16) -> str:
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:n]


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def pc_link(url: str) -> str:
    """Open ``url`` inside the DingTalk PC client (side panel), where the JSAPI the in-app
    sign-in page needs exists; a plain URL would open the system browser."""
    return f"dingtalk://dingtalkclient/page/link?url={quote(url, safe='')}&pc_slide=true"


def status_bg(state: CardState) -> str:
    if not state.closed:
        return BG_OPEN
    # Refusals first: "不同意" holds "同意".
    if any(word in state.status for word in ("驳回", "拒绝", "不同意", "退回")):
        return BG_REJECTED
    if "同意" in state.status or "通过" in state.status:
        return BG_APPROVED
    return BG_CLOSED


def notice_ref(card: Card, idempotency_key: str) -> str:
    """The visible reference that makes each delivery's content unique (DingTalk shows identical
    content to one person once a day) and stays the same on a retry of that delivery."""
    short = _digest(idempotency_key or card.title + card.markdown, n=6)
    return f"{card.task_id} · {short}" if card.task_id else short


def _fits(msg: dict[str, Any]) -> bool:
    return len(json.dumps(msg, ensure_ascii=False, separators=(",", ":")).encode()) <= MSG_MAX_BYTES


def message_of(card: Card, idempotency_key: str, head: str = "报备通知") -> dict[str, Any]:
    """The ``msg`` of asyncsend_v2 for ``card`` (at most 2048 bytes: the content is cut to fit)."""
    url = card.url or (card.buttons[0].url if card.buttons else "")
    ref = notice_ref(card, idempotency_key)
    content = plain_text(card.markdown)
    if not url:
        msg: dict[str, Any] = {"msgtype": "markdown", "markdown": {"title": card.title, "text": ""}}
        markdown = card.markdown
        while True:
            msg["markdown"]["text"] = f"{markdown}\n\n编号：{ref}"
            if _fits(msg) or not markdown:
                return msg
            markdown = markdown[: max(0, len(markdown) - 64)]
    body: dict[str, Any] = {"title": _cut(card.title, 60), "form": [{"key": "编号：", "value": ref}],
                            "content": content}
    oa: dict[str, Any] = {"message_url": url, "pc_message_url": pc_link(url),
                          "head": {"bgcolor": HEAD_BG, "text": head}, "body": body}
    if card.task_id:
        oa["status_bar"] = {"status_value": "待处理", "status_bg": BG_OPEN}
    msg = {"msgtype": "oa", "oa": oa}
    while not _fits(msg) and body["content"]:
        body["content"] = body["content"][: max(0, len(body["content"]) - 64)].rstrip() + "…"
        if body["content"] == "…":
            body["content"] = ""
    return msg


# ---------------------------------------------------------------- answers


def _retry_after_header(resp: httpx.Response) -> float | None:
    try:
        return max(0.0, float(resp.headers.get("retry-after", "")))
    except ValueError:
        return None


def check_oapi(resp: httpx.Response, body: dict[str, Any] | None, what: str) -> dict[str, Any]:
    """An ``oapi`` answer: the body when errcode is 0; else ``TokenRejected`` / ``DeliveryFailed``."""
    if resp.status_code == 429 or resp.status_code >= 500:
        raise DeliveryFailed(f"dingtalk {what}: HTTP {resp.status_code}", retryable=True,
                             retry_after=_retry_after_header(resp))
    if body is None:
        raise DeliveryFailed(f"dingtalk {what}: answer is not JSON (HTTP {resp.status_code})", retryable=True)
    if body.get("punish") == "deny" or body.get("status") == 1111:
        wait = body.get("wait")
        minutes = wait if isinstance(wait, int) and wait > 0 else IP_BAN_MINUTES
        raise DeliveryFailed(f"dingtalk {what}: this server's IP is throttled", retryable=True,
                             retry_after=60.0 * minutes)
    try:
        errcode = int(body.get("errcode", -1))
    except (TypeError, ValueError):
        errcode = -1
    if errcode == 0:
        return body
    sub = str(body.get("sub_code") or "")
    if errcode in TOKEN_ERRCODES or (errcode == ERR_AUTH and (sub in TOKEN_SUBCODES or not sub)):
        raise TokenRejected()
    text = f"dingtalk {what}: errcode {errcode} {body.get('sub_msg') or body.get('errmsg') or ''}".strip()
    if errcode in QPS_ERRCODES:
        raise DeliveryFailed(text, retryable=True, retry_after=QPS_RETRY_AFTER)
    if errcode == ERR_BUSY:
        raise DeliveryFailed(text, retryable=True)
    if errcode == ERR_MONTHLY_QUOTA:
        raise DeliveryFailed(text + " (the organisation's monthly API quota is used up)", retryable=False)
    raise DeliveryFailed(text, retryable=False)


def check_v1(resp: httpx.Response, body: dict[str, Any] | None, what: str) -> dict[str, Any]:
    """An ``api.dingtalk.com/v1.0`` answer: the body on 2xx; else ``TokenRejected`` /
    ``DeliveryFailed``."""
    status = resp.status_code
    if 200 <= status < 300:
        return body or {}
    code = str((body or {}).get("code") or "")
    message = str((body or {}).get("message") or "")
    if status == 401 or code == "InvalidAuthentication":
        raise TokenRejected()
    text = f"dingtalk {what}: HTTP {status} {code} {message}".strip()
    throttled = (status == 429 or code.startswith("Forbidden.AccessDenied.QpsLimit") or "flowControl" in code
                 or code.startswith("Throttling"))
    if throttled:
        raise DeliveryFailed(text, retryable=True, retry_after=_retry_after_header(resp) or QPS_RETRY_AFTER)
    if status >= 500:
        raise DeliveryFailed(text, retryable=True, retry_after=_retry_after_header(resp))
    raise DeliveryFailed(text, retryable=False)


def _gone(err: DeliveryFailed) -> bool:
    """A to-do update / delete refused because the to-do no longer exists."""
    return not err.retryable and "task not exist" in err.message


# ---------------------------------------------------------------- the client


class DingTalkApp:
    """The ``ImClient`` of one DingTalk internal app. ``app.api_base`` replaces both API hosts (a
    stand-in serving both); ``app.options`` ``oapi_base`` / ``openapi_base`` replace one each."""

    def __init__(self, app: ImApp, redis_client: redis.Redis, timeout: float) -> None:
        self.app = app
        self.redis = redis_client
        self.oapi = (app.options.get("oapi_base") or app.api_base or OAPI).rstrip("/")
        self.api = (app.options.get("openapi_base") or app.api_base or API).rstrip("/")
        self.head = app.options.get("head_text") or "报备通知"
        # With a card template (designed on DingTalk's card platform): interactive cards with
        # buttons, delivered by the app's robot; without: OA work notices with a status bar.
        self.template = (app.options.get("card_template_id") or "").strip()
        self.robot = (app.options.get("robot_code") or app.app_key).strip()
        self.http = make_client(timeout)
        # The edge's key: the same token for sign-in and notices.
        self.tokens = SyncAppTokens(redis_client, cache_key("dingtalk", app.api_base, app.app_key, app.app_secret),
                                    self._fetch_token)
        self._scope = _digest(self.oapi, app.app_key)

    def __repr__(self) -> str:
        return f"DingTalkApp({self.app.key!r})"

    def close(self) -> None:
        self.http.close()

    # ---- ImClient ----
    def send_card(self, user: str, card: Card, *, idempotency_key: str) -> Sent:
        remembered = self._recall("sent", idempotency_key)
        if remembered is not None:
            return Sent(message_ref=remembered)  # sent by an earlier attempt of this delivery
        self.union_id(user)  # an unknown userid fails here, permanently
        if self.template:
            return self._send_interactive(user, card, idempotency_key)
        msg = message_of(card, idempotency_key, self.head)
        body = self._oapi(ASYNCSEND, {"agent_id": self._agent_id(), "userid_list": user, "msg": msg}, "asyncsend_v2")
        ref = str(body.get("task_id") or "") if msg["msgtype"] == "oa" else ""
        self._remember("sent", idempotency_key, ref)
        log.info("im.dingtalk.notice_sent", app=self.app.key, user=user, task_id=body.get("task_id"))
        return Sent(message_ref=ref)

    def update_card(self, user: str, sent: Sent, card: Card, state: CardState) -> None:
        if not sent.message_ref:
            return  # a markdown notice: nothing DingTalk can change
        if sent.message_ref.startswith(CARD_REF):
            track = sent.message_ref[len(CARD_REF):]
            params = {"status": _cut(state.status, 40), "status_color": status_bg(state),
                      "closed": CARD_CLOSED if state.closed else CARD_OPEN}
            self._v1("PUT", CARD_UPDATE, "card update", params={}, json_body={
                "outTrackId": track, "cardData": {"cardParamMap": params},
                "cardUpdateOptions": {"updateCardDataByKey": True}})
            return
        try:
            task_id = int(sent.message_ref)
        except ValueError:
            raise DeliveryFailed(f"dingtalk status_bar: bad message_ref {sent.message_ref!r}",
                                 retryable=False) from None
        self._oapi(STATUS_BAR, {"agent_id": self._agent_id(), "task_id": task_id,
                                "status_value": _cut(state.status, STATUS_MAX_CHARS), "status_bg": status_bg(state)},
                   "status_bar/update")

    def create_todo(self, user: str, todo: Todo, *, idempotency_key: str) -> str:
        source = idempotency_key or todo.task_id
        remembered = self._recall("todo", source)
        if remembered:
            return remembered
        union = self.union_id(user)
        payload: dict[str, Any] = {
            "sourceId": source, "subject": _cut(todo.title, 200), "description": _cut(todo.description, 1000),
            "executorIds": [union], "detailUrl": {"appUrl": todo.url, "pcUrl": todo.url},
            "isOnlyShowExecutor": True,
        }
        if todo.due_ms > 0:
            payload["dueTime"] = todo.due_ms
        path = f"/v1.0/todo/users/{quote(union, safe='')}/tasks"
        try:
            body = self._v1("POST", path, "todo create", params={"operatorId": union}, json_body=payload)
            ref = str(body.get("id") or "")
        except DeliveryFailed as err:
            if err.retryable or "task exist" not in err.message:
                raise
            ref = self._find_todo(union, source)  # created by an earlier attempt whose answer was lost
        if not ref:
            raise DeliveryFailed("dingtalk todo create: no id in the answer", retryable=True)
        self._remember("todo", source, ref)
        log.info("im.dingtalk.todo_created", app=self.app.key, user=user, todo=ref)
        return ref

    def finish_todo(self, user: str, todo_ref: str, *, removed: bool) -> None:
        if not todo_ref:
            return
        union = self.union_id(user)
        path = f"/v1.0/todo/users/{quote(union, safe='')}/tasks/{quote(todo_ref, safe='')}"
        try:
            if removed:
                self._v1("DELETE", path, "todo delete", params={"operatorId": union})
            else:
                self._v1("PUT", path, "todo update", params={"operatorId": union}, json_body={"done": True})
        except DeliveryFailed as err:
            if not _gone(err):
                raise
            log.info("im.dingtalk.todo_gone", app=self.app.key, user=user, todo=todo_ref)

    def _send_interactive(self, user: str, card: Card, idempotency_key: str) -> Sent:
        """A 互动卡片 in the person's chat with the app's robot. The template gets ``title``,
        ``markdown``, ``url`` (what a tap and the button open), ``button`` (its label), ``status``,
        ``status_color`` and ``closed`` ("false"; the update sets it "true", which the template
        uses to hide the button). outTrackId = the delivery: a retried attempt is refused as a
        duplicate and then taken as sent."""
        track = "bb-" + _digest(idempotency_key or card.task_id or card.title, n=32)
        label = card.buttons[0].label if card.buttons else "查看详情"
        url = pc_link(card.url) if card.url else ""
        params = {"title": _cut(card.title, 100), "markdown": card.markdown, "url": url, "button": label,
                  "status": "待处理", "status_color": BG_OPEN, "closed": CARD_OPEN}
        payload = {
            "cardTemplateId": self.template, "outTrackId": track, "userIdType": 1,
            "cardData": {"cardParamMap": params},
            "openSpaceId": f"dtv1.card//IM_ROBOT.{user}",
            "imRobotOpenSpaceModel": {"supportForward": False,
                                      "lastMessageI18n": {"ZH_CN": _cut(card.title, 50)}},
            "imRobotOpenDeliverModel": {"spaceType": "IM_ROBOT", "robotCode": self.robot},
        }
        try:
            body = self._v1("POST", CARD_DELIVER, "card createAndDeliver", params={}, json_body=payload)
        except DeliveryFailed as err:
            if err.retryable or "outTrackId" not in err.message:
                raise
            body = {"success": True}  # created by an earlier attempt whose answer was lost
        delivered = [r for r in ((body.get("result") or {}).get("deliverResults") or []) if isinstance(r, dict)]
        failed = [r for r in delivered if r.get("success") is False]
        if failed:
            raise DeliveryFailed(f"dingtalk card createAndDeliver: {failed[0].get('errorMsg') or 'not delivered'}",
                                 retryable=False)
        ref = CARD_REF + track
        self._remember("sent", idempotency_key, ref)
        log.info("im.dingtalk.card_sent", app=self.app.key, user=user, out_track_id=track)
        return Sent(message_ref=ref)

    # ---- people ----
    def union_id(self, user: str) -> str:
        """The person's unionId (the v1.0 APIs' id), cached; an unknown userid → permanent."""
        key = f"{_PREFIX}unionid:{self._scope}:{user}"
        cached = self.redis.get(key)
        if cached:
            return _text(cached)
        try:
            body = self._oapi(USER_GET, {"userid": user, "language": "zh_CN"}, "user/get")
        except DeliveryFailed as err:
            if f"errcode {ERR_NOT_MEMBER}" in err.message:
                raise DeliveryFailed(f"dingtalk: no user {user} in the organisation (errcode {ERR_NOT_MEMBER})",
                                     retryable=False) from None
            raise
        union = str((body.get("result") or {}).get("unionid") or "")
        if not union:
            raise DeliveryFailed(f"dingtalk user/get: no unionid for {user}", retryable=False)
        self.redis.set(key, union, ex=UNIONID_TTL)
        return union

    # ---- calls ----
    def _agent_id(self) -> int:
        try:
            return int(self.app.agent_id)
        except ValueError:
            raise DeliveryFailed(f"dingtalk app {self.app.key}: agent_id must be the app's AgentId (a number)",
                                 retryable=False) from None

    def _fetch_token(self) -> tuple[str, int]:
        resp, body = self._http("GET", self.oapi + "/gettoken", "gettoken",
                                params={"appkey": self.app.app_key, "appsecret": self.app.app_secret})
        try:
            body = check_oapi(resp, body, "gettoken")
        except TokenRejected:
            body = None
        except DeliveryFailed as err:
            if err.retryable:
                raise
            # 40089 and kin: the AppKey / AppSecret of the channel are wrong.
            raise DeliveryFailed(f"{err.message} (check the app credentials of channel {self.app.key})",
                                 retryable=False) from None
        if not body or not body.get("access_token"):
            raise DeliveryFailed(f"dingtalk gettoken: no token for channel {self.app.key}", retryable=True)
        return str(body["access_token"]), int(body.get("expires_in") or 7200)

    def _with_token(self, call: Callable[[str], T], what: str) -> T:
        try:
            return with_app_token_sync(self.tokens, call)
        except TokenRejected:
            raise DeliveryFailed(f"dingtalk {what}: a fresh app token was refused too", retryable=True) from None

    def _oapi(self, path: str, payload: dict[str, Any], what: str) -> dict[str, Any]:
        def call(token: str) -> dict[str, Any]:
            resp, body = self._http("POST", self.oapi + path, what, params={"access_token": token}, json_body=payload)
            return check_oapi(resp, body, what)

        return self._with_token(call, what)

    def _v1(self, method: str, path: str, what: str, *, params: Mapping[str, str],
            json_body: dict[str, Any] | None = None) -> dict[str, Any]:
        def call(token: str) -> dict[str, Any]:
            resp, body = self._http(method, self.api + path, what, params=params, json_body=json_body,
                                    headers={"x-acs-dingtalk-access-token": token})
            return check_v1(resp, body, what)

        return self._with_token(call, what)

    def _http(self, method: str, url: str, what: str, *, params: Mapping[str, str],
              json_body: dict[str, Any] | None = None,
              headers: Mapping[str, str] | None = None) -> tuple[httpx.Response, dict[str, Any] | None]:
        """One request; messages name the API only (URLs may carry the token or the secret)."""
        all_headers = dict(headers or {})
        content = None
        if json_body is not None:
            content = json.dumps(json_body, ensure_ascii=False, separators=(",", ":")).encode()
            all_headers["content-type"] = "application/json; charset=utf-8"
        try:
            resp = self.http.request(method, url, params=dict(params), content=content, headers=all_headers)
        except httpx.TimeoutException:
            raise DeliveryFailed(f"dingtalk {what}: timed out", retryable=True) from None
        except httpx.HTTPError as err:
            raise DeliveryFailed(f"dingtalk {what}: {type(err).__name__}", retryable=True) from None
        try:
            body = resp.json()
        except ValueError:
            return resp, None
        return resp, body if isinstance(body, dict) else None

    def _find_todo(self, union: str, source: str) -> str:
        """The open to-do with ``source`` among the person's (a few pages at most)."""
        path = f"/v1.0/todo/users/{quote(union, safe='')}/org/tasks/query"
        token: str | None = None
        for _ in range(10):
            payload: dict[str, Any] = {"isDone": False}
            if token:
                payload["nextToken"] = token
            body = self._v1("POST", path, "todo query", params={}, json_body=payload)
            for item in body.get("todoCards") or []:
                if isinstance(item, dict) and item.get("sourceId") == source:
                    return str(item.get("taskId") or "")
            token = body.get("nextToken") or None
            if not token:
                break
        raise DeliveryFailed(f"dingtalk todo create: a to-do with sourceId {source} exists but was not found",
                             retryable=False)

    # ---- what earlier attempts did ----
    def _recall(self, kind: str, key: str) -> str | None:
        if not key:
            return None
        value = self.redis.get(f"{_PREFIX}{kind}:{self._scope}:{key}")
        return None if value is None else _text(value)

    def _remember(self, kind: str, key: str, value: str) -> None:
        if key:
            self.redis.set(f"{_PREFIX}{kind}:{self._scope}:{key}", value, ex=REF_TTL)


def client(app: ImApp, redis_client: redis.Redis, timeout: float) -> DingTalkApp:
    return DingTalkApp(app, redis_client, timeout)
