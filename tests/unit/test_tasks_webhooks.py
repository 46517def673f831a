"""Rule webhooks: Standard Webhooks signing (the spec's published test vector), the receiver-side
check, the SSRF guard, secret validation; and the ``protection_expiring`` trigger's evaluation."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from temporalio.exceptions import ApplicationError

from baobei.core.errors import ValidationFailed
from services.tasks import rules
from services.tasks.store.rules import parse_rule
from workflows.activities.webhooks import SignatureError, body_of, check_target, refused_addresses, sign, verify
from workflows.contracts.errors import WEBHOOK_REFUSED
from workflows.contracts.webhooks import WebhookDeliveryInput

# From the Standard Webhooks specification / reference libraries.
VECTOR_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
VECTOR_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
VECTOR_TS = 1614265330
VECTOR_BODY = b'{"test": 2432232314}'
VECTOR_SIG = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_signature_matches_the_spec_test_vector() -> None:
    assert sign(VECTOR_SECRET, VECTOR_ID, VECTOR_TS, VECTOR_BODY) == VECTOR_SIG


def test_verify_checks_signature_and_timestamp_window() -> None:
    headers = {
        "webhook-id": VECTOR_ID,
        "webhook-timestamp": str(VECTOR_TS),
        "webhook-signature": f"v1,bad {VECTOR_SIG}",
    }
    verify(VECTOR_SECRET, headers, VECTOR_BODY, now=VECTOR_TS + 10)  # one of several signatures matches
    with pytest.raises(SignatureError, match="window"):
        verify(VECTOR_SECRET, headers, VECTOR_BODY, now=VECTOR_TS + 301)
    with pytest.raises(SignatureError, match="no matching"):
        verify(VECTOR_SECRET, headers, VECTOR_BODY + b" ", now=VECTOR_TS)
    with pytest.raises(SignatureError, match="missing"):
        verify(VECTOR_SECRET, {"webhook-id": VECTOR_ID}, VECTOR_BODY, now=VECTOR_TS)


def test_body_is_stable_across_attempts() -> None:
    inp = WebhookDeliveryInput(fire_key="r:t:1", rule_key="r", url="https://x.example/h", project_id="p", data={"a": 1})
    assert body_of(inp) == body_of(inp)
    assert body_of(inp).startswith(b'{"data":{"a":1,"key":"r:t:1","rule":"r"},"type":"rule.fired"}')


@pytest.mark.parametrize(
    "addr",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.9",
        "192.168.1.1",
        "169.254.169.254",
        "::1",
        "fe80::1",
        "0.0.0.0",
        "::ffff:127.0.0.1",
        "100.64.0.1",
        "fd00::1",
    ],
)
def test_ssrf_guard_refuses_internal_addresses(addr: str) -> None:
    assert refused_addresses([addr]) == [addr]


def test_ssrf_guard_allows_public_addresses() -> None:
    assert refused_addresses(["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"]) == []


def test_check_target_refuses_loopback_unless_allowed() -> None:
    with pytest.raises(ApplicationError) as err:
        asyncio.run(check_target("http://127.0.0.1:9/x", allow_internal=False))
    assert err.value.type == WEBHOOK_REFUSED and err.value.non_retryable
    with pytest.raises(ApplicationError):
        asyncio.run(check_target("http://localhost:9/x", allow_internal=False))
    with pytest.raises(ApplicationError):
        asyncio.run(check_target("ftp://example.com/x", allow_internal=True))
    asyncio.run(check_target("http://127.0.0.1:9/x", allow_internal=True))


def _rule(**kw: object) -> rules.Rule:
    base: dict[str, object] = {"key": "r1", "name": "规则", "trigger": "status_change"}
    base.update(kw)
    return rules.Rule(**base)  # type: ignore[arg-type]


def test_webhook_action_needs_a_whsec_secret() -> None:
    hook = rules.Action(type="webhook", url="https://hooks.example.com/x", secret="nope")
    with pytest.raises(ValidationFailed) as err:
        rules.validate_rule(_rule(actions=(hook,)))
    assert [v.field for v in err.value.violations] == ["actions[0].secret"]
    ok = rules.Action(type="webhook", url="https://hooks.example.com/x", secret=VECTOR_SECRET)
    rules.validate_rule(_rule(actions=(ok,)))
    parsed = parse_rule(
        "r1",
        {
            "name": "n",
            "trigger": {"type": "status_change"},
            "actions": [{"type": "webhook", "url": "https://h.example/x", "secret": VECTOR_SECRET}],
        },
    )
    assert parsed.actions[0].secret == VECTOR_SECRET


def test_protection_expiring_needs_before() -> None:
    note = rules.Action(type="notify", to=("owner",))
    with pytest.raises(ValidationFailed) as err:
        rules.validate_rule(_rule(trigger="protection_expiring", actions=(note,)))
    assert [v.field for v in err.value.violations] == ["trigger.before"]


def test_protection_expiring_fires_once_before_the_end() -> None:
    rule = _rule(trigger="protection_expiring", before="2d", actions=(rules.Action(type="notify", to=("owner",)),))
    until = datetime(2026, 3, 10, 16, 0, tzinfo=UTC)
    project = rules.ProjectFacts(id="p1", owner_id="own", name="园区", protection_until=until)

    def run(now: datetime, fired: set[str] = set()) -> rules.Evaluation:  # noqa: B006
        return rules.evaluate([rule], project=project, tasks=[], events=[], now=now, fired=fired)

    early = run(until - timedelta(days=3))
    assert early.fires == [] and early.next_wake == until - timedelta(days=2)
    due = run(until - timedelta(days=1))
    assert len(due.fires) == 1 and due.fires[0].user_ids == ("own",) and "保护期" in due.fires[0].title
    assert "2026-03-11 00:00" in due.fires[0].body  # the end in Asia/Shanghai
    assert run(until - timedelta(days=1), {due.fires[0].key}).fires == []
    assert run(until + timedelta(minutes=1)).fires == []  # lapsed
    no_protection = rules.ProjectFacts(id="p1", owner_id="own")
    assert rules.evaluate([rule], project=no_protection, tasks=[], events=[], now=until, fired=set()).fires == []
