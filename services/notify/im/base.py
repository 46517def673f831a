"""What the delivery path asks of an IM platform's enterprise app, and what it hands over.

A personal channel (``dingtalk_app``, ``wecom_app``, ``feishu_app``) is an app the admin created
on the platform; a notice goes to one person, addressed by that platform's user id. For an
approval task the notice is a card whose button opens the task in the web app (the platform's
免登 page signs the person in), plus a to-do in the platform's own to-do list where it has one.
When the task is decided, transferred or cancelled anywhere, the card is updated in place
(``已同意 · 李四``) and the to-do completed or removed.

Clients are synchronous (the notify service answers gRPC on threads) and raise
``DeliveryFailed(message, retryable=…, retry_after=…)`` as each platform's docs say: token
expired → refreshed once (``baobei.core.app_tokens.with_app_token_sync``); rate limited →
retryable with the platform's wait; bad request / no permission / unknown user → permanent.
Every call is made on behalf of one delivery row, so the delivery log records it and redrive
repeats it; ``idempotency_key`` is the delivery id (platforms that accept a dedup key get it)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import redis

# Channel types of personal apps (notify ``Channel.type`` and per-user preference values).
DINGTALK_APP, WECOM_APP, FEISHU_APP = "dingtalk_app", "wecom_app", "feishu_app"
APP_TYPES = (DINGTALK_APP, WECOM_APP, FEISHU_APP)


@dataclass(frozen=True)
class ImApp:
    """One enterprise app as the admin configured it (notify channel of an ``APP_TYPES`` type)."""

    key: str
    type: str
    # DingTalk AppKey (client id) / WeCom corpid / Feishu app_id.
    app_key: str
    # DingTalk AppSecret / WeCom the app's Secret / Feishu app_secret. Never logged.
    app_secret: str
    # DingTalk AgentId / WeCom agentid / unused for Feishu.
    agent_id: str = ""
    # "" = the platform's public API; tests point it at a stand-in.
    api_base: str = ""
    # Platform-specific extras (e.g. DingTalk card template id, robot code).
    options: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Button:
    label: str
    url: str


@dataclass(frozen=True)
class Card:
    """A personal notice. ``title`` is plain text (push preview), ``markdown`` the body (user text
    already escaped by the caller), ``url`` where a tap on the card goes (the task in the web app,
    through the platform's in-app sign-in page)."""

    title: str
    markdown: str
    url: str = ""
    buttons: tuple[Button, ...] = ()
    # Baobei's approval task id when the card is about one ("" for plain notices).
    task_id: str = ""


@dataclass(frozen=True)
class CardState:
    """How a card looks once its task is closed: ``status`` e.g. ``已同意 · 李四``; buttons go."""

    status: str
    closed: bool = True


@dataclass(frozen=True)
class Todo:
    """A to-do in the platform's own list (DingTalk 待办, Feishu 任务)."""

    title: str
    url: str
    # Baobei's approval task id; platforms that take a source id get it (dedup on their side).
    task_id: str
    description: str = ""
    # Epoch milliseconds of the SLA due time, 0 = none.
    due_ms: int = 0


@dataclass(frozen=True)
class Sent:
    """What a later update needs: the platform's handle of the card (DingTalk outTrackId or task
    id, WeCom response_code, Feishu message_id)."""

    message_ref: str


class ImClient(Protocol):
    """One platform's enterprise app. ``user`` is the platform's user id of the recipient."""

    def send_card(self, user: str, card: Card, *, idempotency_key: str) -> Sent: ...

    def update_card(self, user: str, sent: Sent, card: Card, state: CardState) -> None: ...

    # Platforms without a to-do API answer "" from create_todo and ignore finish_todo.
    def create_todo(self, user: str, todo: Todo, *, idempotency_key: str) -> str: ...

    def finish_todo(self, user: str, todo_ref: str, *, removed: bool) -> None: ...

    def close(self) -> None: ...


# Each platform module exposes ``client(app, redis, timeout) -> ImClient``; ``redis`` holds the
# shared app-token cache (``baobei.core.app_tokens.SyncAppTokens``), ``timeout`` is per HTTP call.
ClientFactory = Callable[[ImApp, redis.Redis, float], ImClient]
