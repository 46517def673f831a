"""Tables of the notify service (its own database; migrations in ./migrations)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from baobei.core.db import request_log_table


class Base(SQLModel, registry=registry()):
    pass


class Notification(Base, table=True):
    """An in-app notification, one per recipient."""

    __tablename__ = "notification"
    __table_args__ = (sa.Index("ix_notification_inbox", "user_id", "created_at", "id"),)

    id: str = Field(primary_key=True, max_length=36)
    user_id: str = Field(max_length=100)
    kind: str = Field(max_length=100)
    title: str = Field(max_length=500)
    body: str = Field(default="", sa_type=sa.Text)
    project_id: str = Field(default="", max_length=100, index=True)
    action_url: str = Field(default="", max_length=2000)
    created_at: datetime = Field(sa_type=sa.DateTime(timezone=True))
    read: bool = Field(default=False)
    # When the recipient first marked it read (None = unread); ``read`` mirrors it.
    read_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    # The approval task an approval request is about ("" for other notifications).
    task_id: str = Field(default="", sa_column=sa.Column(sa.String(100), nullable=False, server_default=""))


class DeliveryLog(Base, table=True):
    """The in-app delivery record of each notification (delivered at insert). External channels
    have their own rows in ``delivery`` with one ``delivery_attempt`` per attempt."""

    __tablename__ = "delivery_log"

    id: str = Field(primary_key=True, max_length=36)
    notification_id: str = Field(foreign_key="notification.id", index=True, max_length=36)
    channel: str = Field(max_length=30)
    status: str = Field(max_length=30)
    attempts: int = Field(default=0)
    error: str = Field(default="", sa_type=sa.Text)
    at: datetime = Field(sa_type=sa.DateTime(timezone=True))



class Delivery(Base, table=True):
    """One logical external delivery (e-mail, robot message, webhook call) and its state:
    pending → dispatched (handed to a NotificationDelivery workflow) → delivered | digest_waiting →
    digested | skipped | dead. Written with the notification (outbox); the dispatcher sets
    ``batch_id`` when it claims the row."""

    __tablename__ = "delivery"
    __table_args__ = (
        sa.Index("ix_delivery_status_batch", "status", "batch_id"),
        sa.Index("ix_delivery_target_status", "target", "status"),
    )

    id: str = Field(primary_key=True, max_length=36)
    notification_id: str | None = Field(default=None, foreign_key="notification.id", index=True, max_length=36)
    recipient_id: str = Field(default="", max_length=100)
    # email | dingtalk | wecom | webhook
    channel: str = Field(max_length=20)
    # robot channel key, subscription id, or (after delivery) the e-mail address
    target: str = Field(default="", max_length=320)
    status: str = Field(max_length=20)
    attempts: int = Field(default=0)
    error: str = Field(default="", sa_type=sa.Text)
    not_before: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True), nullable=True)
    project_id: str = Field(default="", max_length=100, index=True)
    kind: str = Field(default="", max_length=100)
    digest_id: str = Field(default="", max_length=36)
    batch_id: str | None = Field(default=None, max_length=36, nullable=True)
    # Rendering context (notifications) or the exact webhook payload (subscriptions).
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    created_at: datetime = Field(sa_type=sa.DateTime(timezone=True))
    updated_at: datetime = Field(sa_type=sa.DateTime(timezone=True), index=True)


class DeliveryAttempt(Base, table=True):
    """The delivery log: one row per attempt (ok or the error)."""

    __tablename__ = "delivery_attempt"

    id: int | None = Field(default=None, primary_key=True)
    delivery_id: str = Field(foreign_key="delivery.id", index=True, max_length=36)
    attempt: int = Field(default=0)
    at: datetime = Field(sa_type=sa.DateTime(timezone=True))
    ok: bool = Field(default=False)
    error: str = Field(default="", sa_type=sa.Text)


class ActionLink(Base, table=True):
    """A signed action link's binding: one approver, one approval task. Its token carries only the id."""

    __tablename__ = "action_link"

    id: str = Field(primary_key=True, max_length=36)
    task_id: str = Field(max_length=100, index=True)
    approver_id: str = Field(max_length=100)
    project_id: str = Field(default="", max_length=100)
    # The link's URL is derived from this row when its notification is shown or delivered.
    notification_id: str = Field(default="", max_length=36, index=True)
    expires_at: datetime = Field(sa_type=sa.DateTime(timezone=True))
    created_at: datetime = Field(sa_type=sa.DateTime(timezone=True))


class SigningKey(Base, table=True):
    """Generated secrets (the action-link key when settings.link_signing_key is empty)."""

    __tablename__ = "signing_key"

    name: str = Field(primary_key=True, max_length=50)
    secret: str = Field(max_length=200)
    created_at: datetime = Field(sa_type=sa.DateTime(timezone=True))


