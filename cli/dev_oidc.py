"""``baobei dev --dev-oidc`` (or ``BAOBEI_DEV_OIDC=1``): a local OpenID Connect provider next to the
stack, so the sign-in page's SSO button can be tried on one machine.

The provider is ``oidc-provider-mock`` (a dev dependency) as a child process on loopback: any
client id and secret are accepted, and its sign-in form asks for the person's ``sub``; a person
it does not know gets ``email = sub``. It is registered through the admin API as sign-in provider
``dev-oidc`` (matching by e-mail), so typing an org user's e-mail there signs in as that user."""

from __future__ import annotations

import importlib.util
import sys
from typing import Any

import httpx

KEY = "dev-oidc"
CLIENT_ID = "baobei-dev"
CLIENT_SECRET = "dev-secret"  # the mock accepts any secret; one is set so the confidential-client path runs
NAME = "本机测试 SSO（dev）"


def available() -> bool:
    return importlib.util.find_spec("oidc_provider_mock") is not None


def issuer(port: int) -> str:
    return f"http://127.0.0.1:{port}"


def provider_argv(port: int) -> list[str]:
    """The provider process: loopback only, nonces required (the edge always sends one)."""
    return [sys.executable, "-m", "oidc_provider_mock", "--host", "127.0.0.1", "--port", str(port),
            "--require-nonce", "true"]


def provider_ready(port: int) -> bool:
    url = issuer(port) + "/.well-known/openid-configuration"
    return httpx.get(url, timeout=2).status_code == 200


def registration(issuer_url: str) -> tuple[str, dict[str, Any]]:
    """``PUT`` path and body registering the provider (idempotent: a restart on another port
    just updates the issuer)."""
    return f"/api/v1/auth-providers/{KEY}", {
        "type": "oidc", "name": NAME, "enabled": True,
        "config": {"issuer": issuer_url, "client_id": CLIENT_ID, "match_field": "email", "match_claim": "email"},
        "secrets": {"client_secret": CLIENT_SECRET},
    }


def ready_lines(base_url: str, issuer_url: str) -> list[str]:
    return [
        f"  dev OIDC provider: {issuer_url}  (sign-in provider \"{KEY}\")",
        f"    try SSO: open {base_url}/signin, press 「{NAME}」, type an org user's e-mail as \"sub\", Authorize",
        f"    (start URL {base_url}/auth/sso/{KEY}/start; the user must exist: PUT /api/v1/org with that email)",
    ]
