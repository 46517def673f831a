"""Loading the provider a sign-in endpoint names."""

from __future__ import annotations

from collections.abc import Container
from typing import Any

from baobei.core.errors import NotFound
from baobei.registry.v1 import identity_service_pb2 as identity_pb2
from edge.clients import Clients
from edge.schemas import ERROR_RESPONSES, ErrorResponse

# The error answers of the sign-in endpoints: the API's, and 502 when the provider failed.
SSO_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERROR_RESPONSES, 502: {"model": ErrorResponse, "description": "The provider failed or refused the app"}}


async def enabled_provider(clients: Clients, key: str, types: Container[str]) -> identity_pb2.Provider:
    """The provider ``key`` with its secrets, when it is enabled and of one of ``types`` (else
    404 ``provider_not_found``, whichever it is: a sign-in page learns nothing more)."""
    provider: identity_pb2.Provider = await clients.identity.GetProvider(
        identity_pb2.GetProviderRequest(key=key, with_secrets=True))
    if not provider.enabled or provider.type not in types:
        raise NotFound(f"登录方式 {key} 不存在或已停用", f"sign-in provider {key} not found or disabled",
                       code="provider_not_found")
    return provider
