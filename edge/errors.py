"""One error shape for every 4xx/5xx answer:
``{"error": {"code": "<snake_case>", "message": "...", "details": [{"field", "message"}]}}``.

Domain errors (raised here or read back from a service's rich status) map to 422/404/403/409/401;
FastAPI's request validation errors become 422 with dotted field paths (``customer.name``,
``steps[0].mode``); malformed JSON is a 422 too. Messages are Chinese by default and English when
the request's ``Accept-Language`` starts with ``en``."""

from __future__ import annotations

from typing import Any

import grpc
import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from baobei.core.errors import (
    Conflict,
    DomainError,
    FieldViolation,
    Forbidden,
    Gone,
    NotFound,
    Unauthenticated,
    ValidationFailed,
)
from baobei.core.grpc_client import to_domain_error
from edge.web_app import spa_fallback

log = structlog.get_logger(__name__)


class ServiceUnavailable(DomainError):
    """A dependency (a service, Temporal, Redis) did not answer: 503."""

    def __init__(
        self,
        zh: str = "服务暂不可用，请稍后重试",
        en: str = "service temporarily unavailable, retry later",
        code: str = "service_unavailable",
    ) -> None:
        super().__init__(zh=zh, en=en, code=code)


class UpstreamFailed(DomainError):
    """A dependency failed in an unexpected way: 502."""

    def __init__(
        self, zh: str = "内部服务出错", en: str = "an internal service failed", code: str = "upstream_failed"
    ) -> None:
        super().__init__(zh=zh, en=en, code=code)


class PayloadTooLarge(DomainError):
    """A request body over the route's cap: 413 (the body is not read further)."""

    def __init__(self, limit: int) -> None:
        mib = f"{limit / 1048576:.0f} MiB" if limit >= 1048576 else f"{limit} bytes"
        super().__init__(
            zh=f"请求体过大（上限 {mib}）", en=f"request body too large (limit {mib})", code="payload_too_large"
        )


class RateLimited(DomainError):
    """Too many requests: 429, with ``retry_after`` seconds sent as ``Retry-After``."""

    def __init__(self, retry_after: int) -> None:
        self.retry_after = max(1, retry_after)
        super().__init__(
            zh=f"请求过于频繁，请 {self.retry_after} 秒后重试",
            en=f"too many requests, retry in {self.retry_after} s",
            code="rate_limited",
        )


_STATUS: list[tuple[type[DomainError], int]] = [
    (ValidationFailed, 422),
    (NotFound, 404),
    (Forbidden, 403),
    (Gone, 410),
    (Conflict, 409),
    (Unauthenticated, 401),
    (ServiceUnavailable, 503),
    (UpstreamFailed, 502),
    (PayloadTooLarge, 413),
    (RateLimited, 429),
]


def status_of(err: DomainError) -> int:
    return next((status for cls, status in _STATUS if isinstance(err, cls)), 409)


def locale_from_header(value: str | None) -> str:
    """``en`` when the first language the client names is English, else ``zh``."""
    first = (value or "").split(",")[0].split(";")[0].strip().lower()
    return "en" if first.startswith("en") else "zh"


def request_locale(request: Request) -> str:
    locale = getattr(request.state, "locale", None)
    return locale or locale_from_header(request.headers.get("accept-language"))


