"""``baobei dev`` runs a local SMTP sink (no BAOBEI_SMTP_HOST configured): it says where, keeps
what it receives under <data-dir>/mails, and ``baobei mails`` lists it."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid

from cli.devstack import ROOT, DevStack
from services.notify.channels.base import EmailMessage
from services.notify.channels.smtp import SmtpSender


def test_dev_runs_an_smtp_sink_whose_mails_are_listed(dev_stack: DevStack) -> None:
    port = int(dev_stack.env["BAOBEI_SMTP_SINK_PORT"])
    announced = [line for line in dev_stack.output if "SMTP sink" in line and "mails" in line]
    assert announced and f"127.0.0.1:{port}" in announced[-1] and "baobei mails" in announced[-1]

    run = uuid.uuid4().hex[:8]
    sender = SmtpSender(host="127.0.0.1", port=port, sender="Baobei 报备 <baobei@localhost>", timeout=5)
    sender.send(EmailMessage(to="qa@example.com", subject=f"冒烟测试 {run}", text="正文", html="<p>正文</p>",
                             message_id=f"smoke-{run}"))
    mails = [m for m in dev_stack.wait_for_mails(1) if m["subject"] == f"冒烟测试 {run}"]
    assert len(mails) == 1 and mails[0]["message_id"] == f"<smoke-{run}@localhost>"

    out = subprocess.run(
        [sys.executable, "-m", "cli.main", "mails", "--data-dir", str(dev_stack.data_dir), "--json"],
        cwd=ROOT, env=dev_stack.env, capture_output=True, text=True, timeout=60, check=True,
    ).stdout
    assert any(m["subject"] == f"冒烟测试 {run}" for m in json.loads(out))
