"""DingTalk enterprise internal app stand-in: 工作通知 (work notices, their status bar) and 待办
(to-dos), on top of the sign-in stand-in (same apps, people, app tokens and clock: one loopback
server plays oapi.dingtalk.com and api.dingtalk.com, as the edge and the notify service see them).

Checked as DingTalk checks them:
* ``POST /topapi/message/corpconversation/asyncsend_v2?access_token=`` (JSON): the app token
  (40014 unknown, 88 / sub_code 42001 expired), ``agent_id`` a JSON number and the AgentId of the
  token's app (else 40035), ``userid_list`` a string of at most 100 comma-separated userids,
  ``msg`` an object of at most 2048 bytes: ``oa`` (message_url http(s) / dingtalk://, head
  {bgcolor 8 hex digits, text}, body {title?, form [{key, value}]?, content?}, status_bar?
  {status_value, status_bg}), ``markdown`` {title, text}, ``text`` {content}. Answers {errcode 0,
  task_id}. Like DingTalk, accepting is not delivering: a notice to an unknown userid, to someone
  outside the app's 可见范围 (``Person.can_use_app``), with the same content as one the person got
  within a day, or beyond 500 from the app to them that day, is recorded but not shown
  (``WorkNotice.shown`` False, ``dropped`` says why).
* ``POST /topapi/message/corpconversation/status_bar/update`` {agent_id, task_id (number),
  status_value, status_bg?}: the task must be an OA notice this agent sent (else 40035).
* ``/v1.0/todo/users/{unionId}/tasks`` (header ``x-acs-dingtalk-access-token`` a live app token,
  else 401 ``InvalidAuthentication``; ``operatorId`` query a member's unionId): POST {subject,
  description?, executorIds [unionId], detailUrl {appUrl, pcUrl}?, dueTime ms?, sourceId?} → {id,
  …}, a sourceId already used by the app → 400 ``todo.taskCreate.paramError`` "task exist"; PUT
  ``…/{taskId}`` {done?, subject?, …} → {result: true}; DELETE ``…/{taskId}`` → {result: true}; a
  to-do that does not exist (or was deleted) → 400 "task not exist", another app's → "task not
  belong to bizTag"; ``POST …/org/tasks/query`` {isDone, nextToken?} → {todoCards [{taskId,
  sourceId, subject, isDone, …}], nextToken}.
* Unknown people: 60121 (oapi) / 400 ``paramError`` "user not exist" (v1.0).

* 互动卡片: ``POST /v1.0/card/instances/createAndDeliver`` (header token as for to-dos) {cardTemplateId
  (a template of this app: ``add_card_template``), outTrackId (unique per app, else 400
  ``param.outTrackIdExist``), cardData.cardParamMap (string → string), openSpaceId
  ``dtv1.card//IM_ROBOT.<userid>`` of a member, imRobotOpenDeliverModel {spaceType IM_ROBOT,
  robotCode = the app's AppKey or a robot code added with ``add_robot``}} → {success, result
  {outTrackId, deliverResults [{spaceType, spaceId, success}]}}; ``PUT /v1.0/card/instances``
  {outTrackId of this app, cardData.cardParamMap, cardUpdateOptions} merges the params
  (``updateCardDataByKey``) or replaces them.

Test controls: ``add_app`` (each app gets an AgentId: ``agent_id(key)``), ``add_person``,
``expire_tokens``, ``advance``, ``fail_next``; ``refuse_user(userid, errcode)`` (every call about
that person fails permanently); ``api_rate_limit`` calls per ``api_rate_window`` seconds per app
and API (oapi errcode 90018, v1.0 403 ``Forbidden.AccessDenied.QpsLimitForAppkeyAndApi``).
Records: ``notices`` (``notices_for(userid)``), ``status_updates``, ``todos`` (``todos_for``)."""

from __future__ import annotations

import itertools
import json
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.standins._http import Refuse, Reply, Request
from tests.standins.dingtalk_login import DingTalkLoginStandIn

MSG_MAX_BYTES = 2048
DAY = 86400.0
PER_USER_DAILY = 500
_HEX8 = re.compile(r"^[0-9A-Fa-f]{8}$")


