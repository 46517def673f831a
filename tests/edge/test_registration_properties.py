"""Property-based test of ``POST /api/v1/projects`` over HTTP (hypothesis, in-process stack): any
JSON body — wrong types, missing or extra keys, odd strings, numbers where text is expected — is
answered 201 or a 4xx in the contract's error shape (422 with a field path per violation), never a
5xx; a refused request stores nothing, an accepted one stores exactly one project."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.edge.conftest import Org
from tests.policies import no_approval_policy

pytestmark = pytest.mark.asyncio(loop_scope="session")

FIELDS: list[dict[str, Any]] = [
    {"key": "phone", "label": "电话", "type": "phone", "required": True},
    {"key": "kind", "label": "类型", "type": "select", "options": ["新签", "续签"], "default": "新签"},
    {"key": "old", "label": "原合同号", "type": "text", "required_when": "fields.kind == '续签'",
     "pattern": r"HT-\d{3}", "max_length": 6},
    {"key": "tags", "label": "标签", "type": "multiselect", "options": ["甲", "乙"]},
    {"key": "seats", "label": "席位", "type": "number", "min": 1, "max": 500},
    {"key": "budget", "label": "预算", "type": "money", "min": 0},
    {"key": "start", "label": "开始", "type": "date"},
    {"key": "end", "label": "结束", "type": "date"},
    {"key": "mail", "label": "邮箱", "type": "email"},
    {"key": "credit", "label": "信用代码", "type": "uscc"},
    {"key": "sponsor", "label": "发起人", "type": "user"},
    {"key": "dept", "label": "部门", "type": "department"},
    {"key": "doc", "label": "附件", "type": "attachment"},
    {"key": "margin", "label": "毛利", "type": "money", "write_roles": ["finance"]},
]
FIELD_KEYS = [str(f["key"]) for f in FIELDS]
TOP_KEYS = ["form_key", "name", "customer", "amount", "region", "business_line", "start_date", "end_date",
            "fields", "submit"]
CODE = re.compile(r"^[a-z][a-z0-9_]*$")

json_scalars = (st.none() | st.booleans() | st.integers(-10**22, 10**22)
                | st.floats(allow_nan=False, allow_infinity=False)
                | st.text(max_size=25) | st.sampled_from(["", " ", "13700001111", "2026-02-30", "2026-05-01",
                                                          "91350100M000100Y43", "1e400", "-0.001", "12.345",
                                                          "新签", "续签", "HT-123", "a@b.cn", "sha256:00"]))
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=6)
customers = st.one_of(
    json_values,
    st.fixed_dictionaries({}, optional={"name": json_values | st.text(min_size=1, max_size=30),
                                        "uscc": json_values, "contact": json_values, "phone": json_values}),
)
form_fields = st.one_of(json_values, st.dictionaries(st.sampled_from(FIELD_KEYS) | st.text(max_size=6), json_values,
                                                     max_size=8))


printable = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zs", "Zl", "Zp")),
                    min_size=1, max_size=30)
iso_dates = st.dates().map(lambda d: d.isoformat())
valid_fields = st.fixed_dictionaries(
    {"phone": st.sampled_from(["13700001111", "19912345678"])},
    optional={"kind": st.just("新签"), "seats": st.integers(1, 500), "start": iso_dates, "mail": st.just("a@b.cn"),
              "budget": st.decimals(min_value=0, max_value=10**6, places=2).map(str),
              "tags": st.lists(st.sampled_from(["甲", "乙"]), unique=True)},
)


@st.composite
def bodies(draw: st.DrawFn, form: str) -> dict[str, Any]:
    """A valid body, then a few of its parts dropped or replaced by arbitrary JSON (maybe none)."""
    body: dict[str, Any] = draw(st.fixed_dictionaries(
        {"form_key": st.just(form), "name": printable, "customer": st.fixed_dictionaries({"name": printable}),
         "amount": st.decimals(min_value=0, max_value=10**9, places=2).map(str), "fields": valid_fields},
        optional={"region": printable, "business_line": printable, "start_date": iso_dates, "end_date": iso_dates,
                  "submit": st.booleans()},
    ))
    for key in draw(st.sets(st.sampled_from(TOP_KEYS), max_size=2)):
        body.pop(key, None)
    top = {"form_key": st.just(form) | json_values, "customer": customers, "fields": form_fields,
           "amount": st.decimals(min_value=-10, max_value=10**12, allow_nan=False).map(str) | json_values}
    for key in draw(st.sets(st.sampled_from([*TOP_KEYS, "extra"]), max_size=3)):
        body[key] = draw(top.get(key, json_values))
    if isinstance(body.get("fields"), dict):
        body["fields"].update(draw(st.dictionaries(st.sampled_from(FIELD_KEYS) | st.text(max_size=6), json_values,
                                                   max_size=3)))
    return body


async def count(client: httpx.AsyncClient, form: str) -> int:
    n, cursor = 0, None
    while True:
        params: dict[str, Any] = {"form_key": form, "limit": 200}
        if cursor:
            params["cursor"] = cursor
        r = await client.get("/api/v1/projects", params=params)
        assert r.status_code == 200, r.text
        n += len(r.json()["items"])
        cursor = r.json()["next_cursor"]
        if not cursor:
            return n


def check_error(r: httpx.Response) -> None:
    body = r.json()
    assert set(body) == {"error"}, body
    err = body["error"]
    assert CODE.match(err["code"]) and isinstance(err["message"], str) and err["message"], err
    assert isinstance(err.get("details", []), list)
    if r.status_code == 422:
        assert err["details"], err
        for d in err["details"]:
            assert isinstance(d["field"], str) and d["field"], err
            assert isinstance(d["message"], str) and d["message"], err
            head = re.split(r"[.\[]", d["field"], maxsplit=1)[0]
            assert head in (*TOP_KEYS, "body", "extra"), d


_forms: dict[tuple[str, str], str] = {}
_seen: dict[int, int] = {}


async def form_of(admin: httpx.AsyncClient, org: Org, kind: str) -> str:
    """One form per test (and org), created on the first example."""
    if (org.run, kind) not in _forms:
        form = f"{kind}-{org.run}-{uuid.uuid4().hex[:4]}"
        r = await admin.put(f"/api/v1/forms/{form}", json={"title": "属性测试", "fields": FIELDS})
        assert r.status_code == 200, r.text
        r = await admin.put(**no_approval_policy(form))  # `submit: true` bodies are approved at once
        assert r.status_code == 200, r.text
        _forms[(org.run, kind)] = form
    return _forms[(org.run, kind)]


PROPERTY = settings(max_examples=60, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@PROPERTY
@given(data=st.data(), lang=st.sampled_from(["zh", "en"]))
async def test_create_endpoint_is_total(admin: httpx.AsyncClient, org: Org, data: st.DataObject, lang: str) -> None:
    form = await form_of(admin, org, "prop")
    body = data.draw(bodies(form), label="body")
    before = await count(admin, form)
    r = await org["rep"].post("/api/v1/projects", json=body, headers={"Accept-Language": lang})
    _seen[r.status_code] = _seen.get(r.status_code, 0) + 1
    assert r.status_code == 201 or 400 <= r.status_code < 500, (r.status_code, r.text, body)
    after = await count(admin, form)
    if r.status_code == 201:
        assert set(r.json()) == {"id", "code", "status"}
        assert after == before + 1
    else:
        check_error(r)
        assert after == before, (r.text, body)


async def test_generator_reaches_refusals_and_acceptances() -> None:
    """The property above saw both outcomes (a generator that only produced 422s would prove little)."""
    if not _seen:
        pytest.skip("the property test did not run in this session")
    assert _seen.get(422) and _seen.get(201), _seen


@pytest.mark.parametrize("raw", [b'{"form_key": "x", "amount": NaN}', b'{"amount": Infinity}', b'{"name": -Infinity}',
                                 b'{"fields": {"seats": 1e999}}', b"[1, 2]", b'"text"', b"{", b"\xff\xfe", b""])
async def test_create_refuses_non_json_numbers_and_garbage(org: Org, raw: bytes) -> None:
    r = await org["rep"].post("/api/v1/projects", content=raw, headers={"content-type": "application/json"})
    assert r.status_code == 422, r.text
    check_error(r)


@settings(PROPERTY, max_examples=15)
@given(name=printable, customer=printable, amount=st.decimals(min_value=0, max_value=10**9, places=2),
       seats=st.integers(1, 500), start=st.dates().map(lambda d: d.isoformat()))
async def test_create_endpoint_accepts_generated_valid_bodies(
    admin: httpx.AsyncClient, org: Org, name: str, customer: str, amount: Any, seats: int, start: str
) -> None:
    """Valid bodies (random names, customers, amounts, dates) are all 201 and stored once each."""
    form = await form_of(admin, org, "propok")
    before = await count(admin, form)
    body = {"form_key": form, "name": name, "customer": {"name": customer}, "amount": str(amount),
            "start_date": start, "fields": {"phone": "13700001111", "seats": seats, "start": start}}
    r = await org["rep"].post("/api/v1/projects", json=body)
    assert r.status_code == 201, (r.text, body)
    assert await count(admin, form) == before + 1
