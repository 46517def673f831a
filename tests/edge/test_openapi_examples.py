"""Issue 13 item 8: the sign-in and identity endpoints are in ``/openapi.json`` with examples, and
their errors in the contract's shape with Chinese messages (the default language).

The operations are listed explicitly in ``OPERATIONS`` with the kind of answer each gives, so a
new route is added here on purpose, with its examples; ``test_every_identity_route_is_listed``
derives the same set from the path prefixes (``IDENTITY_PATHS``) and fails when a new route under
them is missing from the list (or a listed one is gone). For each operation:

* a request body, when there is one, has an example for each of its media types: on the media
  type, on the (referenced) schema, or on every property;
* ``json``: the 2xx JSON answer has an example (on the media type or its schema); ``empty``: a
  204 with a description of its own; ``html``: a described text/html page; ``redirect``: only
  3xx answers. Every documented 3xx names its ``Location`` header;
* every 4xx JSON answer is the error model (``ErrorResponse``, never FastAPI's default
  ``HTTPValidationError``), and each non-page operation has an example of its main error(s),
  whose messages are in Chinese.

Every example in the document (schemas, properties, media types) must validate against its
schema: schemathesis draws request data from them (tests/fuzz) and clients copy them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from baobei.core.settings import Settings
from edge.app import create_app

JSON, EMPTY, HTML, REDIRECT = "json", "empty", "html", "redirect"

# The sign-in and identity endpoints of issue 13: (method, path) -> the kind of answer.
OPERATIONS: dict[tuple[str, str], str] = {
    # Anonymous sign-in under /auth, and its pages.
    ("GET", "/auth/methods"): JSON,
    ("POST", "/auth/logout"): EMPTY,
    ("POST", "/auth/login"): JSON,
    ("POST", "/auth/password/setup"): JSON,
    ("POST", "/auth/password/forgot"): JSON,
    ("POST", "/auth/ldap/{key}/login"): JSON,
    ("POST", "/auth/sso/{key}/code"): JSON,
    ("GET", "/auth/sso/{key}/start"): REDIRECT,
    ("GET", "/auth/sso/{key}/callback"): REDIRECT,
    ("GET", "/auth/sso/{key}/inapp"): HTML,
    ("GET", "/signin"): HTML,
    ("GET", "/auth/password/setup"): HTML,
    ("GET", "/auth/password/forgot"): HTML,
    ("GET", "/auth/totp/setup"): HTML,
    ("POST", "/auth/totp/setup"): HTML,
    # The caller and their sessions.
    ("GET", "/api/v1/me"): JSON,
    ("GET", "/api/v1/me/sessions"): JSON,
    ("DELETE", "/api/v1/me/sessions/{session_id}"): EMPTY,
    ("POST", "/api/v1/me/sessions/revoke-all"): JSON,
    ("GET", "/api/v1/users/{user_id}/sessions"): JSON,
    ("DELETE", "/api/v1/users/{user_id}/sessions"): JSON,
    # Sign-in providers and linked identities.
    ("GET", "/api/v1/auth-providers"): JSON,
    ("GET", "/api/v1/auth-providers/{key}"): JSON,
    ("PUT", "/api/v1/auth-providers/{key}"): JSON,
    ("DELETE", "/api/v1/auth-providers/{key}"): EMPTY,
    ("GET", "/api/v1/users/{user_id}/identities"): JSON,
    ("DELETE", "/api/v1/users/{user_id}/identities/{provider_key}"): EMPTY,
    # Local accounts: password, TOTP, an admin's view, the sign-in settings.
    ("GET", "/api/v1/me/account"): JSON,
    ("POST", "/api/v1/me/password"): JSON,
    ("POST", "/api/v1/me/totp"): JSON,
    ("DELETE", "/api/v1/me/totp"): JSON,
    ("POST", "/api/v1/me/totp/confirm"): JSON,
    ("GET", "/api/v1/users/{user_id}/account"): JSON,
    ("POST", "/api/v1/users/{user_id}/unlock"): JSON,
    ("DELETE", "/api/v1/users/{user_id}/totp"): JSON,
    ("POST", "/api/v1/users/{user_id}/invite"): JSON,
    ("POST", "/api/v1/users/{user_id}/password-reset"): JSON,
    ("GET", "/api/v1/auth-settings"): JSON,
    ("PUT", "/api/v1/auth-settings"): JSON,
    ("POST", "/api/v1/auth-settings/retire-bootstrap-token"): JSON,
    # Personal access tokens.
    ("GET", "/api/v1/me/tokens"): JSON,
    ("POST", "/api/v1/me/tokens"): JSON,
    ("DELETE", "/api/v1/me/tokens/{token_id}"): EMPTY,
    ("GET", "/api/v1/users/{user_id}/tokens"): JSON,
    ("POST", "/api/v1/users/{user_id}/tokens"): JSON,
    ("DELETE", "/api/v1/users/{user_id}/tokens/{token_id}"): EMPTY,
    ("GET", "/api/v1/tokens"): JSON,
    # The org and the directory.
    ("GET", "/api/v1/org"): JSON,
    ("PUT", "/api/v1/org"): JSON,
    ("GET", "/api/v1/users"): JSON,
    ("GET", "/api/v1/users/{user_id}"): JSON,
    ("GET", "/api/v1/departments/{department_id}/members"): JSON,
    # The audit log.
    ("GET", "/api/v1/audit-log"): JSON,
    ("GET", "/api/v1/audit-log/verify"): JSON,
}

# Where those live (what a new sign-in / identity route would be under).
IDENTITY_PATHS = re.compile(
    r"^/auth/.*|^/signin$"
    r"|^/api/v1/(me|org|tokens|users|auth-settings(/.*)?|auth-providers(/.*)?|audit-log(/.*)?)$"
    r"|^/api/v1/me/(sessions|account|password|totp|tokens)(/.*)?$"
    r"|^/api/v1/users/[^/]+(/(sessions|identities|account|unlock|totp|invite|password-reset|tokens)(/.*)?)?$"
    r"|^/api/v1/departments/[^/]+/members$"
)
CJK = re.compile(r"[\u4e00-\u9fff]")
ERROR_REF = "#/components/schemas/ErrorResponse"


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    return create_app(Settings(admin_token="x")).openapi()


def _op(doc: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    return dict(doc["paths"][path][method.lower()])


def _resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _has_example(doc: dict[str, Any], schema: dict[str, Any]) -> bool:
    """An example on the schema (through $ref, or on a non-null branch of an optional body), or
    on every one of its properties."""
    schema = _resolve(doc, schema)
    if schema.get("examples") or "example" in schema:
        return True
    branches = [b for b in schema.get("anyOf", []) + schema.get("oneOf", []) if b.get("type") != "null"]
    if branches:
        return all(_has_example(doc, b) for b in branches)
    props = schema.get("properties") or {}
    return bool(props) and all(_has_example(doc, p) for p in props.values())


def _media_has_example(doc: dict[str, Any], media: dict[str, Any]) -> bool:
    return bool(media.get("example") is not None or media.get("examples")
                or _has_example(doc, media.get("schema", {})))


def _status(code: str) -> int:
    return int(code) if code.isdigit() else 0


def test_every_identity_route_is_listed(doc: dict[str, Any]) -> None:
    routed = {(m.upper(), p) for p, ops in doc["paths"].items() if IDENTITY_PATHS.match(p)
              for m in ops if m in ("get", "put", "post", "patch", "delete")}
    assert routed - OPERATIONS.keys() == set(), "new sign-in / identity routes: list them (with examples)"
    assert OPERATIONS.keys() - routed == set(), "listed but not routed (any more)"


@pytest.mark.parametrize(("method", "path"), list(OPERATIONS))
def test_request_body_has_an_example(doc: dict[str, Any], method: str, path: str) -> None:
    body = _op(doc, method, path).get("requestBody")
    if body is None:
        return
    content = body["content"]
    if OPERATIONS[method, path] != HTML:
        assert "application/json" in content, f"{method} {path}: a JSON body"
    for ctype, media in content.items():
        assert _media_has_example(doc, media), f"{method} {path}: no example for the {ctype} body"


@pytest.mark.parametrize(("method", "path"), list(OPERATIONS))
def test_success_is_described_with_an_example(doc: dict[str, Any], method: str, path: str) -> None:
    kind = OPERATIONS[method, path]
    responses = _op(doc, method, path)["responses"]
    ok = {code: r for code, r in responses.items() if 200 <= _status(code) < 300}
    redirects = {code: r for code, r in responses.items() if 300 <= _status(code) < 400}
    for code, r in redirects.items():
        assert "Location" in r.get("headers", {}), f"{method} {path} {code}: the Location header"
        assert r.get("description"), f"{method} {path} {code}"
    if kind == REDIRECT:
        assert redirects and not ok, f"{method} {path}: answers a redirect"
        return
    assert ok, f"{method} {path}: a 2xx answer"
    for code, r in ok.items():
        content = r.get("content", {})
        if kind == JSON:
            media = content.get("application/json")
            assert media is not None, f"{method} {path} {code}: JSON"
            assert _media_has_example(doc, media), f"{method} {path} {code}: no example of the answer"
        elif kind == EMPTY:
            assert code == "204" and not content, f"{method} {path} {code}: no content"
            assert r.get("description") not in (None, "", "Successful Response"), f"{method} {path}: describe it"
        else:
            assert "text/html" in content, f"{method} {path} {code}: a page"
            assert r.get("description") not in (None, "", "Successful Response"), f"{method} {path}: describe it"


@pytest.mark.parametrize(("method", "path"), list(OPERATIONS))
def test_errors_are_the_error_model_with_chinese_examples(doc: dict[str, Any], method: str, path: str) -> None:
    kind = OPERATIONS[method, path]
    responses = _op(doc, method, path)["responses"]
    errors = {code: r for code, r in responses.items() if _status(code) >= 400}
    assert errors or kind == HTML, f"{method} {path}: its errors are documented"
    examples: list[Any] = []
    for code, r in errors.items():
        assert r.get("description"), f"{method} {path} {code}"
        content = r.get("content", {})
        media = content.get("application/json")
        if media is None:
            # Only pages answer a refusal as a page.
            assert kind == HTML and "text/html" in content, f"{method} {path} {code}: the error model"
            continue
        assert media.get("schema", {}).get("$ref") == ERROR_REF, f"{method} {path} {code}: {media.get('schema')}"
        html = content.get("text/html")
        assert html is None or html.get("schema", {}).get("$ref") != ERROR_REF, f"{method} {path} {code}: JSON"
        examples += [e["value"] for e in media.get("examples", {}).values()]
        if "example" in media:
            examples.append(media["example"])
    if kind != HTML:
        assert examples, f"{method} {path}: an example of its main error"
    for example in examples:
        error = example["error"]
        assert CJK.search(error["message"]), f"{method} {path}: {error['code']} in Chinese"
        assert all(CJK.search(d["message"]) for d in error["details"]), f"{method} {path}: {error['code']}"


# ---- every example is valid against its schema ------------------------------------------------------


def _schemas_with_examples(node: Any, where: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every (sub)schema under ``node`` that carries JSON Schema ``examples`` (a list)."""
    if isinstance(node, dict):
        if isinstance(node.get("examples"), list):
            yield where, node
        for key, value in node.items():
            yield from _schemas_with_examples(value, f"{where}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _schemas_with_examples(value, f"{where}/{i}")


def _validator(doc: dict[str, Any], schema: dict[str, Any]) -> Draft202012Validator:
    # The document's components at the root, so "#/components/schemas/..." resolves.
    return Draft202012Validator({**schema, "components": doc["components"]},
                                format_checker=Draft202012Validator.FORMAT_CHECKER)


def _problems(doc: dict[str, Any], schema: dict[str, Any], value: Any) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}"
            for e in _validator(doc, schema).iter_errors(value)]


