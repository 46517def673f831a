"""The first admin on a real ``baobei dev`` (issue 13): the ready message says how to sign in and
how to create the first admin; ``baobei create-admin`` gives a link; the admin sets a password,
signs in with the cookie session and invites a colleague, whose invitation e-mail (through the
SMTP sink) carries a working single-use link."""

from __future__ import annotations

import re
import subprocess
import sys
import time
import uuid
from typing import Any

import httpx

from cli.devstack import ROOT, DevStack

PASSWORD = "晴天 sunny morning 2031"


def create_admin(stack: DevStack, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cli.main", "create-admin", *args], cwd=ROOT, env=stack.env,
                          input=stdin, capture_output=True, text=True, timeout=120)


def link_in(text: str) -> str:
    found = re.search(r"(https?://\S+/auth/password/setup\?token=[A-Za-z0-9_\-%]+)", text)
    assert found, text
    return found.group(1)


def test_first_admin_signs_in_and_invites_a_colleague(dev_stack: DevStack) -> None:
    deadline = time.monotonic() + 30  # the lines after "ready" arrive a moment later
    while not any("create-admin" in line for line in dev_stack.output) and time.monotonic() < deadline:
        time.sleep(0.1)
    ready = "\n".join(dev_stack.output)
    assert f"sign in: {dev_stack.base}/signin" in ready and "baobei create-admin" in ready, ready
    run = uuid.uuid4().hex[:8]
    admin_id, colleague = f"root{run}", f"mate{run}"

    done = create_admin(dev_stack, "--id", admin_id)
    assert done.returncode == 2 and "--name" in done.stderr  # a new user needs a name
    done = create_admin(dev_stack, "--id", admin_id, "--name", "首位管理员", "--email", f"root{run}@example.com")
    assert done.returncode == 0, done.stdout + done.stderr
    url = link_in(done.stdout)
    assert url.startswith(f"{dev_stack.base}/auth/password/setup?token=")

    with httpx.Client(base_url=dev_stack.base, timeout=30) as browser:
        page = browser.get(url)
        assert page.status_code == 200 and "首位管理员" in page.text
        token = url.split("token=", 1)[1]
        r = browser.post("/auth/password/setup", json={"token": token, "password": PASSWORD})
        assert r.status_code == 200 and r.json()["user"]["is_admin"], r.text
        csrf = {"X-CSRF-Token": r.json()["csrf_token"]}
        assert browser.get("/api/v1/me").json()["user"]["id"] == admin_id
        r = browser.put("/api/v1/org", json={"users": [
            {"id": colleague, "name": "同事", "email": f"mate{run}@example.com", "roles": ["sales"]}]}, headers=csrf)
        assert r.status_code == 200, r.text
        r = browser.post(f"/api/v1/users/{colleague}/invite", headers=csrf)
        assert r.status_code == 201 and r.json()["emailed"], r.text

    mail = wait_for_mail(dev_stack, f"mate{run}@example.com")
    assert mail["subject"] == "请设置您的报备系统密码" and "设置密码" in mail["text"], mail["text"]
    invited = link_in(mail["text"])
    with httpx.Client(base_url=dev_stack.base, timeout=30) as browser:
        r = browser.post("/auth/password/setup", json={"token": invited.split("token=", 1)[1], "password": PASSWORD})
        assert r.status_code == 200 and r.json()["user"]["id"] == colleague, r.text
        r = browser.post("/auth/login", json={"login": f"MATE{run}@example.com", "password": PASSWORD})
        assert r.status_code == 200, r.text

    # --password-stdin sets it directly (and the policy applies)
    weak = create_admin(dev_stack, "--id", admin_id, "--password-stdin", stdin="password123\n")
    assert weak.returncode == 1 and "password" in weak.stderr, weak.stdout + weak.stderr
    done = create_admin(dev_stack, "--id", admin_id, "--password-stdin", stdin="another long passphrase 9\n")
    assert done.returncode == 0 and "password set" in done.stdout, done.stdout + done.stderr
    with httpx.Client(base_url=dev_stack.base, timeout=30) as browser:
        r = browser.post("/auth/login", json={"login": admin_id, "password": "another long passphrase 9"})
        assert r.status_code == 200, r.text


def wait_for_mail(stack: DevStack, to: str, timeout: float = 60.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        found = [m for m in stack.mails() if to in m["to"]]
        if found:
            return found[0]
        assert time.monotonic() < deadline, f"no mail to {to}"
        time.sleep(0.3)
