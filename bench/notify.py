"""Notification benchmark: a burst of notifications to 50 recipients across e-mail, DingTalk and
WeCom on a real ``baobei dev`` (its own SMTP sink; robots are the stand-ins of tests/standins,
which enforce the platforms' 20 messages/minute themselves).

    .venv/bin/python -m bench.notify [--n 1000] [--users 50] [--concurrency 20] [--timeout 600]

Setup over the public API: an org of ``--users`` users with e-mail and mobile (PUT /api/v1/org),
a DingTalk robot (signed) and a WeCom robot pointing at the stand-ins
(PUT /api/v1/notification-channels/{key}), per-user preferences spread over email / dingtalk /
wecom (every fifth user also gets e-mail besides a robot). Then ``--n`` notify.Send calls, one
recipient each, distinct request ids, ``--concurrency`` at a time, straight to the notify
service's gRPC address (BAOBEI_NOTIFY_ADDR). Each notification's title carries a marker
``[B<run>-<i>]`` so receivers can be checked for duplicates.

Prints a table: time to drain (every delivery delivered / digested, by GET
/api/v1/notification-deliveries), deliveries by final status, duplicates at the receivers
(e-mail by Message-ID and marker, robots by marker in the message text; must be 0), the most
messages a robot accepted in any 60 s (must be ≤ 20) and refusals by the robots' rate limit
(must be 0), digests sent. Exits 1 when a requirement is not met."""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import grpc
import httpx

from baobei.notify.v1 import notify_service_pb2 as npb
from baobei.notify.v1 import notify_service_pb2_grpc as npb_grpc
from cli.devstack import DevStack, launch, stack_env
from tests.standins import DingTalkStandIn, WeComStandIn

IN_FLIGHT = ("pending", "dispatched", "digest_waiting")
FINAL_OK = ("delivered", "digested")
DING_SECRET = "SEC" + uuid.uuid4().hex * 2
MARKER = re.compile(r"\[B([0-9a-f]{6})-(\d+)\]")


def setup(admin: httpx.Client, run: str, users: int, ding: DingTalkStandIn, wecom: WeComStandIn) -> list[str]:
    dept = f"bench-{run}"
    ids = [f"u{i:02d}-{run}" for i in range(users)]
    org = {
        "departments": [{"id": dept, "name": "压测部", "manager_id": ids[0]}],
        "users": [
            {"id": uid, "name": f"压测用户{i:02d}", "email": f"user{i:02d}.{run}@bench.example.com",
             "mobile": f"1380013{i:04d}", "department_id": dept, "roles": ["sales"]}
            for i, uid in enumerate(ids)
        ],
    }
    admin.put("/api/v1/org", json=org).raise_for_status()
    admin.put("/api/v1/notification-channels/dingtalk",
              json={"type": "dingtalk", "url": ding.url, "secret": DING_SECRET, "enabled": True}).raise_for_status()
    admin.put("/api/v1/notification-channels/wecom",
              json={"type": "wecom", "url": wecom.url, "enabled": True}).raise_for_status()
    spread = (["email"], ["dingtalk"], ["wecom"])
    for i, uid in enumerate(ids):
        channels = list(spread[i % 3])
        if i % 5 == 0 and "email" not in channels:
            channels.append("email")
        body: dict[str, Any] = {"channels": channels, "quiet_hours": None, "by_kind": {}}
        admin.put(f"/api/v1/users/{uid}/notification-preferences", json=body).raise_for_status()
    return ids


def burst(addr: str, run: str, users: list[str], n: int, concurrency: int, base: str) -> tuple[list[str], int]:
    """Send ``n`` notifications; returns the notification ids and the number of deliveries."""
    channel = grpc.insecure_channel(addr)
    stub = npb_grpc.NotifyServiceStub(channel)

    def one(i: int) -> npb.SendResponse:
        uid = users[i % len(users)]
        request = npb.SendRequest(
            request_id=f"bench-{run}-{i}",
            recipient_ids=[uid],
            kind="bench_notice",
            title=f"压测通知 [B{run}-{i}]",
            body=f"第 {i} 条压测通知，请忽略。",
        )
        if i % 4 == 0:  # some with a link: robots send cards
            request.action_urls[uid] = f"{base}/projects/bench-{run}-{i}"
        return stub.Send(request, timeout=60)

    try:
        with ThreadPoolExecutor(concurrency) as pool:
            responses = list(pool.map(one, range(n)))
    finally:
        channel.close()
    notifications = [x.id for r in responses for x in r.notifications]
    return notifications, sum(len(r.deliveries) for r in responses)


def in_flight(admin: httpx.Client) -> int:
    total = 0
    for status in IN_FLIGHT:
        resp = admin.get("/api/v1/notification-deliveries", params={"status": status, "limit": 500})
        resp.raise_for_status()
        total += len(resp.json()["items"])
    return total


def deliveries_of(admin: httpx.Client, notification_ids: list[str], concurrency: int) -> list[dict[str, Any]]:
    def one(nid: str) -> list[dict[str, Any]]:
        resp = admin.get("/api/v1/notification-deliveries", params={"notification_id": nid, "limit": 50})
        resp.raise_for_status()
        items: list[dict[str, Any]] = resp.json()["items"]
        return items

    with ThreadPoolExecutor(concurrency) as pool:
        return [d for items in pool.map(one, notification_ids) for d in items]


