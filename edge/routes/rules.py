"""Rules as data: `PUT /api/v1/rules/{key}` (admin) declares a trigger, a CEL condition and
actions; the execution workflows evaluate them on durable timers and task events. Fires are
recorded once each and listed per project."""

from __future__ import annotations

import base64
import secrets
import uuid
from typing import Any, Literal
from urllib.parse import urlsplit

from fastapi import Request
from pydantic import BaseModel, ConfigDict, Field

from baobei.tasks.v1 import tasks_service_pb2 as pb
from edge import audit, mapping
from edge.deps import AdminUser, Clients, CurrentUser
from edge.routes import area_router, bind_project
from edge.routes.projects import visible_project

router = area_router("rules")


class TriggerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["overdue", "due_soon", "milestone_done", "status_change", "budget_share", "protection_expiring"]
    after: str | None = Field(default=None, description="overdue: e.g. 24h")
    before: str | None = Field(default=None, description="due_soon: e.g. 2d")
    to: Literal["todo", "in_progress", "done", "blocked"] | None = Field(default=None, description="status_change")
    share: float | str | None = Field(default=None, description="budget_share: e.g. 0.8")


class ActionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["notify", "escalate", "webhook"]
    to: list[str] = Field(
        default_factory=list, description="assignee, owner, downstream_assignees, user:<id>, role:<role>"
    )
    levels: int = Field(default=1, ge=1, le=5, description="escalate: managers up the chain")
    url: str | None = Field(default=None, max_length=500, description="webhook URL (POSTed, Standard Webhooks)")
    secret: str | None = Field(
        default=None,
        max_length=200,
        description="webhook signing secret whsec_<base64>; generated when omitted (shown in the PUT answer only)",
    )


class RuleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(max_length=200)
    enabled: bool = True
    trigger: TriggerIn
    when: str | None = Field(default=None, max_length=2000, description="CEL over task, project, event")
    actions: list[ActionIn] = Field(min_length=1, max_length=20)


MASK = "whsec_****"


def _masked_url(url: str) -> str:
    """Scheme and host only: a webhook URL's path or query often is a credential itself."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or ''}/****" if parts.scheme else "****"


def _rule_out(r: pb.RuleDoc, *, show_secrets: bool = False, show_urls: bool = True) -> dict[str, Any]:
    body = mapping.struct_to_dict(r.body)
    for action in body.get("actions") or []:
        if not isinstance(action, dict):
            continue
        if action.get("secret") and not show_secrets:
            action["secret"] = MASK
        if action.get("url") and not show_urls:
            action["url"] = _masked_url(str(action["url"]))
    return {"key": r.key, "version": r.version, "updated_at": mapping.ts(r.updated_at), **body}


@router.put("/rules/{key}")
async def put_rule(key: str, body: RuleIn, user: AdminUser, clients: Clients) -> dict[str, Any]:
    data = body.model_dump(exclude_none=True)
    if data["trigger"].get("share") is not None:
        data["trigger"]["share"] = str(data["trigger"]["share"])
    hooks = [a for a in data["actions"] if a["type"] == "webhook"]
    if any(a.get("secret") == MASK for a in hooks):  # a GET body sent back: keep the stored secrets
        stored = {
            a.get("url"): a.get("secret")
            for r in (await clients.tasks.ListRules(pb.ListRulesRequest())).rules
            if r.key == key
            for a in mapping.struct_to_dict(r.body).get("actions") or []
            if isinstance(a, dict) and a.get("type") == "webhook"
        }
        for a in hooks:
            if a.get("secret") == MASK:
                a["secret"] = stored.get(a.get("url")) or ""
    for a in hooks:
        if not a.get("secret"):
            a["secret"] = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
    resp = await clients.tasks.PutRule(
        pb.PutRuleRequest(request_id=uuid.uuid4().hex, key=key, body=mapping.dict_to_struct(data))
    )
    await audit.record(clients, "rule.changed", actor_id=user.id, target_type="rule", target_id=key,
                       details={"version": resp.rule.version, "name": data.get("name"),
                                "trigger": data["trigger"].get("type"),
                                "actions": [a["type"] for a in data["actions"]]})
    return _rule_out(resp.rule, show_secrets=True)


@router.get("/rules")
async def list_rules(user: CurrentUser, clients: Clients) -> dict[str, Any]:
    """Every rule; webhook secrets are masked, and for non-admins webhook URLs too (host only)."""
    resp = await clients.tasks.ListRules(pb.ListRulesRequest())
    return {"items": [_rule_out(r, show_urls=user.is_admin) for r in resp.rules]}


@router.get("/projects/{project_id}/rule-fires")
async def list_fires(project_id: str, request: Request, user: CurrentUser, clients: Clients) -> dict[str, Any]:
    """Every rule fire of the project, once each, oldest first."""
    bind_project(request, project_id)
    project = await visible_project(clients, user, project_id)
    resp = await clients.tasks.ListFires(pb.ListFiresRequest(project_id=project.id))
    return {
        "items": [
            {
                "key": f.key,
                "rule": f.rule_key,
                "task_id": f.task_id or None,
                "title": f.title,
                "recipients": list(f.recipients.user_ids),
                "fired_at": mapping.ts(f.fired_at),
            }
            for f in resp.fires
        ]
    }
