"""Request and response models of issue 5: notification preferences, templates, robot channels,
webhook subscriptions, the delivery log, and the integration endpoints (CRM, org sync)."""

from __future__ import annotations

import re
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from edge.schemas import CustomerIn, Model, OpenModel, ProjectIn, ProjectMoney, ProjectStatus

# dingtalk / wecom: the group robot; *_app: a personal notice through the enterprise app.
ExternalChannel = Literal["email", "dingtalk", "wecom", "dingtalk_app", "wecom_app", "feishu_app"]
ChannelType = Literal["dingtalk", "wecom", "dingtalk_app", "wecom_app", "feishu_app"]
APP_TYPES = ("dingtalk_app", "wecom_app", "feishu_app")
DeliveryStatus = Literal["pending", "dispatched", "delivered", "digest_waiting", "digested", "skipped", "dead"]
DeliveryChannel = Literal["email", "dingtalk", "wecom", "webhook", "dingtalk_app", "wecom_app", "feishu_app"]
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_KIND = re.compile(r"^[a-z][a-z0-9_.\-]{0,99}$")
_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,99}$")
_EVENT = re.compile(r"^(\*|[a-z][a-z0-9_]*(\.[a-z0-9_*]+)*)$")


def _hhmm(value: str) -> str:
    if not _HHMM.fullmatch(value):
        raise PydanticCustomError("string_pattern_mismatch", "must be HH:MM (00:00-23:59)")
    return value


# ---- preferences ----


class QuietHoursIn(Model):
    start: str = Field(description="HH:MM local time; start later than end spans midnight", examples=["22:00"])
    end: str = Field(examples=["08:00"])
    tz: str = Field(default="Asia/Shanghai", description="IANA time zone")

    @field_validator("start", "end")
    @classmethod
    def _times(cls, value: str) -> str:
        return _hhmm(value)

    @field_validator("tz")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise PydanticCustomError("timezone", "unknown time zone") from None
        return value


class PreferencesIn(Model):
    channels: list[ExternalChannel] = Field(
        default_factory=list, max_length=6,
        description="Channels besides the in-app inbox (always on), for every kind not in by_kind",
    )
    quiet_hours: QuietHoursIn | None = Field(default=None, description="External sends wait until the end")
    by_kind: dict[str, list[ExternalChannel]] = Field(
        default_factory=dict, description="Per notification kind: channels (empty list = in-app only)"
    )

    @field_validator("by_kind")
    @classmethod
    def _kinds(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for kind in value:
            if not _KIND.fullmatch(kind):
                raise PydanticCustomError("string_pattern_mismatch", "invalid notification kind")
        return value


class QuietHoursOut(Model):
    start: str
    end: str
    tz: str


class PreferencesOut(Model):
    user_id: str
    channels: list[str]
    quiet_hours: QuietHoursOut | None = None
    by_kind: dict[str, list[str]] = Field(default_factory=dict)
    available: list[str] = Field(
        default_factory=list,
        description="Channels this installation offers: email, dingtalk, wecom, and each enterprise app type "
                    "(dingtalk_app, wecom_app, feishu_app) an admin has enabled",
    )


# ---- templates ----


class TemplateIn(Model):
    title: str = Field(min_length=1, max_length=2000, description="Jinja2 source of the title / e-mail subject")
    text: str = Field(min_length=1, max_length=20000, description="Jinja2 source of the plain text body")
    html: str | None = Field(default=None, max_length=50000, description="Jinja2 source of the e-mail HTML body")
    markdown: str | None = Field(default=None, max_length=20000,
                                 description="Jinja2 source for robots and personal app cards")


class TemplateOut(Model):
    kind: str
    title: str
    text: str
    html: str | None = None
    markdown: str | None = None
    version: int
    builtin: bool = False
    updated_at: str | None = None
    updated_by: str | None = None


class TemplateList(Model):
    items: list[TemplateOut]


# ---- robot channels ----


class ChannelIn(Model):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"type": "dingtalk", "url": "https://oapi.dingtalk.com/robot/send?access_token=…", "secret": "SEC…"},
        {"type": "dingtalk_app", "app_key": "dingxxxxxxxx", "secret": "app secret", "agent_id": "3001234567",
         "options": {"sso_provider": "dingtalk"}},
    ]})

    type: ChannelType = Field(description="dingtalk / wecom: group robot; dingtalk_app / wecom_app / feishu_app: "
                                          "personal notices through the enterprise app")
    url: str = Field(default="", max_length=2000, description="Robot webhook URL (https); robots only")
    secret: str | None = Field(
        default=None, max_length=500,
        description="DingTalk robot signing secret (SEC…) or the enterprise app's secret; write-only; omit to keep",
    )
    enabled: bool = True
    show_amount: bool = Field(
        default=False,
        description="Robots post to group chats: show the project's amount on their cards (default: hidden)",
    )
    app_key: str = Field(default="", max_length=200,
                         description="Apps: DingTalk AppKey (Client ID) / WeCom corpid / Feishu App ID")
    agent_id: str = Field(default="", max_length=100, description="Apps: DingTalk AgentId / WeCom agentid (digits)")
    api_base: str = Field(default="", max_length=2000,
                          description="Apps: the platform's API base URL; empty = its public API")
    options: dict[str, str] = Field(
        default_factory=dict, max_length=20,
        description="Apps: sso_provider (the SSO provider whose in-app sign-in page the card's button opens; "
                    "default: the enabled sign-in provider of the platform's type), org_synced (\"true\": the org "
                    "was synced from this platform, so user ids are its userids), platform extras (e.g. DingTalk "
                    "head_text; *_base options such as oapi_base are API URLs under the same rules as api_base)",
    )

    @field_validator("url", "api_base")
    @classmethod
    def _url(cls, value: str) -> str:
        if value.strip() and not re.match(r"^https?://[^\s/]+", value.strip()):
            raise PydanticCustomError("url", "must be an http(s) URL")
        return value.strip()


