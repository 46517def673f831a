"""The audit log's canonical form and hash chain as plain functions: the documented bytes, a hash
that changes with every field, and a walk that names the first event that does not hold."""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import UTC, datetime, timedelta, timezone

import pytest

from baobei.core.errors import ValidationFailed
from services.registry.audit import domain
from workflows.activities.audit import retention_cutoff

T0 = datetime(2031, 5, 1, 8, 0, tzinfo=UTC)


def build(n: int, *, start: domain.ChainPoint | None = None) -> list[domain.Event]:
    prev = start or domain.ChainPoint()
    out = []
    for i in range(n):
        ev = domain.chain(prev, domain.Draft(event_id=f"e{prev.seq + 1}", action="form.changed", actor_id="root",
                                             target_type="form", target_id="f", details={"version": i}),
                          T0 + timedelta(minutes=i))
        out.append(ev)
        prev = domain.ChainPoint(ev.seq, ev.hash)
    return out


def test_canonical_form_is_the_documented_bytes() -> None:
    ev = domain.Event(seq=7, at=datetime(2031, 5, 1, 16, 0, 0, 123456, tzinfo=timezone(timedelta(hours=8))),
                      action="token.issued", outcome="success", actor_id="admin", actor_ip="10.0.0.1",
                      target_type="user", target_id="rep", details={"z": 1, "名称": "脚本", "a": [True, None]},
                      request_id="r1", event_id="e7", prev_hash="ab" * 32)
    assert domain.canonical(ev) == (
        '{"action":"token.issued","actor_id":"admin","actor_ip":"10.0.0.1","at":"2031-05-01T08:00:00.123456Z",'
        '"details":{"a":[true,null],"z":1,"名称":"脚本"},"event_id":"e7","outcome":"success",'
        f'"prev_hash":"{"ab" * 32}","request_id":"r1","seq":7,"target_id":"rep","target_type":"user"}}'
    ).encode()
    assert domain.compute_hash(ev) == hashlib.sha256(domain.canonical(ev)).hexdigest()


def test_naive_times_are_utc_and_key_order_does_not_matter() -> None:
    a = build(1)[0]
    naive = dataclasses.replace(a, at=a.at.replace(tzinfo=None), details=dict(reversed(list(a.details.items()))))
    assert domain.compute_hash(naive) == a.hash


@pytest.mark.parametrize("field,value", [
    ("seq", 2), ("at", T0 + timedelta(microseconds=1)), ("action", "form.deleted"), ("outcome", "failure"),
    ("actor_id", "x"), ("actor_ip", "1.1.1.1"), ("target_type", "policy"), ("target_id", "g"),
    ("details", {"version": 1}), ("request_id", "r"), ("event_id", "other"), ("prev_hash", "1" * 64),
])
def test_every_field_is_in_the_hash(field: str, value: object) -> None:
    ev = build(1)[0]
    assert domain.compute_hash(dataclasses.replace(ev, **{field: value})) != ev.hash  # type: ignore[arg-type]


def test_chain_links_each_event_to_the_previous_hash() -> None:
    events = build(3)
    assert events[0].prev_hash == domain.GENESIS and [e.seq for e in events] == [1, 2, 3]
    assert events[1].prev_hash == events[0].hash and events[2].prev_hash == events[1].hash


def head(events: list[domain.Event]) -> domain.ChainPoint:
    return domain.ChainPoint(events[-1].seq, events[-1].hash)


def test_walk_accepts_a_whole_chain_and_one_from_an_anchor() -> None:
    events = build(5)
    assert domain.walk(events, anchor=domain.ChainPoint(), head=head(events)) == domain.Verdict(True, 5)
    anchor = domain.ChainPoint(events[1].seq, events[1].hash)
    assert domain.walk(events[2:], anchor=anchor, head=head(events)) == domain.Verdict(True, 3)
    assert domain.walk([], anchor=domain.ChainPoint(), head=domain.ChainPoint()).ok


def test_walk_names_the_first_event_that_does_not_hold() -> None:
    events = build(5)
    end = head(events)
    edited = [*events[:2], dataclasses.replace(events[2], actor_id="mallory"), *events[3:]]
    assert domain.walk(edited, anchor=domain.ChainPoint(), head=end) == domain.Verdict(False, 3, 3, "hash mismatch")
    resealed = dataclasses.replace(edited[2], hash=domain.compute_hash(edited[2]))
    assert domain.walk([*events[:2], resealed, *events[3:]], anchor=domain.ChainPoint(), head=end) == \
        domain.Verdict(False, 3, 4, "broken link")
    gap = [e for e in events if e.seq != 2]
    assert domain.walk(gap, anchor=domain.ChainPoint(), head=end) == domain.Verdict(False, 1, 2, "missing event")
    assert domain.walk(events[:4], anchor=domain.ChainPoint(), head=end) == domain.Verdict(False, 4, 5, "missing event")
    assert domain.walk(events, anchor=domain.ChainPoint(), head=head(events[:4])).first_broken_seq == 5
    wrong_anchor = domain.ChainPoint(events[1].seq, "f" * 64)
    assert domain.walk(events[2:], anchor=wrong_anchor, head=end) == domain.Verdict(False, 0, 3, "broken link")


def test_retention_cutoff() -> None:
    assert retention_cutoff(T0, 365) == T0 - timedelta(days=365)
    assert retention_cutoff(T0.astimezone(timezone(timedelta(hours=8))), 1) == T0 - timedelta(days=1)
    assert retention_cutoff(T0, 0) is None and retention_cutoff(T0, -1) is None


def test_details_must_be_a_json_object() -> None:
    assert domain.parse_details("") == {}
    assert domain.parse_details('{"a": 1}') == {"a": 1}
    for bad in ("[]", "1", "{", '{"x": NaN}', '{"x": "' + "y" * domain.MAX_DETAILS_BYTES + '"}'):
        with pytest.raises(ValidationFailed):
            domain.parse_details(bad)


def test_check_defaults_the_outcome_and_names_bad_fields() -> None:
    assert domain.check(domain.Draft(event_id="e", action="a", actor_id="u")).outcome == "success"
    with pytest.raises(ValidationFailed) as err:
        domain.check(domain.Draft(event_id="", action="", actor_id="", outcome="maybe", actor_ip="x" * 65))
    assert {v.field for v in err.value.violations} == {"event_id", "action", "actor_id", "outcome", "actor_ip"}
