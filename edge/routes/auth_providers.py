"""Sign-in providers an admin configures at run time, and users' linked external identities."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import Response
from google.protobuf import json_format
from pydantic import ValidationError

from baobei.core.errors import FieldViolation, Forbidden, ValidationFailed
from baobei.registry.v1 import identity_service_pb2 as identity_pb2
from edge import audit, mapping
from edge.deps import AdminUser, Clients, CurrentUser
from edge.errors import violation_of
from edge.openapi_examples import ADMIN_REQUIRED, ErrorExample, error_examples
from edge.routes import area_router
from edge.schemas_identity import IdentityLinkList, ProviderIn, ProviderList, ProviderOut
from edge.sso.configs import CONFIG_MODELS, DEFAULT_START_PATH, start_path

router = area_router("sign-in providers")
PROVIDER_NOT_FOUND = ErrorExample(404, "provider_not_found", "登录方式 corp-sso 不存在")


def provider_out(p: identity_pb2.Provider, base_url: str) -> dict[str, Any]:
    redirect = start_path(p.type, p.key) == DEFAULT_START_PATH.format(key=p.key)
    return {
        "key": p.key, "type": p.type, "name": p.name, "enabled": p.enabled,
        "config": json_format.MessageToDict(p.config), "secrets_set": list(p.secrets_set), "version": p.version,
        "updated_at": mapping.ts(p.updated_at), "updated_by": p.updated_by or None,
        "start_url": start_path(p.type, p.key),
        "callback_url": f"{base_url}/auth/sso/{p.key}/callback" if redirect else None,
    }


def _validated(body: ProviderIn) -> tuple[dict[str, Any], dict[str, str]]:
    models = CONFIG_MODELS.get(body.type)
    if models is None:
        raise ValidationFailed([FieldViolation("type", f"类型必须是 {' / '.join(CONFIG_MODELS)} 之一",
                                               f"type must be one of {', '.join(CONFIG_MODELS)}")])
    config_model, secrets_model = models
    problems: list[FieldViolation] = []
    config: dict[str, Any] = {}
    for part, model, data in (("config", config_model, body.config), ("secrets", secrets_model, body.secrets)):
        try:
            parsed = model.model_validate(data).model_dump(exclude_unset=part == "secrets")
        except ValidationError as err:
            for e in err.errors():
                # The edge's own wording of pydantic errors (Chinese first), at the path in the body.
                found = violation_of({**e, "loc": (part, *e["loc"])})
                problems.append(FieldViolation(found.field, f"{found.field}: {found.zh}", f"{found.field}: {found.en}"))
            continue
        if part == "config":
            config = parsed
    for name in body.clear_secrets:
        if name not in secrets_model.model_fields:
            problems.append(FieldViolation("clear_secrets", f"未知的密钥 {name}", f"unknown secret {name}"))
    if problems:
        raise ValidationFailed(problems)
    return config, {k: v for k, v in body.secrets.items() if v}


@router.get("/auth-providers", response_model=ProviderList, responses=error_examples(ADMIN_REQUIRED))
async def list_providers(admin: AdminUser, clients: Clients) -> dict[str, Any]:
    """Every configured provider (admin); secrets are never shown, only which are set."""
    resp = await clients.identity.ListProviders(identity_pb2.ListProvidersRequest())
    base = clients.settings.public_base_url()
    return {"items": [provider_out(p, base) for p in resp.providers]}


@router.get("/auth-providers/{key}", response_model=ProviderOut,
            responses=error_examples(PROVIDER_NOT_FOUND, ADMIN_REQUIRED))
async def get_provider(key: str, admin: AdminUser, clients: Clients) -> dict[str, Any]:
    p = await clients.identity.GetProvider(identity_pb2.GetProviderRequest(key=key))
    return provider_out(p, clients.settings.public_base_url())


@router.put("/auth-providers/{key}", response_model=ProviderOut, responses=error_examples(
    ErrorExample(422, "validation_failed", "输入校验失败", (
        ("type", "类型必须是 oidc / ldap / dingtalk / wecom / feishu 之一"),)),
    ErrorExample(409, "provider_type_fixed", "登录方式 corp-sso 的类型是 oidc，不能改为 ldap"), ADMIN_REQUIRED))
async def put_provider(key: str, body: ProviderIn, admin: AdminUser, clients: Clients) -> dict[str, Any]:
    """Create or replace a provider (admin). `config` is checked against the type (422 naming the
    field); `secrets` are write-only and kept when omitted. The type of a key cannot change."""
    config, secrets = _validated(body)
    provider = identity_pb2.Provider(key=key, type=body.type, name=body.name, enabled=body.enabled)
    provider.config.update(config)
    provider.secrets.update(secrets)
    p = await clients.identity.PutProvider(identity_pb2.PutProviderRequest(
        request_id=uuid.uuid4().hex, provider=provider, clear_secrets=body.clear_secrets, actor_id=admin.id))
    await audit.record(clients, "auth_provider.changed", actor_id=admin.id, target_type="auth_provider",
                       target_id=key, details={"type": body.type, "enabled": body.enabled, "version": p.version,
                                               "secrets_changed": sorted([*secrets, *body.clear_secrets])})
    return provider_out(p, clients.settings.public_base_url())


@router.delete("/auth-providers/{key}", status_code=204, response_class=Response, responses={
    204: {"description": "Removed (or there was none): its sign-in endpoints answer 404 provider_not_found"},
    **error_examples(ADMIN_REQUIRED)})
async def delete_provider(key: str, admin: AdminUser, clients: Clients) -> Response:
    """Remove a provider and its identity links (admin); repeating it is harmless."""
    resp = await clients.identity.DeleteProvider(identity_pb2.DeleteProviderRequest(
        request_id=uuid.uuid4().hex, key=key, actor_id=admin.id))
    if resp.deleted:
        await audit.record(clients, "auth_provider.deleted", actor_id=admin.id, target_type="auth_provider",
                           target_id=key)
    return Response(status_code=204)


@router.get("/users/{user_id}/identities", response_model=IdentityLinkList, responses=error_examples(
    ErrorExample(403, "admin_required", "只能查看自己的登录绑定")))
async def user_identities(user_id: str, user: CurrentUser, clients: Clients) -> dict[str, Any]:
    """External identities linked to a user (admin, or the user themself)."""
    if not user.is_admin and user.id != user_id:
        raise Forbidden("只能查看自己的登录绑定", "only your own identities", code="admin_required")
    resp = await clients.identity.ListIdentityLinks(identity_pb2.ListIdentityLinksRequest(user_id=user_id))
    return {"items": [{"provider_key": link.provider_key, "subject": link.subject, "display": link.display,
                       "linked_at": mapping.ts(link.linked_at), "last_sign_in_at": mapping.ts(link.last_sign_in_at),
                       "platform_user_id": link.platform_user_id or None}
                      for link in resp.links]}


@router.delete("/users/{user_id}/identities/{provider_key}", status_code=204, response_class=Response,
               responses={204: {"description": "Unlinked (or was not linked)"}, **error_examples(ADMIN_REQUIRED)})
async def unlink_identity(user_id: str, provider_key: str, admin: AdminUser, clients: Clients) -> Response:
    """Unlink a user from a provider (admin): their next sign-in there matches afresh."""
    resp = await clients.identity.DeleteIdentityLink(identity_pb2.DeleteIdentityLinkRequest(
        request_id=uuid.uuid4().hex, user_id=user_id, provider_key=provider_key))
    if resp.deleted:
        await audit.record(clients, "identity.unlinked", actor_id=admin.id, target_type="user", target_id=user_id,
                           details={"provider": provider_key})
    return Response(status_code=204)
