"""Jinja2 templates: built-in defaults, sandbox, autoescape, validation naming the field."""

from __future__ import annotations

import pytest

from baobei.core.errors import ValidationFailed
from services.notify import templates

CTX = {
    "title": "待审批：<园区>项目",
    "body": "第一行\n第二行",
    "action_url": "https://baobei.example.com/a/tok",
    "recipient_id": "u1",
    "recipient_name": "李四",
    "code": "P-1",
    "amount": "100.00",
}


@pytest.mark.parametrize("kind", sorted(templates.BUILTINS))
def test_every_builtin_renders_all_parts(kind: str) -> None:
    t = templates.BUILTINS[kind]
    assert t.builtin and templates.validate(t) is t
    r = templates.render(t, CTX)
    assert r.title == "待审批：<园区>项目"
    assert "李四，您好" in r.text and "第二行" in r.text and "https://baobei.example.com/a/tok" in r.text
    assert "项目编号：P-1" in r.text and "客户：" not in r.text  # missing optional keys render nothing
    assert "&lt;园区&gt;" in r.html and "<园区>" not in r.html  # HTML autoescaped
    assert "第一行<br>" in r.html and 'href="https://baobei.example.com/a/tok"' in r.html
    assert r.markdown.startswith("### 待审批：<园区>项目") and "(https://baobei.example.com/a/tok)" in r.markdown


def test_effective_prefers_admin_then_builtin_then_default() -> None:
    mine = templates.Template("approval_request", "审批 {{ code }}", "t")
    fallback = templates.Template("default", "通用 {{ title }}", "t")
    assert templates.effective("approval_request", {"approval_request": mine}) is mine
    assert templates.effective("approval_request", {}).builtin
    assert templates.effective("rule.x", {}) is templates.BUILTINS["default"]
    assert templates.effective("rule.x", {"default": fallback}) is fallback


def test_derived_html_and_markdown_when_empty() -> None:
    r = templates.render(templates.Template("k", "{{ title }}", "你好 {{ recipient_name }}\n<b>x</b>"), CTX)
    assert r.html == "你好 李四<br>\n&lt;b&gt;x&lt;/b&gt;"
    assert r.markdown == "### 待审批：<园区>项目\n\n你好 李四\n<b>x</b>"


def fields(t: templates.Template) -> list[str]:
    with pytest.raises(ValidationFailed) as err:
        templates.validate(t)
    return [v.field for v in err.value.violations]


def test_validation_names_each_failing_field() -> None:
    assert fields(templates.Template("k", "{{ title ", "ok", html="{% for %}", markdown="fine")) == [
        "template.title", "template.html"]
    assert fields(templates.Template("k", "", "")) == ["template.title", "template.text"]
    # compiles, fails when rendered with the sample context
    assert fields(templates.Template("k", "{{ title }}", "{{ 1 / 0 }}")) == ["template.text"]
    assert fields(templates.Template("k", "t", "{{ amount | no_such_filter }}")) == ["template.text"]


def test_sandbox_refuses_unsafe_attribute_access() -> None:
    evil = "{{ title.__class__.__mro__[1].__subclasses__() }}"
    assert fields(templates.Template("k", "t", evil)) == ["template.text"]
