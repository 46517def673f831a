"""A real OpenID Connect provider on loopback for the sign-in tests: ``oidc-provider-mock`` (an
Authlib authorization server: discovery, JWKS, authorization form, token and userinfo endpoints,
RS256 ID tokens, single-use codes) served by werkzeug in a thread on a free port.

In front of it, :class:`ProviderChecks` adds what the mock (0.3.4) lacks and real providers do:
PKCE is enforced (the mock registers no CodeChallenge extension, so it would accept any
verifier; Keycloak, Authing and Azure AD check it). It can also make the provider issue its
tokens for another client (``issue_for``): the authorization and token requests reach the mock
with that client id, so the ID token is genuinely signed by the provider with another ``aud`` —
how a wrong-audience token is produced without forging anything."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit

import httpx
import oidc_provider_mock
import werkzeug.serving

StartResponse = Callable[..., Any]


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


@dataclass
class ProviderChecks:
    app: Callable[[dict[str, Any], StartResponse], Iterable[bytes]]
    issue_for: str = ""  # when set: the provider issues codes and tokens for this client id
    challenges: dict[str, tuple[str, str]] = field(default_factory=dict)  # code → (challenge, method)
    token_requests: list[dict[str, Any]] = field(default_factory=list)  # what the token endpoint received
    paths: list[str] = field(default_factory=list)  # every path requested, in order

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        self.paths.append(path)
        if path == "/oauth2/authorize":
            return self._authorize(environ, start_response)
        if path == "/oauth2/token" and environ.get("REQUEST_METHOD") == "POST":
            return self._token(environ, start_response)
        return self.app(environ, start_response)

    def _authorize(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        challenge = (query.get("code_challenge", [""])[0], query.get("code_challenge_method", ["plain"])[0])
        if self.issue_for:
            query["client_id"] = [self.issue_for]
            environ["QUERY_STRING"] = urlencode(query, doseq=True)

        def remember_code(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            location = next((v for k, v in headers if k.lower() == "location"), "")
            code = parse_qs(urlsplit(location).query).get("code")
            if code:
                self.challenges[code[0]] = challenge
            return start_response(status, headers, exc_info)

        return self.app(environ, remember_code)

    def _token(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        form = {k: v[0] for k, v in parse_qs(body.decode(), keep_blank_values=True).items()}
        authorization = environ.get("HTTP_AUTHORIZATION", "")
        self.token_requests.append({"form": dict(form), "authorization": authorization})
        challenge, method = self.challenges.get(form.get("code", ""), ("", ""))
        verifier = form.get("code_verifier", "")
        if form.get("code") in self.challenges and not (
                challenge and method == "S256" and verifier and s256(verifier) == challenge):
            return _json(start_response, "400 BAD REQUEST", {
                "error": "invalid_grant", "error_description": "PKCE verification failed"})
        if self.issue_for:
            if authorization.lower().startswith("basic "):
                _, secret = base64.b64decode(authorization[6:]).decode().split(":", 1)
                joined = f"{quote(self.issue_for, safe='')}:{secret}".encode()
                environ["HTTP_AUTHORIZATION"] = "Basic " + base64.b64encode(joined).decode()
            if "client_id" in form:
                form["client_id"] = self.issue_for
            body = urlencode(form).encode()
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        return self.app(environ, start_response)


def _json(start_response: StartResponse, status: str, data: dict[str, Any]) -> list[bytes]:
    payload = json.dumps(data).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))])
    return [payload]


@dataclass
class Provider:
    issuer: str
    checks: ProviderChecks

    def set_user(self, sub: str, **claims: Any) -> None:
        """The claims the provider will put in ``sub``'s tokens."""
        r = httpx.put(f"{self.issuer}/users/{quote(sub, safe='')}", json=claims, timeout=10)
        assert r.status_code == 204, r.text


@contextmanager
def running_provider() -> Iterator[Provider]:
    app = oidc_provider_mock.app(require_nonce=True)
    checks = ProviderChecks(app)
    server = werkzeug.serving.make_server("127.0.0.1", 0, checks, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield Provider(issuer=f"http://127.0.0.1:{server.server_port}", checks=checks)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def code_of(location: str) -> str:
    return unquote(parse_qs(urlsplit(location).query)["code"][0])
