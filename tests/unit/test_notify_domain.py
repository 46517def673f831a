from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta, timezone

import pytest

from baobei.core.errors import ValidationFailed
from services.notify import domain

NOW = datetime(2026, 11, 25, 8, 30, 0, 123456, tzinfo=UTC)


def cmd(**kw: object) -> domain.SendCommand:
    base: dict[str, object] = {"request_id": "r1", "recipient_ids": ("u1",), "kind": "approval_request",
                               "title": "请审批"}
    base.update(kw)
    return domain.SendCommand(**base)  # type: ignore[arg-type]


def fields(err: pytest.ExceptionInfo[ValidationFailed]) -> list[str]:
    return [v.field for v in err.value.violations]


def test_valid_send_passes() -> None:
    domain.validate_send(cmd())


def test_send_requires_recipients_kind_title_and_request_id() -> None:
    with pytest.raises(ValidationFailed) as err:
        domain.validate_send(cmd(request_id="", recipient_ids=(), kind=" ", title=""))
    assert fields(err) == ["request_id", "recipient_ids", "kind", "title"]
    v = err.value.violations[1]
    assert v.text("zh") == "至少需要一个接收人" and v.text("en") == "at least one recipient is required"


def test_blank_recipient_is_reported_by_index() -> None:
    with pytest.raises(ValidationFailed) as err:
        domain.validate_send(cmd(recipient_ids=("u1", " ")))
    assert fields(err) == ["recipient_ids[1]"]


def test_one_notification_per_distinct_recipient_with_own_action_url() -> None:
    c = cmd(recipient_ids=("u1", "u2", "u1", " u2 "), action_urls={"u2": "http://x/a/tok2"}, project_id="p1")
    ids = {"u1": "n1", "u2": "n2"}
    planned = domain.plan_notifications(c, now=NOW, new_id=ids)
    assert [(n.id, n.user_id, n.action_url) for n in planned] == [("n1", "u1", ""), ("n2", "u2", "http://x/a/tok2")]
    assert all(n.created_at == NOW and n.project_id == "p1" and not n.read for n in planned)


def test_inapp_delivery_is_delivered_on_first_attempt() -> None:
    n = domain.plan_notifications(cmd(), now=NOW, new_id={"u1": "n1"})[0]
    d = domain.inapp_delivery(n)
    assert (d.notification_id, d.channel, d.status, d.attempts, d.at) == ("n1", "inapp", "delivered", 1, NOW)


@pytest.mark.parametrize(("given", "expected"), [(0, 50), (1, 1), (200, 200), (201, 200), (10_000, 200)])
def test_page_limit(given: int, expected: int) -> None:
    assert domain.page_limit(given) == expected


def test_negative_limit_is_invalid() -> None:
    with pytest.raises(ValidationFailed) as err:
        domain.page_limit(-1)
    assert fields(err) == ["limit"]


def test_cursor_round_trip_keeps_microseconds_and_utc() -> None:
    c = domain.Cursor(created_at=NOW.astimezone(timezone(timedelta(hours=8))), id="abc|def")
    back = domain.decode_cursor(domain.encode_cursor(c))
    assert back == domain.Cursor(created_at=NOW, id="abc|def")
    assert back is not None and back.created_at.utcoffset() == timedelta(0)


def test_empty_cursor_is_first_page() -> None:
    assert domain.decode_cursor("") is None


@pytest.mark.parametrize(
    "token",
    ["!!!", "bm90LWEtY3Vyc29y", base64.urlsafe_b64encode(b"2026-11-25T08:30:00|x").decode(),
     base64.urlsafe_b64encode(b"2026-11-25T08:30:00+00:00|").decode()],
)
def test_garbage_cursor_is_a_validation_error(token: str) -> None:
    with pytest.raises(ValidationFailed) as err:
        domain.decode_cursor(token)
    assert fields(err) == ["cursor"]


def test_next_cursor_empty_on_last_page() -> None:
    page = domain.plan_notifications(cmd(recipient_ids=("a", "b")), now=NOW, new_id={"a": "1", "b": "2"})
    assert domain.next_cursor(page, 2, has_more=False) == ""
    assert domain.next_cursor(page, 5, has_more=True) == ""
    token = domain.next_cursor(page, 2, has_more=True)
    assert domain.decode_cursor(token) == domain.Cursor(created_at=NOW, id="2")
