"""Sign-in and identity benchmark.

1. argon2id with the default parameters (m=19 MiB, t=2, p=1): hash and verify, in-process.
2. On a real ``baobei dev`` (private ports, embedded defaults): an org of ``--people`` users with
   Chinese names; one account set up through an invite link; then, one call at a time,
   ``POST /auth/login`` (a new session each), ``GET /api/v1/me`` with the session cookie and with
   a bearer token, a state-changing call with the cookie + CSRF token, and people-picker searches
   (``GET /api/v1/users?q=``) by pinyin initials, full pinyin and characters.

    .venv/bin/python -m bench.signin [--people 5000] [--rounds 200] [--skip-http]

Prints a table."""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx

from services.registry.accounts.hashing import Hasher

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志红梅玉兰海燕"
PASSWORD = "柳暗花明又一村-2031"


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def bench_argon2(rounds: int = 20) -> tuple[float, float]:
    hasher = Hasher()
    started = time.perf_counter()
    hashes = [hasher.hash(PASSWORD) for _ in range(rounds)]
    hash_ms = (time.perf_counter() - started) * 1000 / rounds
    started = time.perf_counter()
    for h in hashes:
        assert hasher.verify(h, PASSWORD)
    return hash_ms, (time.perf_counter() - started) * 1000 / rounds


async def timed(n: int, call: Callable[[int], Awaitable[httpx.Response]], ok: int = 200) -> list[float]:
    out = []
    for i in range(n):
        started = time.perf_counter()
        r = await call(i)
        out.append((time.perf_counter() - started) * 1000)
        assert r.status_code == ok, r.text
    return out


async def bench_http(base: str, token: str, people: int, rounds: int) -> dict[str, list[float]]:
    rnd = random.Random(13)
    users = [{"id": f"p{i:05d}", "name": rnd.choice(SURNAMES) + "".join(rnd.choices(GIVEN, k=rnd.choice((1, 2)))),
              "department_id": f"d{i % 50:02d}", "roles": ["sales"]} for i in range(people)]
    users[0].update(name="张三丰", email="zsf@example.com")
    admin = httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60)
    async with admin:
        depts = [{"id": f"d{i:02d}", "name": f"销售{i}部"} for i in range(50)]
        for start in range(0, people, 1000):
            r = await admin.put("/api/v1/org", json={"departments": depts, "users": users[start:start + 1000]})
            assert r.status_code == 200, r.text
        invite = (await admin.post("/api/v1/users/p00000/invite")).json()["url"]
        setup = parse_qs(urlsplit(invite).query)["token"][0]
        async with httpx.AsyncClient(base_url=base, timeout=60) as b:
            r = await b.post("/auth/password/setup", json={"token": setup, "password": PASSWORD})
            assert r.status_code == 200, r.text
        bearer = (await admin.post("/api/v1/users/p00000/tokens")).json()["token"]

    out: dict[str, list[float]] = {}
    async with httpx.AsyncClient(base_url=base, timeout=60) as browser:
        out["login"] = await timed(rounds, lambda i: browser.post("/auth/login", json={
            "login": "zsf@example.com", "password": PASSWORD}))
        r = await browser.post("/auth/login", json={"login": "p00000", "password": PASSWORD})
        csrf = r.json()["csrf_token"]
        out["me (cookie)"] = await timed(rounds, lambda i: browser.get("/api/v1/me"))
        out["mark notifications read (cookie + CSRF)"] = await timed(rounds, lambda i: browser.post(
            "/api/v1/me/notifications/read-all", headers={"X-CSRF-Token": csrf}))
        for label, q in (("search initials 'zs'", "zs"), ("search pinyin 'zhang'", "zhang"),
                         ("search characters '王'", "王")):
            def search(i: int, q: str = q) -> Awaitable[httpx.Response]:
                return browser.get("/api/v1/users", params={"q": q, "limit": 20})

            out[label] = await timed(rounds, search)
    async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {bearer}"}, timeout=60) as api:
        out["me (bearer token)"] = await timed(rounds, lambda i: api.get("/api/v1/me"))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--skip-http", action="store_true")
    args = parser.parse_args()
    hash_ms, verify_ms = bench_argon2()
    rows = [("argon2id hash (m=19 MiB, t=2, p=1)", f"{hash_ms:.1f}", "ms"),
            ("argon2id verify", f"{verify_ms:.1f}", "ms")]
    if not args.skip_http:
        from cli.devstack import launch, stack_env

        with tempfile.TemporaryDirectory() as tmp:
            stack = launch(Path(tmp), stack_env())
            try:
                timings = asyncio.run(bench_http(stack.base, stack.token, args.people, args.rounds))
            finally:
                stack.stop()
        rows.append(("org size (people)", str(args.people), ""))
        for name, values in timings.items():
            rows.append((f"{name} p50 / p99", f"{statistics.median(values):.1f} / {pct(values, 0.99):.1f}", "ms"))
    width = max(len(r[0]) for r in rows)
    print(f"{'metric'.ljust(width)}  value")
    print(f"{'-' * width}  ------")
    for name, value, unit in rows:
        print(f"{name.ljust(width)}  {value} {unit}".rstrip())


if __name__ == "__main__":
    main()
