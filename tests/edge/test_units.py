"""Pure pieces of the edge: field paths, locales, money parsing, update-failure mapping."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import TypeAdapter, ValidationError
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from baobei.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from edge.errors import ServiceUnavailable, UpstreamFailed, field_path, locale_from_header, violation_of
from edge.lifecycle import update_error
from edge.schemas import Money


@pytest.mark.parametrize(
    ("loc", "path"),
    [
        (("body", "customer", "name"), "customer.name"),
        (("body", "steps", 0, "approvers"), "steps[0].approvers"),
        (("query", "limit"), "limit"),
        (("body", "amount", "function-before[parse_money(), str]"), "amount"),
        (("body",), ""),
    ],
)
def test_field_path(loc: tuple[object, ...], path: str) -> None:
    assert field_path(loc) == path


@pytest.mark.parametrize(
    ("header", "locale"),
    [(None, "zh"), ("", "zh"), ("en", "en"), ("en-US,en;q=0.9", "en"), ("zh-CN,zh;q=0.9,en;q=0.8", "zh"), ("fr", "zh")],
)
def test_locale(header: str | None, locale: str) -> None:
    assert locale_from_header(header) == locale


def test_money_keeps_exact_text() -> None:
    money = TypeAdapter(Money)
    assert money.validate_python("12345.60") == "12345.60"
    assert money.validate_python(Decimal("1234567890123456.78")) == "1234567890123456.78"
    assert money.validate_python(0) == "0"
    assert money.validate_python("-0") == "0"
    assert money.validate_python(12.5) == "12.5"
    for bad, kind in (
        ("-1", "money_negative"),
        ("abc", "money_parsing"),
        ("NaN", "money_parsing"),
        (True, "money_type"),
    ):
        with pytest.raises(ValidationError) as info:
            money.validate_python(bad)
        assert info.value.errors()[0]["type"] == kind


def test_violation_messages() -> None:
    v = violation_of({"type": "missing", "loc": ("body", "customer", "name"), "msg": "Field required"})
    assert (v.field, v.zh, v.en) == ("customer.name", "必填项", "field required")
    v = violation_of(
        {"type": "literal_error", "loc": ("body", "mode"), "msg": "x", "ctx": {"expected": "'any' or 'all'"}}
    )
    assert v.en == "must be one of 'any' or 'all'"
    v = violation_of({"type": "something_new", "loc": ("body", "x"), "msg": "Odd value"})
    assert v.en == "Odd value" and "Odd value" in v.zh


def _failed(
    err_type: str, message: str = "m", violations: list[dict[str, str]] | None = None
) -> WorkflowUpdateFailedError:
    return WorkflowUpdateFailedError(ApplicationError(message, violations or [], type=err_type, non_retryable=True))


def test_update_errors_map_to_domain_errors() -> None:
    e = update_error(_failed("validation_failed", "bad", [{"field": "fields.phone", "message": "手机号格式不正确"}]))
    assert isinstance(e, ValidationFailed) and e.violations[0].field == "fields.phone"
    assert isinstance(update_error(_failed("not_found")), NotFound)
    assert isinstance(update_error(_failed("forbidden")), Forbidden)
    assert isinstance(update_error(_failed("conflict", "已处理")), Conflict)
    assert update_error(_failed("conflict", "已处理")).zh == "已处理"
    assert isinstance(update_error(_failed("unavailable")), ServiceUnavailable)
    assert isinstance(update_error(_failed("SomethingElse")), UpstreamFailed)
