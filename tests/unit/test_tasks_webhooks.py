"""Rule webhooks: Standard Webhooks signing by notify's one sender (the spec's published test
vector; its SSRF guard is tested with the notify channels), the fire's event data and secret lookup,
secret validation; and the ``protection_expiring`` trigger's evaluation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from google.protobuf import struct_pb2

from baobei.core.errors import ValidationFailed
from baobei.tasks.v1 import tasks_service_pb2 as tasks_pb
from services.notify.channels.webhook import sign
from services.tasks import rules
from services.tasks.store.rules import parse_rule
from workflows.activities.webhooks import event_data, secret_of
from workflows.contracts.webhooks import WebhookDeliveryInput

# From the Standard Webhooks specification / reference libraries. Rule webhooks are sent by notify's
# one webhook sender (services/notify/channels/webhook.py), which this checks against the spec.
VECTOR_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
VECTOR_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
VECTOR_TS = 1614265330
VECTOR_BODY = b'{"test": 2432232314}'
VECTOR_SIG = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_the_one_sender_signs_as_the_spec_test_vector() -> None:
    assert sign([VECTOR_SECRET], VECTOR_ID, VECTOR_TS, VECTOR_BODY) == VECTOR_SIG


def test_rule_fire_event_data_names_the_fire_and_rule() -> None:
    inp = WebhookDeliveryInput(fire_key="r:t:1", rule_key="r", url="https://x.example/h", project_id="p", data={"a": 1})
    assert event_data(inp) == {"key": "r:t:1", "rule": "r", "a": 1} == event_data(inp)


def test_the_rule_secret_is_read_per_action_url() -> None:
    body = struct_pb2.Struct()
    body.update({"actions": [{"type": "notify", "to": ["owner"]},
                             {"type": "webhook", "url": "https://a.example/h", "secret": "whsec_a"},
                             {"type": "webhook", "url": "https://b.example/h", "secret": "whsec_b"}]})
    docs = [tasks_pb.RuleDoc(key="other", body=body), tasks_pb.RuleDoc(key="r", body=body)]
    assert secret_of(docs, "r", "https://b.example/h") == "whsec_b"
    assert secret_of(docs, "r", "https://c.example/h") == "" and secret_of(docs, "missing", "https://a.example/h") == ""


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