class ChannelOut(Model):
    key: str
    type: str
    url: str = Field(description="Masked for WeCom (the key in it is a secret)")
    enabled: bool
    has_secret: bool
    show_amount: bool = False
    app_key: str = ""
    agent_id: str = ""
    api_base: str = ""
    options: dict[str, str] = Field(default_factory=dict)


class ChannelList(Model):
    items: list[ChannelOut]


# ---- webhook subscriptions ----


class SubscriptionIn(Model):
    url: str = Field(min_length=1, max_length=2000)
    events: list[str] = Field(
        min_length=1, max_length=50, description='e.g. project.approved, cost.recorded; "*" = all'
    )
    secrets: list[str] = Field(
        min_length=1, max_length=2, description='Standard Webhooks secrets "whsec_<base64>"; two during rotation'
    )
    enabled: bool = True
    description: str = Field(default="", max_length=500)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not re.match(r"^https?://[^\s/]+", value.strip()):
            raise PydanticCustomError("url", "must be an http(s) URL")
        return value.strip()

    @field_validator("events")
    @classmethod
    def _events(cls, value: list[str]) -> list[str]:
        for event in value:
            if not _EVENT.fullmatch(event.strip()):
                raise PydanticCustomError("event", "invalid event type")
        return [e.strip() for e in value]

    @field_validator("secrets")
    @classmethod
    def _secrets(cls, value: list[str]) -> list[str]:
        import base64
        import binascii

        for secret in value:
            raw = secret.strip()
            if not raw.startswith("whsec_"):
                raise PydanticCustomError("webhook_secret", 'must start with "whsec_"')
            try:
                key = base64.b64decode(raw[len("whsec_"):] + "==", validate=False)
            except (binascii.Error, ValueError):
                raise PydanticCustomError("webhook_secret", "must be whsec_ followed by base64") from None
            if len(key) < 16:
                raise PydanticCustomError("webhook_secret", "the key must have at least 16 bytes")
        return [s.strip() for s in value]


class SubscriptionOut(Model):
    id: str
    url: str
    events: list[str]
    secrets: list[str] = Field(description="Masked")
    enabled: bool
    description: str = ""


class SubscriptionList(Model):
    items: list[SubscriptionOut]


# ---- delivery log ----


class DeliveryOut(Model):
    id: str
    notification_id: str | None = None
    channel: str
    status: str
    attempts: int
    error: str | None = None
    recipient_id: str | None = None
    target: str | None = None
    project_id: str | None = None
    kind: str | None = None
    not_before: str | None = None
    updated_at: str | None = None
    digest_id: str | None = None


