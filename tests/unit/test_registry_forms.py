"""Form definitions and field-value validation."""

from __future__ import annotations

from typing import Any

import pytest

from services.registry import forms
from services.registry.forms import FormDef, FormField


def paths(violations: list[Any]) -> list[str]:
    return [v.field for v in violations]


def test_valid_form_definition() -> None:
    fields = [
        FormField("industry", "行业", "select", options=("a", "b")),
        FormField("budget", "预算", "money", min="0", max="1000000.00"),
        FormField("kickoff", "启动", "date", min="2026-01-01", max="2026-12-31"),
        FormField("code", "编码", "text", min_length=2, max_length=8, pattern=r"[A-Z]+\d*"),
    ]
    assert forms.validate_form("standard-v2_x", "标准表单", fields) == []


def test_form_definition_violations() -> None:
    fields = [
        FormField("a", "A", "text"),
        FormField("a", "dup", "text"),  # 1: duplicate key
        FormField("b", "B", "colour"),  # 2: unknown type
        FormField("c", "C", "select"),  # 3: no options
        FormField("d", "D", "text", pattern="(unclosed"),  # 4
        FormField("e", "E", "number", min="10", max="1"),  # 5
        FormField("f", "F", "text", min_length=5, max_length=2),  # 6
        FormField("g", "G", "date", min="not-a-date"),  # 7
        FormField("h", "H", "text", min="1"),  # 8: bounds on text
        FormField("", "I", "text"),  # 9
        FormField("has space", "J", "text"),  # 10
    ]
    got = paths(forms.validate_form("Bad Key", " ", fields))
    assert got == ["key", "title", "fields[1].key", "fields[2].type", "fields[3].options", "fields[4].pattern",
                   "fields[5].min", "fields[6].min_length", "fields[7].min", "fields[8].min", "fields[9].key",
                   "fields[10].key"]
    assert paths(forms.validate_form("ok", "t", [])) == ["fields"]


@pytest.mark.parametrize("key", ["a", "0abc", "std_form-1"])
def test_form_key_ok(key: str) -> None:
    assert forms.validate_form(key, "t", [FormField("x")]) == []


@pytest.mark.parametrize("key", ["", "_x", "-x", "Abc", "a.b", "中文"])
def test_form_key_bad(key: str) -> None:
    assert paths(forms.validate_form(key, "t", [FormField("x")])) == ["key"]


FORM = FormDef(
    key="all", title="all types", version=3,
    fields=(
        FormField("t", "文本", "text", required=True, min_length=2, max_length=5),
        FormField("ta", "长文本", "textarea"),
        FormField("n", "数量", "number", min="1", max="10"),
        FormField("m", "金额", "money", min="0", max="100.00"),
        FormField("d", "日期", "date", min="2026-01-01"),
        FormField("s", "选择", "select", options=("x", "y")),
        FormField("ms", "多选", "multiselect", options=("x", "y", "z"), max_length=2),
        FormField("p", "手机", "phone"),
        FormField("e", "邮箱", "email"),
        FormField("u", "信用代码", "uscc"),
        FormField("usr", "用户", "user"),
        FormField("dep", "部门", "department"),
        FormField("att", "附件", "attachment"),
        FormField("pat", "编号", "text", pattern=r"PO-\d{4}"),
    ),
)


def check(values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    clean, violations = forms.validate_values(
        FORM, values, user_exists=lambda u: u == "alice", department_exists=lambda d: d == "sales",
        attachment=lambda a: ("1.pdf", "application/pdf", 10) if a == "files/1.pdf" else None,
    )
    return clean, {v.field: v.en for v in violations}


def test_all_types_valid_and_normalised() -> None:
    clean, problems = check({
        "t": " abc ", "ta": "long", "n": 3.0, "m": 12.5, "d": "2026-02-01", "s": "x", "ms": ["x", "z"],
        "p": "13800138000", "e": "a@b.cn", "u": "91350100m000100y43", "usr": "alice", "dep": "sales",
        "att": "files/1.pdf", "pat": "PO-1234", "ta2": None,
    })
    assert problems == {"fields.ta2": "unknown field ta2"}
    assert clean["m"] == "12.50"
    assert clean["n"] == 3
    assert clean["t"] == "abc"
    assert clean["u"] == "91350100M000100Y43"
    assert clean["ms"] == ["x", "z"]


def test_every_type_rejects_bad_values() -> None:
    _, problems = check({
        "t": "a", "ta": 5, "n": "11", "m": "1.001", "d": "2025-12-31", "s": "q", "ms": ["x", "y", "z"],
        "p": "23800138000", "e": "not-mail", "u": "91350100M000100Y44", "usr": "bob", "dep": "hr", "att": 7,
        "pat": "PO-12345",
    })
    assert set(problems) == {f"fields.{k}" for k in
                             ("t", "ta", "n", "m", "d", "s", "ms", "p", "e", "u", "usr", "dep", "att", "pat")}
    assert "at least 2" in problems["fields.t"]
    assert "at most 10" in problems["fields.n"]
    assert "2 decimal" in problems["fields.m"]
    assert "at least 2026-01-01" in problems["fields.d"]
    assert "at most 2" in problems["fields.ms"]
    assert "unknown user" in problems["fields.usr"]
    assert "pattern" in problems["fields.pat"]


def test_required_and_empty_values() -> None:
    _, problems = check({})
    assert problems == {"fields.t": "文本 is required"}
    clean, problems = check({"t": "ok", "s": "", "ms": [], "n": None})
    assert problems == {} and clean == {"t": "ok"}


def test_type_mismatches() -> None:
    _, problems = check({"t": ["a"], "n": "abc", "m": True, "ms": "x", "d": 20260101})
    assert set(problems) == {"fields.t", "fields.n", "fields.m", "fields.ms", "fields.d"}


def test_written_forbidden() -> None:
    form = FormDef("f", "t", (FormField("price", write_roles=("finance", "admin")), FormField("free")))
    got = forms.written_forbidden(form, {"price": "1", "free": "x"}, {"sales"})
    assert paths(got) == ["fields.price"]
    assert forms.written_forbidden(form, {"price": "1"}, {"finance"}) == []
    assert forms.written_forbidden(form, {"price": ""}, set()) == []
