"""Issue 12 item 6: hostile JSON is a 4xx in the contract's shape, never a 500 — a deeply nested
body (before and after auth), numbers no field can hold (``1e999999999``, 10^10000, NaN) named by
their field, without writing their digits out."""

from __future__ import annotations

import time

import httpx

from edge import json_body
from tests.edge.conftest import Org, Stack

JSON = {"content-type": "application/json"}


def violation_fields(r: httpx.Response) -> list[str]:
    assert r.status_code == 422, r.text[:500]
    return [d["field"] for d in r.json()["error"]["details"]]


async def test_deeply_nested_body_is_422_not_500(stack: Stack, org: Org) -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    async with stack.client(token=None) as anon:
        r = await anon.post("/api/v1/projects", content=deep, headers=JSON)
        assert r.status_code == 401
    for body in (deep, b'{"fields": ' + b'{"a": ' * 5000 + b"1" + b"}" * 5001, b"[" * 70 + b"]" * 70):
        r = await org["rep"].post("/api/v1/projects", content=body, headers=JSON)
        assert violation_fields(r) == ["body"]
        assert r.json()["error"]["code"] == "validation_failed"
    # With an Idempotency-Key (the body is fingerprinted too) and on a PUT.
    r = await org["rep"].post("/api/v1/projects", content=deep, headers={**JSON, "Idempotency-Key": "deep"})
    assert violation_fields(r) == ["body"]
    r = await stack.client().put("/api/v1/forms/deep", content=deep, headers=JSON)
    assert violation_fields(r) == ["body"]
    # Moderate nesting inside free-form fields is fine (422 only for the registry's own checks).
    r = await org["rep"].post("/api/v1/projects", json={"form_key": "none", "fields": {"a": [[[{"b": 1}]]]}})
    assert r.status_code in (404, 422)


async def test_huge_numbers_are_422_naming_the_field(stack: Stack, org: Org) -> None:
    started = time.perf_counter()
    for number, path in (
        (b"1e999999999", "amount"),
        (b"-1e999999999", "amount"),
        (b"1e-999999999", "amount"),
        (b"1" + b"0" * 10000, "amount"),
        (b"NaN", "amount"),
        (b"Infinity", "amount"),
    ):
        body = b'{"form_key": "f", "name": "n", "customer": {"name": "c"}, "amount": ' + number + b"}"
        r = await org["rep"].post("/api/v1/projects", content=body, headers=JSON)
        assert violation_fields(r) == [path], number[:20]
    # Nested paths, several at once.
    body = b'{"name": "t", "estimate_hours": 1e400, "depends_on": [{"task_id": "x", "lag_days": 99999999999999999999}]}'
    r = await org["rep"].post("/api/v1/projects/p/tasks", content=body, headers=JSON)
    assert violation_fields(r) == ["depends_on[0].lag_days", "estimate_hours"]
    # The same number as a string, where a money field parses it.
    r = await stack.client().post(
        "/api/v1/projects/p/costs", json={"kind": "expense", "amount": "1e999999999", "date": "2026-01-05"}
    )
    assert r.status_code in (404, 422)
    r = await stack.client().put("/api/v1/projects/p/budget", json={"budget": "1e999999999"})
    assert r.status_code in (404, 422)
    assert time.perf_counter() - started < 20  # nothing wrote a gigabyte of digits


def test_parser_unit() -> None:
    assert json_body.parse(b'{"a": 1.50, "b": [1, 2]}') == {"a": json_body.Decimal("1.50"), "b": [1, 2]}
    assert json_body.parse(b"9223372036854775807") == 2**63 - 1
    for text in (b"9223372036854775808", b"1e19", b"1" + b"0" * 5000, b"[NaN]", b'{"x": -Infinity}'):
        try:
            json_body.parse(text)
        except json_body.ValidationFailed as err:
            assert err.violations[0].text("en") == "number out of range"
        else:
            raise AssertionError(text)
    try:
        json_body.parse(b'{"a":' * 10 + b"[" * 60 + b"]" * 60 + b"}" * 10)
    except json_body.ValidationFailed as err:
        assert err.violations[0].field == "body"
    else:
        raise AssertionError("depth")