class DeliveryList(Model):
    items: list[DeliveryOut]


class RedriveIn(Model):
    delivery_ids: list[str] | None = Field(default=None, max_length=1000, description="Default: every dead letter")


# ---- CRM ----


class CrmOpportunityIn(ProjectIn):
    external_id: str = Field(min_length=1, max_length=200, description="The CRM's opportunity id (idempotency key)")
    owner_id: str | None = Field(default=None, description="Default: the integrator user")
    customer: CustomerIn = Field(default_factory=CustomerIn)
    amount: ProjectMoney = Field(default="")

    @field_validator("external_id")
    @classmethod
    def _external(cls, value: str) -> str:
        if not value.strip():
            raise PydanticCustomError("string_too_short", "must not be blank", {"min_length": 1})
        return value.strip()


class CrmCreated(Model):
    id: str
    code: str
    status: ProjectStatus


class CrmLostIn(Model):
    reason: str = Field(default="", max_length=2000)


class CrmLostOut(Model):
    project_id: str
    status: str
    steps: list[str]


# ---- org sync ----


class HandoverOut(Model):
    user_id: str
    to_user_id: str | None = None
    task_ids: list[str] = Field(default_factory=list)


class OrgWarning(Model):
    field: str
    message: str


class OrgRefusalOut(Model):
    field: str = Field(description="Path in the caller's payload, e.g. userlist[3] or department[1].department_leader")
    code: str = Field(description="admin_untouchable | own_record | role_not_grantable | role_not_held | self_manager")
    message: str
    user_id: str | None = None
    department_id: str | None = None


class OrgSyncOut(Model):
    departments: int
    users: int
    left: list[str] = Field(description="Users marked as having left by this payload")
    handovers: list[HandoverOut] = Field(description="Handovers done by this call (a repeat does none)")
    warnings: list[OrgWarning] = Field(default_factory=list, description="Values dropped (e.g. a foreign mobile)")
    refused: list[OrgRefusalOut] = Field(
        default_factory=list,
        description="Entries skipped because the caller may not make them (admins, its own record, granting "
        "roles, making itself a manager); a department keeps its manager, the rest of it applies",
    )


class DingTalkOrgIn(OpenModel):
    """DingTalk directory API results, as returned (extra keys are ignored)."""

    departments: list[dict[str, Any]] = Field(
        default_factory=list, description="topapi/v2/department/listsub (and department/get for the root) items"
    )
    users: list[dict[str, Any]] = Field(default_factory=list, description="topapi/v2/user/get results")
    resigned_userids: list[str | int] = Field(default_factory=list, description="Users who left")

    @model_validator(mode="after")
    def _some(self) -> DingTalkOrgIn:
        if not self.departments and not self.users and not self.resigned_userids:
            raise PydanticCustomError("org_empty", "departments, users or resigned_userids is required")
        return self


class FeishuOrgIn(OpenModel):
    """Feishu contact API (contact/v3) results, as returned (extra keys are ignored), fetched with
    ``user_id_type=user_id``."""

    department_id_type: Literal["open_department_id", "department_id"] = Field(
        default="open_department_id",
        description="The department_id_type the items were fetched with: names the id field of each department "
        "and the kind of parent_department_id / department_ids",
    )
    departments: list[dict[str, Any]] = Field(
        default_factory=list, description="departments/:id/children (fetch_child=true) items, optionally departments/0"
    )
    users: list[dict[str, Any]] = Field(default_factory=list, description="users/find_by_department items")

    @model_validator(mode="after")
    def _some(self) -> FeishuOrgIn:
        if not self.departments and not self.users:
            raise PydanticCustomError("org_empty", "departments or users is required")
        return self


class WeComOrgIn(OpenModel):
    """WeCom directory API results, as returned (extra keys are ignored)."""

    department: list[dict[str, Any]] = Field(default_factory=list, description="department/list items")
    userlist: list[dict[str, Any]] = Field(default_factory=list, description="user/list items")

    @model_validator(mode="after")
    def _some(self) -> WeComOrgIn:
        if not self.department and not self.userlist:
            raise PydanticCustomError("org_empty", "department or userlist is required")
        return self