@dataclass
class WorkNotice:
    task_id: int
    agent_id: int
    userid: str
    msg: dict[str, Any]
    at: float
    shown: bool = True
    # Why DingTalk would not show it: "unknown_user" | "not_visible" (outside the app's 可见范围) |
    # "same_content" | "daily_limit".
    dropped: str = ""
    # Status bar values after each update: (status_value, status_bg).
    status_history: list[tuple[str, str]] = field(default_factory=list)

    @property
    def msgtype(self) -> str:
        return str(self.msg.get("msgtype"))

    @property
    def status(self) -> str:
        if self.status_history:
            return self.status_history[-1][0]
        return str(((self.msg.get("oa") or {}).get("status_bar") or {}).get("status_value", ""))

    @property
    def text(self) -> str:
        return json.dumps(self.msg, ensure_ascii=False)


@dataclass
class InteractiveCard:
    out_track_id: str
    app: str
    userid: str
    template: str
    robot: str
    params: dict[str, str]
    at: float
    updates: list[dict[str, str]] = field(default_factory=list)


@dataclass
class TodoItem:
    id: str
    app: str
    owner: str  # the unionId in the path
    source_id: str
    subject: str
    description: str
    executors: list[str]
    detail_url: dict[str, str]
    due_time: int | None
    created_at: float
    done: bool = False
    deleted: bool = False
    updates: int = 0


def _err(errcode: int, errmsg: str, **more: Any) -> Refuse:
    return Refuse(f"errcode:{errcode}", Reply(200, {"errcode": errcode, "errmsg": errmsg,
                                                    "request_id": secrets.token_hex(6), **more}))


def _bad(status: int, code: str, message: str) -> Refuse:
    return Refuse(code, Reply(status, {"requestid": secrets.token_hex(8), "code": code, "message": message}))


def _str(value: object, *, empty: bool = False) -> bool:
    return isinstance(value, str) and (empty or bool(value.strip()))


def _url(value: object) -> bool:
    return isinstance(value, str) and value.startswith(("http://", "https://", "dingtalk://"))


