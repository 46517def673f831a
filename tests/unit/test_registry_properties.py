"""Property-based tests (hypothesis) over the registry validators: any input gives a clean value or
violations with field paths — never an exception — and normalisation is stable."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from services.registry import domain, forms, names
from services.registry.domain import Customer, ProjectInput
from services.registry.forms import FormDef, FormField, FormRule

FORM = FormDef(
    key="p", title="t", version=1,
    fields=(
        FormField("t", "文本", "text", required=True, max_length=20, pattern=r"[a-z]*"),
        FormField("n", "数", "number", min="0", max="100"),
        FormField("m", "额", "money"),
        FormField("d", "日", "date"),
        FormField("s", "选", "select", options=("a", "b"), default="a"),
        FormField("ms", "多", "multiselect", options=("a", "b")),
        FormField("p", "机", "phone", required_when="fields.s == 'b'"),
        FormField("e", "邮", "email", visible_when="has(fields.t)"),
        FormField("u", "码", "uscc"),
        FormField("usr", "人", "user"),
        FormField("att", "附", "attachment", accept=(".pdf",)),
    ),
    rules=(FormRule(expr="fields.n >= 1", field="fields.n", message="n 至少 1"),),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)
keys = st.sampled_from([f.key for f in FORM.fields] + ["zzz"])


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(keys, json_values, max_size=12))
def test_validate_values_total(values: dict[str, Any]) -> None:
    clean, violations = forms.validate_values(
        FORM, values, user_exists=lambda u: u == "alice", department_exists=lambda d: False,
        attachment=lambda a: ("x.pdf", "application/pdf", 1) if a == "ok" else None,
    )
    for v in violations:
        assert v.field.startswith("fields") and v.zh and v.en
    if not violations:
        assert set(clean) <= {f.key for f in FORM.fields}


@settings(max_examples=300, deadline=None)
@given(name=st.text(max_size=40), uscc=st.text(max_size=20), phone=st.text(max_size=15),
       amount=st.text(max_size=25), start=st.text(max_size=12), end=st.text(max_size=12),
       fields=st.dictionaries(keys, json_values, max_size=6))
def test_validate_project_total(name: str, uscc: str, phone: str, amount: str, start: str, end: str,
                                fields: dict[str, Any]) -> None:
    inp = ProjectInput(owner_id="o", form_key="p", name=name, customer=Customer(name=name, uscc=uscc, phone=phone),
                       amount=amount, start_date=start, end_date=end, fields=fields)
    valid, violations = domain.validate_project(inp, FORM, user_exists=lambda u: False,
                                                department_exists=lambda d: False)
    assert (valid is None) == bool(violations)
    for v in violations:
        assert v.field and v.zh


@given(st.text(max_size=40))
def test_normalisation_idempotent_and_width_insensitive(name: str) -> None:
    n = names.normalise_name(name)
    assert names.normalise_name(n) == names.normalise_name(n)
    full = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in name)
    assert names.normalise_name(full) == n


def test_normalisation_examples() -> None:
    same = ["杭州某某科技有限公司", "某某科技（杭州）有限公司", "浙江省杭州市某某科技股份有限公司", "某某科技 集团",
            "【杭州】某某科技有限责任公司"]
    assert {names.normalise_name(x) for x in same} == {"某某科技"}
    assert names.normalise_name("北京银行") == "北京银行"  # a place that is the name stays
    assert names.normalise_name("ＡＢＣ　Tech Co., Ltd.") == "abctech"
    assert names.similar(names.normalise_name("某某网络科技有限公司"), names.normalise_name("某某网络技术有限公司"))
    assert not names.similar("星河科技", "星辰科技")
