"""A test-only enterprise-app platform (third-party stand-in), registered in
``services.notify.im.clients.MODULES`` by the tests until the real platform clients land. It
implements ``ImClient`` directly and checks what the platforms check: a known app (key and
secret), a known user, a card/to-do it issued when one is updated, and DingTalk's rule that a work
notice whose content equals one already sent to that person is refused. Failures can be scripted."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import redis

from services.notify.channels.base import DeliveryFailed
from services.notify.im.base import Card, CardState, ImApp, Sent, Todo


@dataclass
class Platform:
    app_key: str = "ding-app-key"
    app_secret: str = "ding-app-secret"
    users: set[str] = field(default_factory=lambda: {"ding-alice", "ding-bob", "alice", "bob"})
    cards: dict[str, dict[str, Any]] = field(default_factory=dict)
    todos: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)
    # (operation, retryable, message) to raise on the next calls of that operation
    failures: list[tuple[str, bool, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def fail_next(self, op: str, *, retryable: bool, message: str = "") -> None:
        self.failures.append((op, retryable, message or f"{op} failed"))

    def _check(self, app: ImApp, op: str, user: str) -> None:
        self.calls.append((op, user))
        for i, (name, retryable, message) in enumerate(self.failures):
            if name == op:
                del self.failures[i]
                raise DeliveryFailed(message, retryable=retryable, retry_after=1.0 if retryable else None)
        if (app.app_key, app.app_secret) != (self.app_key, self.app_secret):
            raise DeliveryFailed("invalid appkey or appsecret (40089)", retryable=False)
        if user not in self.users:
            raise DeliveryFailed(f"unknown userid {user} (60121)", retryable=False)

    def sent_to(self, user: str) -> list[dict[str, Any]]:
        return [c for c in self.cards.values() if c["user"] == user]


PLATFORM = Platform()


class Client:
    def __init__(self, app: ImApp, platform: Platform) -> None:
        self.app, self.p = app, platform

    def send_card(self, user: str, card: Card, *, idempotency_key: str) -> Sent:
        with self.p.lock:
            self.p._check(self.app, "send_card", user)
            if any(c["user"] == user and c["card"].markdown == card.markdown for c in self.p.cards.values()):
                raise DeliveryFailed("same content to the same user refused (43011)", retryable=False)
            ref = f"card-{len(self.p.cards) + 1}"
            self.p.cards[ref] = {"user": user, "card": card, "key": idempotency_key, "state": None, "updates": 0,
                                 "agent_id": self.app.agent_id}
            return Sent(ref)

    def update_card(self, user: str, sent: Sent, card: Card, state: CardState) -> None:
        with self.p.lock:
            self.p._check(self.app, "update_card", user)
            stored = self.p.cards.get(sent.message_ref)
            if stored is None or stored["user"] != user:
                raise DeliveryFailed(f"unknown card {sent.message_ref}", retryable=False)
            stored["state"], stored["updates"] = state, stored["updates"] + 1

    def create_todo(self, user: str, todo: Todo, *, idempotency_key: str) -> str:
        with self.p.lock:
            self.p._check(self.app, "create_todo", user)
            ref = f"todo-{len(self.p.todos) + 1}"
            self.p.todos[ref] = {"user": user, "todo": todo, "done": False, "removed": False, "finishes": 0}
            return ref

    def finish_todo(self, user: str, todo_ref: str, *, removed: bool) -> None:
        with self.p.lock:
            self.p._check(self.app, "finish_todo", user)
            stored = self.p.todos.get(todo_ref)
            if stored is None:
                raise DeliveryFailed(f"unknown to-do {todo_ref}", retryable=False)
            stored["done"], stored["removed"], stored["finishes"] = not removed, removed, stored["finishes"] + 1

    def close(self) -> None:
        return None


def client(app: ImApp, redis_client: redis.Redis, timeout: float) -> Client:
    return Client(app, PLATFORM)