def _number(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class _Route:
    method: str
    template: str
    pattern: re.Pattern[str]
    handler: Callable[[Request, dict[str, str]], Reply]
    kind: str  # "oapi" | "v1"


class DingTalkAppStandIn(DingTalkLoginStandIn):
    def __init__(self, *, api_rate_limit: int | None = None, api_rate_window: float = 1.0,
                 redirect_hosts: tuple[str, ...] = ("edge.test",)) -> None:
        super().__init__(redirect_hosts=redirect_hosts)
        self.api_rate_limit = api_rate_limit
        self.api_rate_window = api_rate_window
        self.agents: dict[str, int] = {}
        self.notices: list[WorkNotice] = []
        self.status_updates: list[tuple[int, str, str]] = []  # (task_id, status_value, status_bg)
        self.todos: dict[str, TodoItem] = {}
        self.cards: dict[str, InteractiveCard] = {}
        self.card_templates: dict[str, str] = {}  # template id → app
        self.robots: dict[str, str] = {}  # robot code → app
        self.refused: dict[str, tuple[int, str]] = {}  # userid → (errcode, errmsg)
        self.throttled = 0
        self._api_calls: dict[tuple[str, str], list[float]] = {}
        self._task_ids = itertools.count(256271667000)
        self._app_routes: list[_Route] = []
        for method, template, handler, kind in (
            ("POST", "/topapi/message/corpconversation/asyncsend_v2", self.asyncsend, "oapi"),
            ("POST", "/topapi/message/corpconversation/status_bar/update", self.status_bar, "oapi"),
            ("POST", "/v1.0/todo/users/{unionId}/tasks", self.todo_create, "v1"),
            ("PUT", "/v1.0/todo/users/{unionId}/tasks/{taskId}", self.todo_update, "v1"),
            ("DELETE", "/v1.0/todo/users/{unionId}/tasks/{taskId}", self.todo_delete, "v1"),
            ("POST", "/v1.0/todo/users/{unionId}/org/tasks/query", self.todo_query, "v1"),
            ("POST", "/v1.0/card/instances/createAndDeliver", self.card_deliver, "v1"),
            ("PUT", "/v1.0/card/instances", self.card_update, "v1"),
        ):
            regex = "^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template)) + "$"
            self._app_routes.append(_Route(method, template, re.compile(regex), handler, kind))

    # ---- life cycle: DingTalk's v1.0 API also speaks PUT and DELETE ----
    def start(self) -> None:
        super().start()
        assert self._server is not None
        handler = self._server.RequestHandlerClass
        handler.do_PUT = handler.do_POST  # type: ignore[attr-defined]
        handler.do_DELETE = handler.do_POST  # type: ignore[attr-defined]

    # ---- test controls ----
    def add_app(self) -> tuple[str, str]:
        key, secret = super().add_app()
        with self._lock:
            self.agents[key] = 3_000_000_000 + len(self.agents) + 1
        return key, secret

    def add_card_template(self, app_key: str) -> str:
        """A card template built for the app in DingTalk's card designer: its id."""
        template = f"{secrets.token_hex(8)}.schema"
        with self._lock:
            self.card_templates[template] = app_key
        return template

    def cards_for(self, userid: str) -> list[InteractiveCard]:
        with self._lock:
            return [c for c in self.cards.values() if c.userid == userid]

    def agent_id(self, app_key: str) -> int:
        return self.agents[app_key]

    def refuse_user(self, userid: str, errcode: int = 33012, errmsg: str = "无效的USERID") -> None:
        with self._lock:
            self.refused[userid] = (errcode, errmsg)

    def notices_for(self, userid: str, *, shown_only: bool = True) -> list[WorkNotice]:
        with self._lock:
            return [n for n in self.notices if n.userid == userid and (n.shown or not shown_only)]

    def todos_for(self, unionid: str) -> list[TodoItem]:
        with self._lock:
            return [t for t in self.todos.values() if unionid in t.executors or t.owner == unionid]

    # ---- request handling ----
    def _match(self, request: Request) -> tuple[_Route, dict[str, str]] | None:
        for route in self._app_routes:
            if route.method == request.method:
                found = route.pattern.match(request.path)
                if found:
                    return route, found.groupdict()
        return None

    def _decide(self, request: Request) -> tuple[Reply, bool]:
        matched = self._match(request)
        if matched is None:
            return super()._decide(request)
        route, params = matched
        with self._lock:
            self.requests += 1
            self.calls.append((request.method, route.template))
            slow = False
            if self._failures:
                mode, errcode = self._failures.popleft()
                if mode == "timeout":
                    return Reply(500, {"error": "injected timeout"}), True
                if mode == "errcode":
                    return self.platform_error(errcode if errcode is not None else self.default_errcode,
                                               "injected"), False
                if mode != "slow":
                    return Reply(int(mode), {"error": "injected"}, {"retry-after": self.retry_after}), False
                slow = True  # done, but answered after the client gave up
            try:
                reply = route.handler(request, params)
            except Refuse as refused:
                return self._reject(request, refused.reason, refused.reply)
            return reply, slow

    def _throttle(self, app: str, route: str, kind: str, at: float) -> None:
        """At most ``api_rate_limit`` calls of one API per app in ``api_rate_window`` seconds."""
        if self.api_rate_limit is None:
            return
        recent = [t for t in self._api_calls.get((app, route), []) if at - t < self.api_rate_window]
        if len(recent) >= self.api_rate_limit:
            self._api_calls[(app, route)] = recent
            self.throttled += 1
            if kind == "oapi":
                raise _err(90018, "当前应用调用该接口的频率超过限制")
            raise _bad(403, "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi", "应用调用该接口的QPS超过限制")
        self._api_calls[(app, route)] = [*recent, at]

    def _oapi_app(self, r: Request, route: str) -> tuple[str, dict[str, Any]]:
        """(app key, JSON body) of a valid oapi call, throttled."""
        body = self._authorised(r)  # token checks, JSON body
        _, token = self.token_state(r.query.get("access_token", ""))
        assert token is not None
        self._throttle(token.app, route, "oapi", r.at)
        return token.app, body

    def _agent(self, app: str, body: dict[str, Any]) -> int:
        agent = body.get("agent_id")
        if not _number(agent):
            raise _err(40035, "不合法的参数: agent_id")
        if self.agents.get(app) != agent:
            raise _err(40035, "agent_id与应用不匹配")
        assert isinstance(agent, int)
        return agent

    # ---- work notices ----
    def _check_msg(self, msg: object) -> dict[str, Any]:
        bad = _err(40035, "不合法的参数: msg")
        if not isinstance(msg, dict):
            raise bad
        if len(json.dumps(msg, ensure_ascii=False, separators=(",", ":")).encode()) > MSG_MAX_BYTES:
            raise _err(40035, "msg超过2048字节")
        kind = msg.get("msgtype")
        content = msg.get(str(kind))
        if not isinstance(content, dict):
            raise bad
        if kind == "text":
            ok = _str(content.get("content"))
        elif kind == "markdown":
            ok = _str(content.get("title")) and _str(content.get("text"))
        elif kind == "oa":
            head, body, bar = content.get("head"), content.get("body"), content.get("status_bar")
            form = body.get("form", []) if isinstance(body, dict) else None
            ok = (_url(content.get("message_url"))
                  and ("pc_message_url" not in content or _url(content.get("pc_message_url")))
                  and isinstance(head, dict) and _HEX8.match(str(head.get("bgcolor", ""))) is not None
                  and _str(head.get("text"))
                  and isinstance(body, dict)
                  and all(_str(body.get(k), empty=True) for k in ("title", "content") if k in body)
                  and isinstance(form, list)
                  and all(isinstance(f, dict) and _str(f.get("key"), empty=True) and _str(f.get("value"), empty=True)
                          for f in form)
                  and (bar is None or (isinstance(bar, dict) and _str(bar.get("status_value"))
                                       and _str(bar.get("status_bg", ""), empty=True))))
        else:
            ok = False
        if not ok:
            raise bad
        return msg

    def asyncsend(self, r: Request, _: dict[str, str]) -> Reply:
        app, body = self._oapi_app(r, "asyncsend_v2")
        agent = self._agent(app, body)
        users = body.get("userid_list")
        if not _str(users):
            raise _err(40035, "不合法的参数: userid_list")
        assert isinstance(users, str)
        userids = [u for u in users.split(",") if u]
        if len(userids) > 100:
            raise _err(40035, "userid_list超过100")
        for userid in userids:
            if userid in self.refused:
                raise _err(*self.refused[userid])
        msg = self._check_msg(body.get("msg"))
        task_id = next(self._task_ids)
        now = self.now()
        members = {p.userid: p for p in self.people.values() if p.userid is not None}
        for userid in userids:
            today = [n for n in self.notices if n.agent_id == agent and n.userid == userid and now - n.at < DAY]
            notice = WorkNotice(task_id, agent, userid, msg, now)
            if userid not in members:
                notice.shown, notice.dropped = False, "unknown_user"
            elif not members[userid].can_use_app:
                notice.shown, notice.dropped = False, "not_visible"
            elif any(n.msg == msg for n in today):
                notice.shown, notice.dropped = False, "same_content"
            elif len(today) >= PER_USER_DAILY:
                notice.shown, notice.dropped = False, "daily_limit"
            self.notices.append(notice)
        return Reply(200, {"errcode": 0, "errmsg": "ok", "task_id": task_id, "request_id": secrets.token_hex(6)})

    def status_bar(self, r: Request, _: dict[str, str]) -> Reply:
        app, body = self._oapi_app(r, "status_bar/update")
        agent = self._agent(app, body)
        task_id = body.get("task_id")
        value, bg = body.get("status_value"), body.get("status_bg", "")
        if not _number(task_id) or not _str(value) or not _str(bg, empty=True):
            raise _err(40035, "不合法的参数")
        notices = [n for n in self.notices if n.task_id == task_id and n.agent_id == agent]
        if not notices or notices[0].msgtype != "oa":
            raise _err(40035, "不合法的task_id")
        assert isinstance(task_id, int) and isinstance(value, str) and isinstance(bg, str)
        for notice in notices:
            notice.status_history.append((value, bg))
        self.status_updates.append((task_id, value, bg))
        return Reply(200, {"errcode": 0, "errmsg": "ok", "request_id": secrets.token_hex(6)})

    # ---- to-dos ----
    def _v1_app(self, r: Request, route: str) -> str:
        state, token = self.token_state(r.headers.get("x-acs-dingtalk-access-token", ""))
        if state != "ok" or token is None:
            raise _bad(401, "InvalidAuthentication", "不合法的access_token")
        self._throttle(token.app, route, "v1", r.at)
        return token.app

    def _member_union(self, unionid: str, what: str) -> None:
        person = self._member(unionid=unionid)
        if person is None:
            raise _bad(400, f"todo.{what}.paramError", "user not exist")
        if person.userid in self.refused:
            errcode, errmsg = self.refused[person.userid]
            raise _bad(400, f"todo.{what}.paramError", f"{errmsg} ({errcode})")

    def _todo_body(self, r: Request, what: str) -> dict[str, Any]:
        return self.json_body(r, _bad(400, f"todo.{what}.paramError", "body must be JSON"))

    def todo_create(self, r: Request, p: dict[str, str]) -> Reply:
        app = self._v1_app(r, "todo create")
        owner = p["unionId"]
        self._member_union(owner, "taskCreate")
        self._member_union(r.query.get("operatorId", ""), "taskCreate")
        body = self._todo_body(r, "taskCreate")
        subject, description = body.get("subject"), body.get("description", "")
        executors, detail, due = body.get("executorIds", []), body.get("detailUrl"), body.get("dueTime")
        source = body.get("sourceId", "")
        bad = "todo.taskCreate.paramError"
        if not _str(subject) or not _str(description, empty=True) or not _str(source, empty=True):
            raise _bad(400, bad, "todo.taskCreate.paramError")
        assert isinstance(subject, str) and isinstance(description, str) and isinstance(source, str)
        if len(subject) > 1024:
            raise _bad(400, bad, "subject is oversize")
        if len(description) > 4096:
            raise _bad(400, bad, "description is oversize")
        if not isinstance(executors, list) or not all(isinstance(e, str) for e in executors):
            raise _bad(400, bad, "todo.taskCreate.paramError")
        for executor in executors:
            self._member_union(executor, "taskCreate")
        if detail is not None and not (isinstance(detail, dict) and all(_url(detail.get(k)) for k in ("appUrl", "pcUrl")
                                                                       if k in detail)):
            raise _bad(400, bad, "todo.taskCreate.paramError")
        if due is not None and (not _number(due) or due <= 0):
            raise _bad(400, bad, "dueTime is invalid")
        if source and any(t.app == app and t.source_id == source for t in self.todos.values()):
            raise _bad(400, bad, "task exist")
        todo = TodoItem(id="task" + secrets.token_hex(12), app=app, owner=owner, source_id=source, subject=subject,
                        description=description, executors=list(executors), detail_url=dict(detail or {}),
                        due_time=due if isinstance(due, int) else None, created_at=self.now())
        self.todos[todo.id] = todo
        return Reply(200, {"id": todo.id, "subject": subject, "description": description, "sourceId": source,
                           "creatorId": owner, "executorIds": todo.executors, "done": False, "bizTag": app,
                           "createdTime": int(todo.created_at * 1000), "requestId": secrets.token_hex(8),
                           **({"dueTime": due} if due is not None else {})})

    def _existing(self, app: str, p: dict[str, str], what: str) -> TodoItem:
        todo = self.todos.get(p["taskId"])
        if todo is None or todo.deleted:
            raise _bad(400, f"todo.{what}.paramError", "task not exist")
        if todo.app != app:
            raise _bad(400, f"todo.{what}.paramError", "task not belong to bizTag")
        return todo

    def todo_update(self, r: Request, p: dict[str, str]) -> Reply:
        app = self._v1_app(r, "todo update")
        self._member_union(p["unionId"], "taskUpdate")
        self._member_union(r.query.get("operatorId", ""), "taskUpdate")
        body = self._todo_body(r, "taskUpdate")
        todo = self._existing(app, p, "taskUpdate")
        if "done" in body and not isinstance(body["done"], bool):
            raise _bad(400, "todo.taskUpdate.paramError", "todo.taskUpdate.paramError")
        if "done" in body:
            todo.done = bool(body["done"])
        if _str(body.get("subject")):
            todo.subject = str(body["subject"])
        todo.updates += 1
        return Reply(200, {"result": True, "requestId": secrets.token_hex(8)})

    def todo_delete(self, r: Request, p: dict[str, str]) -> Reply:
        app = self._v1_app(r, "todo delete")
        self._member_union(p["unionId"], "taskDelete")
        self._member_union(r.query.get("operatorId", ""), "taskDelete")
        todo = self._existing(app, p, "taskDelete")
        todo.deleted = True
        return Reply(200, {"result": True, "requestId": secrets.token_hex(8)})

    def todo_query(self, r: Request, p: dict[str, str]) -> Reply:
        self._v1_app(r, "todo query")
        self._member_union(p["unionId"], "taskQuery")
        body = self._todo_body(r, "taskQuery")
        done = body.get("isDone", False)
        mine = [t for t in self.todos.values()
                if not t.deleted and t.done == done and (p["unionId"] in t.executors or t.owner == p["unionId"])]
        start = int(body.get("nextToken") or 0)
        page = mine[start:start + 10]
        cards = [{"taskId": t.id, "subject": t.subject, "sourceId": t.source_id, "isDone": t.done,
                  "creatorId": t.owner, "bizTag": t.app, "detailUrl": t.detail_url,
                  "createdTime": int(t.created_at * 1000), **({"dueTime": t.due_time} if t.due_time else {})}
                 for t in page]
        following = str(start + 10) if start + 10 < len(mine) else None
        return Reply(200, {"todoCards": cards, "nextToken": following, "totalCount": len(mine)})

    # ---- interactive cards ----
    @staticmethod
    def _params(body: dict[str, Any]) -> dict[str, str]:
        data = body.get("cardData")
        params = data.get("cardParamMap") if isinstance(data, dict) else None
        if not isinstance(params, dict) or not all(isinstance(v, str) for v in params.values()):
            raise _bad(400, "param.invalid", "cardData.cardParamMap must map strings to strings")
        return dict(params)

    def card_deliver(self, r: Request, _: dict[str, str]) -> Reply:
        app = self._v1_app(r, "card deliver")
        body = self.json_body(r, _bad(400, "param.invalid", "body must be JSON"))
        template, track = body.get("cardTemplateId"), body.get("outTrackId")
        if not _str(template) or self.card_templates.get(str(template)) != app:
            raise _bad(400, "param.cardTemplateIdNotExist", "卡片模板不存在")
        if not _str(track) or len(str(track)) > 128:
            raise _bad(400, "param.invalid", "outTrackId is required")
        if str(track) in self.cards:
            raise _bad(400, "param.outTrackIdExist", "outTrackId已存在")
        params = self._params(body)
        deliver = body.get("imRobotOpenDeliverModel")
        if not isinstance(deliver, dict) or deliver.get("spaceType") != "IM_ROBOT":
            raise _bad(400, "param.invalid", "imRobotOpenDeliverModel.spaceType must be IM_ROBOT")
        robot = str(deliver.get("robotCode") or "")
        if robot != app and self.robots.get(robot) != app:
            raise _bad(400, "param.robotNotExist", "机器人不存在")
        space = str(body.get("openSpaceId") or "")
        prefix = "dtv1.card//IM_ROBOT."
        if not space.startswith(prefix):
            raise _bad(400, "param.invalid", "openSpaceId must be dtv1.card//IM_ROBOT.<userId>")
        userid = space[len(prefix):]
        person = self._member(userid=userid)
        if person is None or userid in self.refused:
            return Reply(200, {"success": True, "result": {"outTrackId": track, "deliverResults": [
                {"spaceType": "IM_ROBOT", "spaceId": userid, "success": False, "errorMsg": "user not exist"}]}})
        self.cards[str(track)] = InteractiveCard(str(track), app, userid, str(template), robot, params, self.now())
        return Reply(200, {"success": True, "result": {"outTrackId": track, "deliverResults": [
            {"spaceType": "IM_ROBOT", "spaceId": userid, "success": True}]}})

    def card_update(self, r: Request, _: dict[str, str]) -> Reply:
        app = self._v1_app(r, "card update")
        body = self.json_body(r, _bad(400, "param.invalid", "body must be JSON"))
        card = self.cards.get(str(body.get("outTrackId") or ""))
        if card is None or card.app != app:
            raise _bad(400, "param.cardNotExist", "卡片不存在")
        params = self._params(body)
        options = body.get("cardUpdateOptions") or {}
        by_key = isinstance(options, dict) and bool(options.get("updateCardDataByKey"))
        card.params = {**card.params, **params} if by_key else params
        card.updates.append(params)
        return Reply(200, {"success": True, "result": True})