def error_body(code: str, message: str, details: list[dict[str, str]] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": list(details or [])}}


def domain_response(err: DomainError, locale: str) -> JSONResponse:
    details = [{"field": v.field, "message": v.text(locale)} for v in err.violations]
    headers = {"WWW-Authenticate": "Bearer"} if isinstance(err, Unauthenticated) else None
    if isinstance(err, RateLimited):
        headers = {"Retry-After": str(err.retry_after)}
    return JSONResponse(error_body(err.code, err.text(locale), details), status_code=status_of(err), headers=headers)


def from_rpc_error(err: grpc.RpcError) -> DomainError:
    """A service's refusal as the DomainError it raised; transport failures as 503/502."""
    domain = to_domain_error(err)
    if domain is not None:
        return domain
    code = err.code() if hasattr(err, "code") else None
    if code in (
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.CANCELLED,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
    ):
        return ServiceUnavailable()
    return UpstreamFailed()


# ---- request validation (pydantic) -> 422 ----

# error type -> (zh, en); templates may use the error's ctx.
_MESSAGES: dict[str, tuple[str, str]] = {
    "missing": ("必填项", "field required"),
    "json_invalid": ("请求体不是合法的 JSON：{error}", "request body is not valid JSON: {error}"),
    "json_type": ("请求体必须是 JSON", "request body must be JSON"),
    "model_type": ("必须是 JSON 对象", "must be a JSON object"),
    "model_attributes_type": ("必须是 JSON 对象", "must be a JSON object"),
    "dict_type": ("必须是 JSON 对象", "must be a JSON object"),
    "list_type": ("必须是数组", "must be an array"),
    "string_type": ("必须是字符串", "must be a string"),
    "int_type": ("必须是整数", "must be an integer"),
    "int_parsing": ("必须是整数", "must be an integer"),
    "int_from_float": ("必须是整数", "must be an integer"),
    "float_type": ("必须是数字", "must be a number"),
    "float_parsing": ("必须是数字", "must be a number"),
    "bool_type": ("必须是布尔值", "must be a boolean"),
    "bool_parsing": ("必须是布尔值", "must be a boolean"),
    "literal_error": ("取值必须是 {expected} 之一", "must be one of {expected}"),
    "enum": ("取值必须是 {expected} 之一", "must be one of {expected}"),
    "string_too_short": ("长度不能少于 {min_length} 个字符", "must have at least {min_length} characters"),
    "string_too_long": ("长度不能超过 {max_length} 个字符", "must have at most {max_length} characters"),
    "too_short": ("至少需要 {min_length} 项", "must have at least {min_length} items"),
    "too_long": ("最多 {max_length} 项", "must have at most {max_length} items"),
    "greater_than": ("必须大于 {gt}", "must be greater than {gt}"),
    "greater_than_equal": ("不能小于 {ge}", "must be greater than or equal to {ge}"),
    "less_than": ("必须小于 {lt}", "must be less than {lt}"),
    "less_than_equal": ("不能大于 {le}", "must be less than or equal to {le}"),
    "string_pattern_mismatch": ("格式不正确", "has an invalid format"),
    "date_type": ("必须是 YYYY-MM-DD 格式的日期", "must be a date (YYYY-MM-DD)"),
    "date_parsing": ("必须是 YYYY-MM-DD 格式的日期", "must be a date (YYYY-MM-DD)"),
    "date_from_datetime_parsing": ("必须是 YYYY-MM-DD 格式的日期", "must be a date (YYYY-MM-DD)"),
    "date_from_datetime_inexact": ("必须是 YYYY-MM-DD 格式的日期", "must be a date (YYYY-MM-DD)"),
    "money_type": ("金额必须是数字或数字字符串", "amount must be a number or a decimal string"),
    "money_parsing": ("金额格式不正确", "amount is not a valid decimal number"),
    "money_negative": ("金额不能为负数", "amount must not be negative"),
    "money_range": ("金额超出允许范围", "amount out of range"),
    "extra_forbidden": ("不支持的字段", "unknown field"),
    "end_before_start": ("结束日期不能早于开始日期", "end date must not be before start date"),
    "approver_incomplete": ("审批人类型 {type} 需要填写 {field}", "approvers of type {type} need {field}"),
}
_SKIP_BODY_LOCS = {"body", "query", "path", "header", "cookie"}


def field_path(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = list(loc)
    if parts and parts[0] in _SKIP_BODY_LOCS:
        parts = parts[1:]
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif isinstance(part, str) and ("[" in part or part.startswith("function-")):
            continue  # validator / union tags pydantic adds to the location
        else:
            out += ("." if out else "") + str(part)
    return out


def _render(template: str, ctx: dict[str, Any]) -> str:
    try:
        return template.format(**ctx)
    except (KeyError, IndexError, ValueError):
        return template


def violation_of(error: dict[str, Any]) -> FieldViolation:
    kind = str(error.get("type", ""))
    ctx = {k: v for k, v in (error.get("ctx") or {}).items()}
    loc = tuple(error.get("loc") or ())
    path = "body" if kind in ("json_invalid", "json_type") else (field_path(loc) or "body")
    if kind in _MESSAGES:
        zh, en = (_render(t, ctx) for t in _MESSAGES[kind])
    else:
        en = str(error.get("msg") or "invalid value")
        zh = f"取值无效（{en}）"
    return FieldViolation(path, zh, en)


def validation_failed(errors: list[dict[str, Any]]) -> ValidationFailed:
    return ValidationFailed([violation_of(e) for e in errors])


# ---- handlers ----


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(request: Request, err: DomainError) -> JSONResponse:
        return domain_response(err, request_locale(request))

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, err: RequestValidationError) -> JSONResponse:
        return domain_response(validation_failed(list(err.errors())), request_locale(request))

    @app.exception_handler(grpc.RpcError)
    async def _rpc(request: Request, err: grpc.RpcError) -> JSONResponse:
        return domain_response(from_rpc_error(err), request_locale(request))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, err: StarletteHTTPException) -> Response:
        if err.status_code == 404 and (page := spa_fallback(request)) is not None:
            return page  # a web app route (history mode): index.html
        locale = request_locale(request)
        if err.status_code == 400:
            # FastAPI's "error parsing the body" (e.g. undecodable bytes): bad input, so 422.
            v = FieldViolation("body", "请求体无法解析", "the request body cannot be parsed")
            return domain_response(ValidationFailed([v]), locale)
        known = {
            404: ("not_found", "资源不存在", "not found"),
            405: ("method_not_allowed", "不支持该请求方法", "method not allowed"),
            413: ("payload_too_large", "请求体过大", "request body too large"),
            415: ("unsupported_media_type", "不支持的内容类型", "unsupported media type"),
        }
        code, zh, en = known.get(err.status_code, ("http_error", str(err.detail), str(err.detail)))
        return JSONResponse(
            error_body(code, en if locale == "en" else zh),
            status_code=err.status_code,
            headers=getattr(err, "headers", None),
        )

    @app.exception_handler(ValueError)
    async def _value(request: Request, err: ValueError) -> JSONResponse:
        # A number that passed the edge's checks but not a protobuf field's range (int32/int64):
        # bad input, not a failure. Schemas carry bounds; this is the net under them.
        if str(err).startswith("Value out of range"):
            log.warning("http.value_out_of_range", error=str(err)[:200])
            v = FieldViolation("body", "数值超出允许范围", "a number is out of range")
            return domain_response(ValidationFailed([v]), request_locale(request))
        return await _unexpected(request, err)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, err: Exception) -> JSONResponse:
        log.exception("http.unhandled", error=repr(err))
        locale = request_locale(request)
        return JSONResponse(
            error_body("internal", "Internal error" if locale == "en" else "服务器内部错误"),
            status_code=500,
        )
