"""Pure notify routing: preferences, per-kind overrides, quiet hours, robot / subscription
validation, webhook payloads and digests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from baobei.core.errors import ValidationFailed
from services.notify import domain

SHANGHAI_NIGHT = datetime(2026, 11, 25, 15, 30, tzinfo=UTC)  # 23:30 in Asia/Shanghai
SHANGHAI_DAY = datetime(2026, 11, 25, 4, 0, tzinfo=UTC)  # 12:00 in Asia/Shanghai


def fields(err: pytest.ExceptionInfo[ValidationFailed]) -> list[str]:
    return [v.field for v in err.value.violations]


def test_no_preferences_means_in_app_only() -> None:
    assert domain.channels_for(None, "approval_request") == ()
    assert domain.plan_deliveries("u1", "approval_request", None, {"dingtalk": "ding"}, now=SHANGHAI_DAY) == []


def test_by_kind_overrides_channels_and_empty_override_means_in_app_only() -> None:
    p = domain.Preferences("u1", channels=("email",), by_kind={"approval_request": ("dingtalk", "email"),
                                                                "project_rejected": ()})
    assert domain.channels_for(p, "approval_request") == ("dingtalk", "email")
    assert domain.channels_for(p, "project_rejected") == ()
    assert domain.channels_for(p, "project_approved") == ("email",)


def test_plan_routes_robots_to_the_enabled_robot_and_records_missing_ones_as_skipped() -> None:
    p = domain.Preferences("u1", channels=("email", "dingtalk", "wecom"))
    planned = domain.plan_deliveries("u1", "k", p, {"dingtalk": "ding-main"}, now=SHANGHAI_DAY)
    got = [(d.channel, d.target, d.status) for d in planned]
    assert got == [("email", "", "pending"), ("dingtalk", "ding-main", "pending"), ("wecom", "", "skipped")]
    assert "no enabled wecom" in planned[2].error
    assert all(d.not_before is None for d in planned)


def test_normalise_preferences_dedupes_and_validates() -> None:
    p = domain.normalise_preferences(
        domain.Preferences(" u1 ", channels=("Email", "email", "inapp", "wecom"),
                           quiet_hours=domain.QuietHours("22:00", "08:00", ""))
    )
    assert p.user_id == "u1" and p.channels == ("email", "wecom") and p.quiet_hours.tz == "Asia/Shanghai"
    with pytest.raises(ValidationFailed) as err:
        domain.normalise_preferences(
            domain.Preferences("u1", channels=("sms",), quiet_hours=domain.QuietHours("25:00", "08:00", "Mars/Base"),
                               by_kind={"Bad Kind": ("email",), "ok": ("fax",)})
        )
    assert sorted(fields(err)) == sorted([
        "preferences.channels[0]", "preferences.by_kind[Bad Kind]", "preferences.by_kind[ok][0]",
        "preferences.quiet_hours.start", "preferences.quiet_hours.tz",
    ])
    with pytest.raises(ValidationFailed) as err:
        domain.normalise_preferences(domain.Preferences("u1", quiet_hours=domain.QuietHours("08:00", "08:00")))
    assert fields(err) == ["preferences.quiet_hours.end"]


def test_quiet_hours_spanning_midnight() -> None:
    q = domain.QuietHours("22:00", "08:00", "Asia/Shanghai")
    # 23:30 local → until 08:00 next local day = 00:00 UTC of the 26th
    assert domain.quiet_until(SHANGHAI_NIGHT, q) == datetime(2026, 11, 26, 0, 0, tzinfo=UTC)
    # 07:59 local → until 08:00 the same local day
    early = datetime(2026, 11, 25, 23, 59, tzinfo=UTC)  # 07:59 on the 26th local
    assert domain.quiet_until(early, q) == datetime(2026, 11, 26, 0, 0, tzinfo=UTC)
    assert domain.quiet_until(SHANGHAI_DAY, q) is None
    # end is exclusive, start inclusive
    assert domain.quiet_until(datetime(2026, 11, 26, 0, 0, tzinfo=UTC), q) is None
    assert domain.quiet_until(datetime(2026, 11, 25, 14, 0, tzinfo=UTC), q) == datetime(2026, 11, 26, 0, 0,
                                                                                         tzinfo=UTC)


def test_quiet_hours_within_one_day_and_other_zones_and_none() -> None:
    q = domain.QuietHours("12:00", "14:00", "Europe/Berlin")
    at = datetime(2026, 7, 1, 10, 30, tzinfo=UTC)  # 12:30 CEST
    assert domain.quiet_until(at, q) == datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
    assert domain.quiet_until(at + timedelta(hours=2), q) is None
    assert domain.quiet_until(at, None) is None
    assert domain.quiet_until(at, domain.QuietHours()) is None


def test_quiet_hours_push_not_before_of_external_deliveries() -> None:
    p = domain.Preferences("u1", channels=("email",), quiet_hours=domain.QuietHours("22:00", "08:00"))
    [d] = domain.plan_deliveries("u1", "k", p, {}, now=SHANGHAI_NIGHT)
    assert d.not_before == datetime(2026, 11, 26, 0, 0, tzinfo=UTC)


def test_robot_channel_validation() -> None:
    ok = domain.validate_robot(domain.RobotChannel(" ding ", "DingTalk", "https://oapi.dingtalk.com/robot/send?access_token=x",
                                                   "SECabc"))
    assert (ok.key, ok.type) == ("ding", "dingtalk")
    with pytest.raises(ValidationFailed) as err:
        domain.validate_robot(domain.RobotChannel("bad key!", "slack", "ftp://x"))
    assert fields(err) == ["channel.key", "channel.type", "channel.url"]
    with pytest.raises(ValidationFailed) as err:
        domain.validate_robot(domain.RobotChannel("w", "wecom", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send",
                                                  "s"))
    assert fields(err) == ["channel.url", "channel.secret"]
    with pytest.raises(ValidationFailed) as err:
        domain.validate_robot(domain.RobotChannel("w", "wecom", "https://user:pw@example.com/x?key=1"))
    assert fields(err) == ["channel.url"]


SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def test_subscription_validation() -> None:
    s = domain.validate_subscription(domain.Subscription("fin", "https://erp.example.com/hook",
                                                         ("project.approved", "project.approved"), (SECRET,)))
    assert s.events == ("project.approved",)
    with pytest.raises(ValidationFailed) as err:
        domain.validate_subscription(domain.Subscription("", "http://", (), ()))
    assert fields(err) == ["subscription.id", "subscription.url", "subscription.events", "subscription.secrets"]
    with pytest.raises(ValidationFailed) as err:
        domain.validate_subscription(
            domain.Subscription("f", "https://x.example/h", ("*",), (SECRET, "whsec_short", "whsec_x"))
        )
    assert fields(err) == ["subscription.secrets", "subscription.secrets[1]", "subscription.secrets[2]"]
    with pytest.raises(ValidationFailed) as err:
        domain.validate_subscription(domain.Subscription("f", "https://x.example/h", ("*",), ("plainsecret",)))
    assert fields(err) == ["subscription.secrets[0]"]


def test_subscribed_and_masking() -> None:
    s = domain.Subscription("f", "u", ("project.approved",), (SECRET,))
    assert domain.subscribed(s, "project.approved") and not domain.subscribed(s, "cost.recorded")
    assert domain.subscribed(domain.Subscription("f", "u", ("*",)), "cost.recorded")
    assert not domain.subscribed(domain.Subscription("f", "u", ("*",), enabled=False), "cost.recorded")
    masked = domain.mask_secret(SECRET)
    assert masked == "whsec_****LaSw" and SECRET[6:-4] not in masked


def test_webhook_payload_shape() -> None:
    ev = domain.Event("e1", "cost.recorded", "p1", datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), {"amount": "10.00"})
    assert domain.webhook_payload(ev) == {
        "type": "cost.recorded",
        "timestamp": "2026-01-02T03:04:05Z",
        "data": {"amount": "10.00", "event_id": "e1", "project_id": "p1"},
    }
    with pytest.raises(ValidationFailed) as err:
        domain.validate_event(domain.Event("", "Not A Type", "p", SHANGHAI_DAY))
    assert fields(err) == ["event_id", "type"]


def test_digest_lists_every_item_up_to_a_cap() -> None:
    title, md = domain.compose_digest([domain.DigestItem("待审批：A", "https://x/a/1"), domain.DigestItem("通知 [B]")])
    assert title == "您有 2 条新通知"
    assert "- [待审批：A](https://x/a/1)" in md and "- 通知 ［B］" in md
    many = [domain.DigestItem(f"n{i}") for i in range(45)]
    _, md = domain.compose_digest(many)
    assert "- n29" in md and "- n30" not in md and "另有 15 条" in md
