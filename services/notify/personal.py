"""Personal notices through enterprise apps (DingTalk work notices, WeCom application messages,
Feishu messages): the pure rules — app channel configuration, the outcome a closed task's card
shows, the in-app sign-in URL of a card's button and where a recipient's platform id comes from.

No grpc, protobuf, database or HTTP here."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote

from baobei.core.errors import FieldViolation, ValidationFailed, require
from services.notify.im.base import APP_TYPES, DINGTALK_APP, FEISHU_APP, WECOM_APP

# The SSO provider type of each app type (registry identity providers, edge/sso).
PLATFORM_OF = {DINGTALK_APP: "dingtalk", WECOM_APP: "wecom", FEISHU_APP: "feishu"}
PLATFORM_NAMES = {DINGTALK_APP: "钉钉", WECOM_APP: "企业微信", FEISHU_APP: "飞书"}

# ---- closing a task's cards ------------------------------------------------------------------

APPROVED, REJECTED, RETURNED = "approved", "rejected", "returned"
TRANSFERRED, CANCELLED, WITHDRAWN, REASSIGNED = "transferred", "cancelled", "withdrawn", "reassigned"
# The step was settled by someone else (或签 colleague, escalation resolver) or an SLA timer.
CLOSED_BY_OTHER = "closed"
# The approval service's actor of timer outcomes: no name on the card.
SYSTEM_ACTOR = "system"
OUTCOME_WORDS = {
    APPROVED: "已同意",
    REJECTED: "已驳回",
    RETURNED: "已退回修改",
    TRANSFERRED: "已转交他人",
    CANCELLED: "已取消",
    WITHDRAWN: "申请人已撤回",
    REASSIGNED: "已改派他人",
    CLOSED_BY_OTHER: "已处理",
}
OUTCOMES = tuple(OUTCOME_WORDS)
# The task left this person without their decision: the to-do is removed, not completed (a step
# settled by a colleague completes it: the work is done).
REMOVED_OUTCOMES = frozenset({TRANSFERRED, CANCELLED, WITHDRAWN, REASSIGNED})
# The kind of the update deliveries CloseTask queues (delivery log, metrics).
CARD_UPDATE_KIND = "im_card_update"
OPEN, CLOSED = "open", "closed"
MAX_ACTOR_NAME = 200


@dataclass(frozen=True)
class CloseTask:
    request_id: str
    task_id: str
    outcome: str
    project_id: str = ""
    actor_id: str = ""
    actor_name: str = ""


def validate_close(cmd: CloseTask) -> CloseTask:
    """The command trimmed; ValidationFailed names every bad field."""
    violations: list[FieldViolation] = require(cmd.request_id, "request_id", "请求编号", "request_id")
    violations += require(cmd.task_id, "task_id", "审批任务", "task_id")
    outcome = cmd.outcome.strip().lower()
    if outcome not in OUTCOME_WORDS:
        violations.append(FieldViolation(
            "outcome", f"结果应为 {' / '.join(OUTCOMES)} 之一", f"outcome must be one of {', '.join(OUTCOMES)}"))
    for name, value, limit in (("task_id", cmd.task_id, 100), ("project_id", cmd.project_id, 100),
                               ("actor_id", cmd.actor_id, 100), ("actor_name", cmd.actor_name, MAX_ACTOR_NAME)):
        if len(value.strip()) > limit:
            violations.append(FieldViolation(name, f"{name} 长度不能超过 {limit}", f"{name} must be at most {limit} "
                                                                                "characters"))
    if violations:
        raise ValidationFailed(violations)
    return CloseTask(request_id=cmd.request_id.strip(), task_id=cmd.task_id.strip(), outcome=outcome,
                     project_id=cmd.project_id.strip(), actor_id=cmd.actor_id.strip(),
                     actor_name=cmd.actor_name.strip())


def card_status(outcome: str, actor_name: str = "") -> str:
    """What a closed card shows: ``已同意 · 李四``; the outcome alone when nobody is named."""
    words = OUTCOME_WORDS.get(outcome, "已处理")
    name = " ".join(actor_name.split())
    return f"{words} · {name}" if name else words


def todo_removed(outcome: str) -> bool:
    return outcome in REMOVED_OUTCOMES


# ---- app channels ----------------------------------------------------------------------------

_OPTION_KEY = re.compile(r"^[a-z][a-z0-9_]{0,49}$")
_PROVIDER_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,99}$")
_DIGITS = re.compile(r"^[0-9]{1,20}$")
MAX_OPTIONS = 20
# Options the delivery path reads (platform clients may read others, e.g. card_template_id).
SSO_PROVIDER = "sso_provider"
# "true": the org was synced from this platform, so a Baobei user id is the platform's user id.
ORG_SYNCED = "org_synced"
_APP_KEY_NAMES = {DINGTALK_APP: "AppKey（Client ID）", WECOM_APP: "企业 ID（corpid）", FEISHU_APP: "App ID"}


def app_violations(
    *, type_: str, url: str, app_key: str, secret: str, has_stored_secret: bool, agent_id: str,
    options: Mapping[str, str],
) -> list[FieldViolation]:
    """Problems of an enterprise app channel (the key, type and api_base are checked by the
    caller). The secret may be omitted when one is stored (write-only)."""
    out: list[FieldViolation] = []
    if url.strip():
        out.append(FieldViolation("channel.url", "企业应用渠道不使用 url（接口地址填 api_base）",
                                  "app channels take no url (use api_base for the API address)"))
    label = _APP_KEY_NAMES.get(type_, "app_key")
    if not app_key.strip():
        out.append(FieldViolation("channel.app_key", f"请填写{label}", "app_key is required"))
    elif len(app_key.strip()) > 200:
        out.append(FieldViolation("channel.app_key", "app_key 长度不能超过 200", "app_key must be at most 200 "
                                                                               "characters"))
    if not secret.strip() and not has_stored_secret:
        out.append(FieldViolation("channel.secret", "请填写应用密钥（Secret）", "the app secret is required"))
    if len(secret) > 500:
        out.append(FieldViolation("channel.secret", "密钥长度不能超过 500", "secret must be at most 500 characters"))
    agent = agent_id.strip()
    if type_ in (DINGTALK_APP, WECOM_APP):
        if not agent:
            out.append(FieldViolation("channel.agent_id", "请填写应用的 AgentId", "agent_id is required"))
        elif not _DIGITS.match(agent):
            out.append(FieldViolation("channel.agent_id", "AgentId 应为数字", "agent_id must be digits"))
    elif agent:
        out.append(FieldViolation("channel.agent_id", "飞书应用不使用 AgentId", "Feishu apps take no agent_id"))
    if len(options) > MAX_OPTIONS:
        out.append(FieldViolation("channel.options", f"选项不能超过 {MAX_OPTIONS} 个",
                                  f"at most {MAX_OPTIONS} options"))
    for k, v in options.items():
        if not _OPTION_KEY.match(k):
            out.append(FieldViolation(f"channel.options[{k}]", "选项名无效（小写字母、数字、_）",
                                      "invalid option name (a-z, 0-9, _)"))
        elif len(v) > 500:
            out.append(FieldViolation(f"channel.options[{k}]", "选项值长度不能超过 500",
                                      "option value must be at most 500 characters"))
    provider = options.get(SSO_PROVIDER, "").strip()
    if provider and not _PROVIDER_KEY.match(provider):
        out.append(FieldViolation(f"channel.options[{SSO_PROVIDER}]", "登录方式标识无效", "invalid provider key"))
    synced = options.get(ORG_SYNCED, "").strip().lower()
    if synced and synced not in ("true", "false"):
        out.append(FieldViolation(f"channel.options[{ORG_SYNCED}]", "应为 true 或 false", "must be true or false"))
    return out


def url_options(options: Mapping[str, str]) -> list[str]:
    """Options naming an API host (``*_base``, e.g. DingTalk's ``oapi_base``): URLs checked like
    ``api_base`` (http(s), and the SSRF rules)."""
    return [k for k, v in options.items() if k.endswith("_base") and v.strip()]


def api_urls(api_base: str, options: Mapping[str, str]) -> list[tuple[str, str]]:
    """(field, url) of every API address a channel may call besides the platform's public one."""
    out = [("channel.api_base", api_base)] if api_base else []
    return out + [(f"channel.options[{k}]", options[k]) for k in url_options(options)]


def is_app(channel_type: str) -> bool:
    return channel_type in APP_TYPES


# ---- the card's button and the recipient ---------------------------------------------------


def sso_provider(channel_type: str, options: Mapping[str, str]) -> str:
    """The SSO provider whose in-app page signs the person in: the channel's ``sso_provider``
    option, else the provider keyed like the platform (``dingtalk`` / ``wecom`` / ``feishu``)."""
    return options.get(SSO_PROVIDER, "").strip() or PLATFORM_OF.get(channel_type, "")


def task_path(task_id: str, project_id: str = "") -> str:
    """Where the web app shows it: an approval task's decision page, else the project, else the
    inbox (web/src/pages/*/routes.ts)."""
    if task_id:
        return f"/approvals/{quote(task_id, safe='')}"
    return f"/projects/{quote(project_id, safe='')}" if project_id else "/notifications"


def inapp_url(base_url: str, provider: str, next_path: str) -> str:
    """The platform's in-app sign-in page (免登) that lands on ``next_path``
    (edge/sso/im_routes.py: ``GET /auth/sso/<key>/inapp?next=…``)."""
    return f"{base_url.rstrip('/')}/auth/sso/{quote(provider, safe='')}/inapp?next={quote(next_path, safe='/')}"


def org_synced(options: Mapping[str, str]) -> bool:
    return options.get(ORG_SYNCED, "").strip().lower() == "true"


def platform_user(
    user_id: str, links: Mapping[str, tuple[str, str]], *, channel_type: str, provider: str,
    options: Mapping[str, str],
) -> str:
    """The recipient's user id on the platform (what work notices, app messages and to-dos are
    addressed by):

    1. their identity link to the platform's SSO provider (``links``: provider key → (subject,
       userid)): the userid the link recorded at sign-in; for WeCom the subject is the userid
       itself (DingTalk and Feishu subjects are unionids, not usable as a user id);
    2. else, when the org was synced from this platform (option ``org_synced``: ids are kept as
       the platform gives them, docs/integrations.md §3), the Baobei user id;
    3. else "" (the delivery is skipped with the reason)."""
    subject, userid = links.get(provider, ("", ""))
    if userid:
        return userid
    if subject and channel_type == WECOM_APP:
        return subject
    return user_id if org_synced(options) else ""


def unique_footer(notification_id: str) -> str:
    """A line that makes every notice unique: DingTalk refuses a work notice to one person whose
    content equals one sent to them the same day (a reminder of the same task would be)."""
    return f"\n\n通知编号：{notification_id[:8]}" if notification_id else ""
