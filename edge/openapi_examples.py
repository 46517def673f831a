"""``responses=`` helpers for ``/openapi.json``: example error answers and redirects.

Example errors are the documented 4xx/5xx of an operation in the error shape it answers (zh-CN,
the default language), keyed by error code so Swagger UI / ReDoc offer them by name; per status
they replace the router's generic entry (same model and description, plus the examples).
Redirects carry their ``Location`` header."""

from __future__ import annotations

from typing import Any, NamedTuple

from edge.schemas import ERROR_RESPONSES, ErrorResponse

ERROR_REF = {"$ref": "#/components/schemas/ErrorResponse"}
# Statuses the generic table (ERROR_RESPONSES) does not describe.
EXTRA_DESCRIPTIONS = {
    400: "Bad request",
    410: "The link was used already",
    502: "The provider failed or refused the app",
    503: "A dependency cannot be reached; retry later",
}


class ErrorExample(NamedTuple):
    """One refusal as the edge answers it by default (zh-CN); ``details`` are (field, message)."""

    status: int
    code: str
    message: str
    details: tuple[tuple[str, str], ...] = ()

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message,
                          "details": [{"field": f, "message": m} for f, m in self.details]}}


def describe(status: int) -> str:
    return str(ERROR_RESPONSES.get(status, {}).get("description") or EXTRA_DESCRIPTIONS.get(status, "Error"))


def error_examples(*examples: ErrorExample, descriptions: dict[int, str] | None = None,
                   html_route: bool = False) -> dict[int | str, Any]:
    """``responses=`` entries for these example errors: per status the error model, its
    description and an example per error code. ``html_route``: the route answers HTML on
    success, and FastAPI would list a ``model`` under text/html; the schema is named instead."""
    out: dict[int | str, Any] = {}
    for ex in examples:
        text = (descriptions or {}).get(ex.status) or describe(ex.status)
        if ex.status not in out:
            media: dict[str, Any] = {"schema": ERROR_REF, "examples": {}} if html_route else {"examples": {}}
            out[ex.status] = {"description": text, "content": {"application/json": media}}
            if not html_route:
                out[ex.status]["model"] = ErrorResponse
        entry = out[ex.status]
        named = entry["content"]["application/json"]["examples"]
        key = ex.code if ex.code not in named else f"{ex.code}_{len(named) + 1}"
        named[key] = {"summary": f"{ex.code} ({ex.details[0][0]})" if ex.details else ex.code, "value": ex.body()}
    return out


def json_errors(responses: dict[int | str, dict[str, Any]]) -> dict[int | str, Any]:
    """Error entries for a route whose success is HTML: FastAPI would list an error ``model``
    under the route's media type (text/html); these errors are JSON."""
    return {status: {"description": entry.get("description", ""), "content": {"application/json": {
        "schema": ERROR_REF}}} for status, entry in responses.items()}


def redirect(status: int, description: str, location: str) -> dict[int | str, Any]:
    """A redirect answer: its description and what its ``Location`` header holds."""
    return {status: {"description": description, "headers": {"Location": {
        "description": location, "schema": {"type": "string"}}}}}


def html_page(description: str, status: int = 200) -> dict[int | str, Any]:
    """An HTML page answer."""
    return {status: {"description": description, "content": {"text/html": {"schema": {"type": "string"}}}}}


# ---- errors many operations share ----------------------------------------------------------------

UNAUTHENTICATED = ErrorExample(401, "unauthenticated", "未认证或令牌无效")
SESSION_EXPIRED = ErrorExample(401, "session_expired", "登录已过期，请重新登录")
ADMIN_REQUIRED = ErrorExample(403, "admin_required", "需要管理员权限")
CSRF_FAILED = ErrorExample(403, "csrf_failed", "缺少或错误的 CSRF 令牌（X-CSRF-Token）")
ACCOUNT_REQUIRED = ErrorExample(403, "account_required", "引导管理员令牌没有账号，请用管理员账号登录后操作")
USER_NOT_FOUND = ErrorExample(404, "user_not_found", "用户 lisi 不存在")
USER_LEFT = ErrorExample(409, "user_left", "用户 lisi 已离职")
RATE_LIMITED = ErrorExample(429, "rate_limited", "请求过于频繁，请 30 秒后重试")
ACCOUNT_LOCKED = ErrorExample(429, "account_locked", "登录失败次数过多，账号已暂时锁定，请 300 秒后再试")
PROVIDER_NOT_FOUND = ErrorExample(404, "provider_not_found", "登录方式 corp-sso 不存在或已停用")
INVALID_CREDENTIALS = ErrorExample(401, "invalid_credentials", "账号或密码错误")
TOTP_REQUIRED = ErrorExample(401, "totp_required", "请输入两步验证码")
TOTP_INVALID = ErrorExample(401, "totp_invalid", "两步验证码不正确或已使用")
SIGNED_IN_LEFT = ErrorExample(403, "user_left", "账号已停用")
CODE_WRONG = ErrorExample(422, "validation_failed", "输入校验失败", (("code", "验证码不正确"),))