def wait_drained(admin: httpx.Client, started: float, timeout: float, say: Callable[[str], None]) -> float | None:
    last = -1
    while time.monotonic() - started < timeout:
        left = in_flight(admin)
        if left != last:
            say(f"  {time.monotonic() - started:6.1f}s  in flight: {left}")
            last = left
        if left == 0:
            return time.monotonic() - started
        time.sleep(0.5)
    return None


def markers(texts: list[str], run: str) -> Counter[int]:
    """How many messages mention each notification (a message's title and text count once)."""
    return Counter(i for t in texts for i in {int(m.group(2)) for m in MARKER.finditer(t) if m.group(1) == run})


def run_bench(
    stack: DevStack, args: argparse.Namespace, say: Callable[[str], None]
) -> tuple[list[tuple[str, Any]], bool]:
    run = uuid.uuid4().hex[:6]
    with DingTalkStandIn(secret=DING_SECRET) as ding, WeComStandIn() as wecom, stack.client() as admin:
        admin.timeout = httpx.Timeout(60)
        users = setup(admin, run, args.users, ding, wecom)
        say(f"org of {len(users)} users, robots and preferences set; sending {args.n} notifications …")
        started = time.monotonic()
        notifications, expected = burst(
            stack.env["BAOBEI_NOTIFY_ADDR"], run, users, args.n, args.concurrency, stack.base
        )
        sent_s = time.monotonic() - started
        say(f"  sent in {sent_s:.1f}s: {len(notifications)} notifications, {expected} external deliveries")
        drained = wait_drained(admin, started, args.timeout, say)
        final = deliveries_of(admin, notifications, args.concurrency)
        statuses = Counter(d["status"] for d in final)
        digests = {d["digest_id"] for d in final if d.get("digest_id")}
        mails = [m for m in stack.mails() if f"[B{run}-" in m["subject"]]
        mail_ids = Counter(m["message_id"] for m in mails)
        mail_markers = markers([m["subject"] for m in mails], run)
        mail_dup = max(sum(c - 1 for c in mail_ids.values()), sum(c - 1 for c in mail_markers.values()))
        robot_dup: dict[str, int] = {}
        for name, standin in (("dingtalk", ding), ("wecom", wecom)):
            counts = markers([r.text for r in standin.received], run)
            robot_dup[name] = max(sum(c - 1 for c in counts.values()), standin.duplicates)
        email_expected = sum(1 for d in final if d["channel"] == "email")
        windows = {"dingtalk": ding.max_in_window(60), "wecom": wecom.max_in_window(60)}
        refused = {"dingtalk": ding.rate_limited, "wecom": wecom.rate_limited}
        messages = {"dingtalk": len(ding.received), "wecom": len(wecom.received)}
        by_channel = Counter(d["channel"] for d in final)

    ok_final = statuses.get("delivered", 0) + statuses.get("digested", 0)
    rows: list[tuple[str, Any]] = [
        ("notifications sent (1 recipient each)", len(notifications)),
        ("recipients", args.users),
        ("send concurrency", args.concurrency),
        ("Send calls took", f"{sent_s:.1f} s"),
        ("external deliveries (email/dingtalk/wecom)",
         f"{expected} ({by_channel['email']}/{by_channel['dingtalk']}/{by_channel['wecom']})"),
        ("time to drain (all delivered/digested)", f"{drained:.1f} s" if drained is not None else "NOT DRAINED"),
        ("final statuses", ", ".join(f"{k}={v}" for k, v in sorted(statuses.items()))),
        ("digests (distinct digest ids)", len(digests)),
        ("robot messages dingtalk / wecom", f"{messages['dingtalk']} / {messages['wecom']}"),
        ("mails at the SMTP sink / e-mail deliveries", f"{len(mails)} / {email_expected}"),
        ("duplicates: e-mail", mail_dup),
        ("duplicates: dingtalk / wecom", f"{robot_dup['dingtalk']} / {robot_dup['wecom']}"),
        ("max messages in any 60 s: dingtalk / wecom (≤ 20)", f"{windows['dingtalk']} / {windows['wecom']}"),
        ("refused by robot rate limit: dingtalk / wecom", f"{refused['dingtalk']} / {refused['wecom']}"),
    ]
    good = (
        drained is not None
        and len(final) == expected
        and ok_final == expected
        and mail_dup == 0
        and not any(robot_dup.values())
        and all(w <= 20 for w in windows.values())
        and not any(refused.values())
        and len(mails) == email_expected
    )
    return rows, good


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds to wait for the drain")
    args = parser.parse_args()

    def say(text: str) -> None:
        print(text, flush=True)

    with tempfile.TemporaryDirectory() as tmp:
        env = stack_env()
        # The bench measures the production retry policy, not the test stack's quick one.
        for key in ("BAOBEI_DELIVERY_INITIAL_BACKOFF_SECONDS", "BAOBEI_DELIVERY_MAX_BACKOFF_SECONDS",
                    "BAOBEI_DELIVERY_MAX_ATTEMPTS"):
            env.pop(key, None)
        stack = launch(Path(tmp), env)
        try:
            rows, good = run_bench(stack, args, say)
        finally:
            stack.stop()
    width = max(len(r[0]) for r in rows)
    print(f"\n{'metric'.ljust(width)}  value")
    print(f"{'-' * width}  ------")
    for name, value in rows:
        print(f"{name.ljust(width)}  {value}")
    print("\nOK" if good else "\nFAILED: see the rows above")
    sys.exit(0 if good else 1)


if __name__ == "__main__":
    main()