class Preference(Base, table=True):
    __tablename__ = "preference"

    user_id: str = Field(primary_key=True, max_length=100)
    channels: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    quiet_start: str = Field(default="", max_length=5)
    quiet_end: str = Field(default="", max_length=5)
    quiet_tz: str = Field(default="", max_length=64)
    by_kind: dict[str, list[str]] = Field(default_factory=dict, sa_type=sa.JSON)
    updated_at: datetime = Field(sa_type=sa.DateTime(timezone=True))


class Template(Base, table=True):
    """An admin's template for a notification kind (built-in defaults live in code)."""

    __tablename__ = "notify_template"

    kind: str = Field(primary_key=True, max_length=100)
    title: str = Field(sa_type=sa.Text)
    text: str = Field(default="", sa_type=sa.Text)
    html: str = Field(default="", sa_type=sa.Text)
    markdown: str = Field(default="", sa_type=sa.Text)
    version: int = Field(default=1)
    updated_by: str = Field(default="", max_length=100)
    updated_at: datetime = Field(sa_type=sa.DateTime(timezone=True))


class RobotChannel(Base, table=True):
    """A channel: a group robot (DingTalk custom robot, WeCom group robot; url and secret are
    secrets) or an enterprise app for personal notices (``dingtalk_app`` / ``wecom_app`` /
    ``feishu_app``: app_key, secret = the app secret, agent_id, api_base, options)."""

    __tablename__ = "robot_channel"

    key: str = Field(primary_key=True, max_length=100)
    type: str = Field(max_length=20)
    url: str = Field(max_length=2000)
    secret: str = Field(default="", max_length=500)
    enabled: bool = Field(default=True)
    # Cards go to a group chat: the amount is shown only when the admin allows it.
    show_amount: bool = Field(default=False)
    app_key: str = Field(default="", sa_column=sa.Column(sa.String(200), nullable=False, server_default=""))
    agent_id: str = Field(default="", sa_column=sa.Column(sa.String(100), nullable=False, server_default=""))
    api_base: str = Field(default="", sa_column=sa.Column(sa.String(2000), nullable=False, server_default=""))
    options: dict[str, str] = Field(
        default_factory=dict, sa_column=sa.Column(sa.JSON, nullable=False, server_default="{}"))
    updated_at: datetime = Field(sa_type=sa.DateTime(timezone=True))


class ImMessage(Base, table=True):
    """A card sent to one person through an enterprise app (and its to-do), written in the
    transaction that marks its delivery delivered. ``state`` open → closed when its task closes
    (CloseTask), which queues the one update delivery ``close_delivery_id``."""

    __tablename__ = "im_message"
    __table_args__ = (sa.Index("ix_im_message_task_state", "task_id", "state"),)

    # The delivery that sent the card.
    id: str = Field(primary_key=True, max_length=36)
    channel_key: str = Field(max_length=100)
    type: str = Field(max_length=20)
    recipient_id: str = Field(max_length=100)
    platform_user: str = Field(max_length=200)
    task_id: str = Field(default="", max_length=100)
    project_id: str = Field(default="", max_length=100)
    message_ref: str = Field(default="", max_length=2000)
    todo_ref: str = Field(default="", max_length=2000)
    # The card as sent (no credential: its button is the in-app sign-in page), for the update.
    title: str = Field(default="", max_length=500)
    markdown: str = Field(default="", sa_type=sa.Text)
    url: str = Field(default="", max_length=2000)
    # open | closed
    state: str = Field(default="open", max_length=10)
    outcome: str = Field(default="", max_length=20)
    close_delivery_id: str = Field(default="", max_length=36)
    created_at: datetime = Field(sa_type=sa.DateTime(timezone=True))
    closed_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True), nullable=True)


class ImTask(Base, table=True):
    """An approval task personal cards were or may be sent for; the row both sides lock (a card's
    commit, CloseTask), so a close never misses a card sent at the same moment. ``outcome`` ""
    while open; the first close wins."""

    __tablename__ = "im_task"

    task_id: str = Field(primary_key=True, max_length=100)
    outcome: str = Field(default="", max_length=20)
    actor_id: str = Field(default="", max_length=100)
    actor_name: str = Field(default="", max_length=200)
    project_id: str = Field(default="", max_length=100)
    closed_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True), nullable=True)
    updated_at: datetime = Field(sa_type=sa.DateTime(timezone=True))


class Subscription(Base, table=True):
    """An outgoing webhook subscriber (Standard Webhooks)."""

    __tablename__ = "webhook_subscription"

    id: str = Field(primary_key=True, max_length=100)
    url: str = Field(max_length=2000)
    events: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    secrets: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    enabled: bool = Field(default=True)
    description: str = Field(default="", max_length=500)
    created_at: datetime = Field(sa_type=sa.DateTime(timezone=True))
    updated_at: datetime = Field(sa_type=sa.DateTime(timezone=True))


metadata = Base.metadata
processed_request = request_log_table(metadata)
