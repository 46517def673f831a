"""The local SMTP sink: mails kept as .eml files, listed decoded (``baobei mails``)."""

from __future__ import annotations

import json
import smtplib
from email.message import EmailMessage
from pathlib import Path

import pytest

from cli.main import main
from cli.smtp_sink import list_mails, start, store_mail


def mime(subject: str, *, text: str = "正文", html: str = "", message_id: str = "<m1@example.com>") -> bytes:
    msg = EmailMessage()
    msg["From"] = "Baobei 报备 <baobei@example.com>"
    msg["To"] = "李经理 <boss@example.com>"
    msg["Subject"] = subject
    msg["Date"] = "Mon, 05 Jan 2026 09:30:00 +0800"
    msg["Message-ID"] = message_id
    msg.set_content(text)
    if html:
        msg.add_alternative(html, subtype="html")
    return msg.as_bytes()


def test_list_mails_decodes_headers_and_parts(tmp_path: Path) -> None:
    mail_id = store_mail(
        tmp_path, mime("审批请求：智慧园区", text="请审批\n谢谢", html="<b>请审批</b>"),
        mail_from="baobei@example.com", rcpt_tos=["boss@example.com"],
    )
    [mail] = list_mails(tmp_path)
    assert mail["id"] == mail_id
    assert mail["subject"] == "审批请求：智慧园区"
    assert mail["from"] == "Baobei 报备 <baobei@example.com>"
    assert mail["to"] == "李经理 <boss@example.com>"
    assert mail["envelope_from"] == "baobei@example.com" and mail["envelope_to"] == ["boss@example.com"]
    assert mail["date"] == "Mon, 05 Jan 2026 09:30:00 +0800"
    assert mail["message_id"] == "<m1@example.com>"
    assert mail["text"] == "请审批\n谢谢\n" and mail["html"] == "<b>请审批</b>\n"


def test_list_mails_newest_first_with_limit_and_only_complete_files(tmp_path: Path) -> None:
    ids = [store_mail(tmp_path, mime(f"第{i}封", message_id=f"<m{i}@x>")) for i in range(3)]
    (tmp_path / ".incoming-abc.tmp").write_bytes(b"Subject: half a mail")  # a write in progress
    mails = list_mails(tmp_path)
    assert [m["id"] for m in mails] == ids[::-1]
    assert [m["subject"] for m in list_mails(tmp_path, limit=2)] == ["第2封", "第1封"]
    assert list_mails(tmp_path / "absent") == []
    assert sorted(p.suffix for p in tmp_path.iterdir()) == [".eml", ".eml", ".eml", ".tmp"]


def test_text_only_mail_has_no_html(tmp_path: Path) -> None:
    store_mail(tmp_path, mime("纯文本"))
    [mail] = list_mails(tmp_path)
    assert mail["html"] == "" and mail["text"] == "正文\n"


def test_sink_server_stores_what_smtp_clients_send(tmp_path: Path) -> None:
    controller = start("127.0.0.1", 0, tmp_path / "mails")
    try:
        with smtplib.SMTP("127.0.0.1", controller.port, timeout=5) as smtp:
            smtp.send_message(parsed(mime("经 SMTP 送达", html="<p>hi</p>")))
    finally:
        controller.stop()
    [mail] = list_mails(tmp_path / "mails")
    assert mail["subject"] == "经 SMTP 送达" and mail["html"] == "<p>hi</p>\n"
    assert mail["envelope_to"] == ["boss@example.com"]


def parsed(data: bytes) -> EmailMessage:
    import email
    import email.policy

    msg = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def test_cli_mails_json_and_text(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["mails", "--data-dir", str(tmp_path)]) == 0
    assert "no mails" in capsys.readouterr().out
    for i in range(3):
        store_mail(tmp_path / "mails", mime(f"通知{i}", message_id=f"<n{i}@x>"))
    assert main(["mails", "--data-dir", str(tmp_path), "--json", "--limit", "2"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [m["subject"] for m in listed] == ["通知2", "通知1"]
    assert main(["mails", "--data-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "Subject: 通知0" in out and "李经理 <boss@example.com>" in out


def test_dev_supervisor_starts_the_sink_on_a_free_port_when_busy(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import socket

    from baobei.core.settings import Settings
    from cli.dev import Supervisor

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        sup = Supervisor(Settings(data_dir=tmp_path, smtp_sink_port=taken), verbose=False)
        try:
            env = sup.start_smtp_sink()
            port = int(env["BAOBEI_SMTP_PORT"])
            assert env["BAOBEI_SMTP_HOST"] == "127.0.0.1" and port != taken and sup.smtp_sink_port == port
            assert f"port {taken} is in use" in capsys.readouterr().out
            with smtplib.SMTP("127.0.0.1", port, timeout=5) as smtp:
                smtp.send_message(parsed(mime("经监督进程的收件箱")))
        finally:
            sup.shutdown()
    assert [m["subject"] for m in list_mails(tmp_path / "mails")] == ["经监督进程的收件箱"]
    # A configured relay means no sink.
    assert Supervisor(Settings(data_dir=tmp_path, smtp_host="smtp.example.com"), verbose=False).start_smtp_sink() == {}
