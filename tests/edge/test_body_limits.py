"""Issue 12 item 5: the edge authenticates before it reads a body (an anonymous caller gets a 401,
never validation details), and caps bodies per route with a 413 in the contract's error shape —
a declared Content-Length at once, a chunked body while it streams (never buffered whole)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx

from tests.edge.conftest import Org, Stack

MIB = 1024 * 1024
JSON = {"content-type": "application/json"}


class Feed:
    """A streamed (chunked, no Content-Length) body of ``chunks`` MiB; counts what was pulled."""

    def __init__(self, chunks: int, chunk: bytes = b"[" * MIB) -> None:
        self.chunks, self.chunk, self.pulled = chunks, chunk, 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for _ in range(self.chunks):
            self.pulled += 1
            yield self.chunk


def assert_error(r: httpx.Response, status: int, code: str) -> None:
    assert r.status_code == status, r.text
    body = r.json()
    assert body["error"]["code"] == code, body
    assert isinstance(body["error"]["message"], str) and isinstance(body["error"]["details"], list)


async def test_anonymous_caller_gets_401_before_any_body_validation(stack: Stack) -> None:
    async with stack.client(token=None) as anon:
        r = await anon.post("/api/v1/projects", content=b"{not json", headers={"content-type": "application/json"})
        assert_error(r, 401, "unauthenticated")
        assert "details" in r.json()["error"] and r.json()["error"]["details"] == []
        r = await anon.post("/api/v1/projects", json={"form_key": 7, "amount": "x"})
        assert_error(r, 401, "unauthenticated")
    async with stack.client(token="not-a-token") as bad:
        r = await bad.put("/api/v1/forms/x", json={"fields": "nope"})
        assert_error(r, 401, "unauthenticated")


async def test_anonymous_300_mib_stream_is_refused_unread(stack: Stack) -> None:
    feed = Feed(300)
    async with stack.client(token=None) as anon:
        r = await anon.post("/api/v1/projects", content=feed, headers={"content-type": "application/json"})
    assert_error(r, 401, "unauthenticated")
    assert feed.pulled == 0


async def test_declared_oversize_body_is_413_without_reading(stack: Stack, org: Org) -> None:
    r = await org["rep"].post(
        "/api/v1/projects", content=b" " * (MIB + 1), headers={"content-type": "application/json"}
    )
    assert_error(r, 413, "payload_too_large")
    r = await org["rep"].post(
        "/api/v1/projects", content=b" " * (MIB + 1), headers={**JSON, "Accept-Language": "en"}
    )
    assert "too large" in r.json()["error"]["message"]


async def test_chunked_body_is_cut_off_at_the_cap(stack: Stack, org: Org) -> None:
    # 300 MiB offered without Content-Length: the edge pulls just past the 1 MiB JSON cap.
    feed = Feed(300)
    r = await org["rep"].post("/api/v1/projects", content=feed, headers={"content-type": "application/json"})
    assert_error(r, 413, "payload_too_large")
    assert feed.pulled <= 2
    # The same for a form route outside /api/v1 (action link POST: it checks its token first, so
    # a bad link may answer 403 before reading at all) and a multipart upload.
    form = {"content-type": "application/x-www-form-urlencoded"}
    feed = Feed(300, b"a" * MIB)
    async with stack.client(token=None) as anon:
        r = await anon.post("/a/some-token", content=feed, headers=form)
        assert r.status_code in (403, 413)
        assert feed.pulled <= 2
        r = await anon.post("/a/some-token", content=b"a" * (MIB + 1), headers=form)
        assert_error(r, 413, "payload_too_large")
    feed = Feed(300, b"a" * MIB)
    r = await org["rep"].post(
        "/api/v1/attachments", content=feed, headers={"content-type": "multipart/form-data; boundary=xyz"}
    )
    assert_error(r, 413, "payload_too_large")
    assert feed.pulled <= 27  # the upload cap: 25 MiB


async def test_caps_are_per_route(stack: Stack, org: Org) -> None:
    # 2 MiB: too big for a JSON route, fine for an upload (files up to 20 MB).
    data = b"x" * (2 * MIB)
    r = await org["rep"].post("/api/v1/attachments", files={"file": ("说明.txt", data, "text/plain")})
    assert r.status_code == 201, r.text
    r = await org["rep"].post(
        "/api/v1/projects/p/follow-ups", content=b'{"note": "' + data + b'"}', headers=JSON
    )
    assert_error(r, 413, "payload_too_large")
    # The org directory (a whole company) is an import: 2 MiB of it passes the size check.
    r = await stack.client().put(
        "/api/v1/org", content=b'{"departments": [], "users": [], "padding": "' + data + b'"}',
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 200, r.text[:300]


async def test_authenticated_small_bodies_are_validated_as_before(org: Org) -> None:
    r = await org["rep"].post("/api/v1/projects", content=b"{not json", headers={"content-type": "application/json"})
    assert_error(r, 422, "validation_failed")
    assert r.json()["error"]["details"][0]["field"] == "body"
