"""Tables of the notify service (its own database; migrations in ./migrations)."""

from __future__ import annotations

from datetime import datetime

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


class DeliveryLog(Base, table=True):
    """One attempt record per notification and channel (in-app today; e-mail, DingTalk, WeCom,
    webhooks later): status pending | delivered | failed, attempts so far, time of last change."""

    __tablename__ = "delivery_log"

    id: str = Field(primary_key=True, max_length=36)
    notification_id: str = Field(foreign_key="notification.id", index=True, max_length=36)
    channel: str = Field(max_length=30)
    status: str = Field(max_length=30)
    attempts: int = Field(default=0)
    error: str = Field(default="", sa_type=sa.Text)
    at: datetime = Field(sa_type=sa.DateTime(timezone=True))


metadata = Base.metadata
processed_request = request_log_table(metadata)