def test_schema_examples_are_valid(doc: dict[str, Any]) -> None:
    bad: dict[str, list[str]] = {}
    for where, schema in _schemas_with_examples(doc["components"]["schemas"], "#/components/schemas"):
        bare = {k: v for k, v in schema.items() if k != "examples"}
        for i, example in enumerate(schema["examples"]):
            if problems := _problems(doc, bare, example):
                bad[f"{where} examples[{i}]"] = problems
    for (method, path) in OPERATIONS:
        op = _op(doc, method, path)
        for where, schema in _schemas_with_examples(op, f"{method} {path}"):
            bare = {k: v for k, v in schema.items() if k != "examples"}
            for i, example in enumerate(schema["examples"]):
                if problems := _problems(doc, bare, example):
                    bad[f"{where} examples[{i}]"] = problems
    assert not bad, bad


def test_media_type_examples_are_valid(doc: dict[str, Any]) -> None:
    bad: dict[str, list[str]] = {}
    for (method, path) in OPERATIONS:
        op = _op(doc, method, path)
        media_types = [(f"request {c}", m) for c, m in op.get("requestBody", {}).get("content", {}).items()]
        media_types += [(f"{code} {c}", m) for code, r in op["responses"].items()
                        for c, m in r.get("content", {}).items()]
        for name, media in media_types:
            if "schema" not in media or "json" not in name:
                continue
            values = [e["value"] for e in media.get("examples", {}).values()]
            values += [media["example"]] if "example" in media else []
            for value in values:
                if problems := _problems(doc, media["schema"], value):
                    bad[f"{method} {path} {name}"] = problems
    assert not bad, bad
