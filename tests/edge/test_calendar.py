"""The company calendar over HTTP: admins replace the overrides (per year), everyone signed in
reads them, bad entries are refused naming the entry. Years far ahead only: the stack is shared
and the current years' calendar counts for every other test's SLAs."""

from __future__ import annotations

import httpx
import pytest

from tests.edge.conftest import Org

pytestmark = pytest.mark.asyncio(loop_scope="session")
URL = "/api/v1/calendar/overrides"


async def test_admin_replaces_a_year_and_everyone_reads_it(admin: httpx.AsyncClient, org: Org) -> None:
    body = {"overrides": [
        {"date": "2098-05-04", "kind": "holiday", "name": "司庆"},
        {"date": "2098-05-09", "kind": "workday", "name": "司庆补班"},
    ]}
    r = await admin.put(URL, params={"year": 2098}, json=body)
    assert r.status_code == 200, r.text
    assert [o["date"] for o in r.json()["overrides"]] == ["2098-05-04", "2098-05-09"]
    r = await org["rep"].get(URL, params={"year": 2098})
    assert r.status_code == 200 and r.json() == {"overrides": [
        {"date": "2098-05-04", "kind": "holiday", "name": "司庆"},
        {"date": "2098-05-09", "kind": "workday", "name": "司庆补班"},
    ]}
    assert (await org["rep"].put(URL, params={"year": 2098}, json={"overrides": []})).status_code == 403
    # A repeat with one day less replaces the year.
    r = await admin.put(URL, params={"year": 2098}, json={"overrides": body["overrides"][:1]})
    assert [o["date"] for o in r.json()["overrides"]] == ["2098-05-04"]
    assert (await admin.put(URL, params={"year": 2098}, json={"overrides": []})).json() == {"overrides": []}


@pytest.mark.parametrize(("entries", "fields"), [
    ([{"date": "2098-02-30", "kind": "holiday"}], ["overrides[0].date"]),
    ([{"date": "2098-01-01", "kind": "holiday"}, {"date": "2098/1/2", "kind": "holiday"}], ["overrides[1].date"]),
    ([{"date": "2098-01-01", "kind": "holiday"}, {"date": "2098-01-01", "kind": "workday"}], ["overrides[1].date"]),
    ([{"date": "2098-01-01", "kind": "vacation"}], ["overrides[0].kind"]),
    ([{"date": "2097-12-31", "kind": "holiday"}], ["overrides[0].date"]),  # outside ?year=2098
    ([{"kind": "holiday"}], ["overrides[0].date"]),
    ([{"date": 20980101, "kind": "holiday"}], ["overrides[0].date"]),
])
async def test_bad_entries_are_refused_naming_them(
    admin: httpx.AsyncClient, entries: list[dict[str, object]], fields: list[str]
) -> None:
    r = await admin.put(URL, params={"year": 2098}, json={"overrides": entries})
    assert r.status_code == 422, r.text
    assert [d["field"] for d in r.json()["error"]["details"]] == fields


async def test_bad_year_and_body(admin: httpx.AsyncClient) -> None:
    assert (await admin.get(URL, params={"year": "abc"})).status_code == 422
    assert (await admin.get(URL, params={"year": 1})).status_code == 422
    r = await admin.put(URL, json={"overrides": "2098-01-01"})
    assert r.status_code == 422 and r.json()["error"]["details"][0]["field"] == "overrides"
