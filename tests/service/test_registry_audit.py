"""The audit log in the registry over real gRPC: appends chain and list newest first with filters
and paging, a repeated event id records once, concurrent appends stay one linear chain, Verify
finds a row edited or deleted with plain SQL, and retention purges a prefix while the rest stays
verifiable from its anchor. Every instant is passed in."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from google.protobuf import timestamp_pb2

from baobei.core.db import make_engine
from baobei.registry.v1 import audit_service_pb2 as pb
from baobei.registry.v1 import audit_service_pb2_grpc as pb_grpc
from services.registry.audit import domain
from tests.conftest import StartService
from tests.service.test_registry_service import fails

T0 = datetime(2031, 5, 1, 8, 0, tzinfo=UTC)


def ts(dt: datetime) -> timestamp_pb2.Timestamp:
    t = timestamp_pb2.Timestamp()
    t.FromDatetime(dt)
    return t


@dataclass
class Audit:
    stub: pb_grpc.AuditServiceStub
    db_url: str
    n: int = 0

    def append(self, action: str = "form.changed", *, at: datetime = T0, **kw: object) -> pb.AuditEvent:
        self.n += 1
        kw.setdefault("event_id", f"e{self.n}")
        kw.setdefault("actor_id", "root")
        resp = self.stub.Append(pb.AppendAuditRequest(action=action, at=ts(at), **kw), timeout=10)  # type: ignore[arg-type]
        return resp.event

    def verify(self) -> pb.VerifyAuditResponse:
        return self.stub.Verify(pb.VerifyAuditRequest(), timeout=30)

    def sql(self, statement: str) -> None:
        engine = make_engine(self.db_url)
        try:
            with engine.begin() as conn:
                conn.exec_driver_sql(statement)
        finally:
            engine.dispose()

    def all(self, **filters: object) -> list[pb.AuditEvent]:
        out: list[pb.AuditEvent] = []
        cursor = ""
        while True:
            resp = self.stub.List(pb.ListAuditRequest(cursor=cursor, **filters), timeout=10)  # type: ignore[arg-type]
            out.extend(resp.events)
            if not resp.next_cursor:
                return out
            cursor = resp.next_cursor


@pytest.fixture()
def audit(start_service: StartService) -> Audit:
    svc = start_service("registry")
    return Audit(pb_grpc.AuditServiceStub(svc.channel), svc.db_url)


def as_event(e: pb.AuditEvent) -> domain.Event:
    return domain.Event(seq=e.seq, at=e.at.ToDatetime(tzinfo=UTC), action=e.action, outcome=e.outcome,
                        actor_id=e.actor_id, actor_ip=e.actor_ip, target_type=e.target_type, target_id=e.target_id,
                        details=json.loads(e.details_json), request_id=e.request_id, event_id=e.event_id,
                        prev_hash=e.prev_hash, hash=e.hash)


def test_appends_form_one_chain(audit: Audit) -> None:
    a = audit.append("token.issued", target_type="user", target_id="rep", actor_ip="10.0.0.1",
                     details_json=json.dumps({"scopes": ["crm:write"], "名称": "脚本"}), request_id="req-1")
    b = audit.append("sign_in", outcome="failure", actor_id="anonymous", at=T0 + timedelta(seconds=1))
    assert (a.seq, b.seq) == (1, 2)
    assert a.prev_hash == domain.GENESIS and b.prev_hash == a.hash
    assert a.outcome == "success" and a.at.ToDatetime(tzinfo=UTC) == T0 and a.request_id == "req-1"
    # The hash is the documented one: SHA-256 over the canonical form.
    assert domain.compute_hash(as_event(a)) == a.hash and domain.compute_hash(as_event(b)) == b.hash
    listed = audit.all()
    assert [e.seq for e in listed] == [2, 1]
    assert json.loads(listed[1].details_json) == {"scopes": ["crm:write"], "名称": "脚本"}
    v = audit.verify()
    assert v.ok and v.checked == 2 and v.first_broken_seq == 0
    assert (v.head.seq, v.head.hash) == (2, b.hash) and (v.anchor.seq, v.anchor.hash) == (0, domain.GENESIS)


def test_a_repeated_event_id_records_once(audit: Audit) -> None:
    first = audit.stub.Append(pb.AppendAuditRequest(event_id="same", action="org.upserted", actor_id="root"),
                              timeout=10)
    again = audit.stub.Append(pb.AppendAuditRequest(event_id="same", action="org.upserted", actor_id="root"),
                              timeout=10)
    assert first.created and not again.created
    assert again.event == first.event
    assert len(audit.all()) == 1


def test_bad_appends_are_refused_naming_the_field(audit: Audit) -> None:
    for req, field in (
        (pb.AppendAuditRequest(event_id="x", actor_id="root"), "action"),
        (pb.AppendAuditRequest(event_id="x", action="a"), "actor_id"),
        (pb.AppendAuditRequest(action="a", actor_id="root"), "event_id"),
        (pb.AppendAuditRequest(event_id="x", action="a", actor_id="root", outcome="maybe"), "outcome"),
        (pb.AppendAuditRequest(event_id="x", action="a", actor_id="root", details_json="[1]"), "details_json"),
        (pb.AppendAuditRequest(event_id="x", action="a", actor_id="root", details_json='{"x": NaN}'), "details_json"),
    ):
        failure = fails(audit.stub.Append, req, grpc.StatusCode.INVALID_ARGUMENT)
        assert field in [v.field for v in failure.violations], (req, failure)
    fails(audit.stub.List, pb.ListAuditRequest(cursor="abc"), grpc.StatusCode.INVALID_ARGUMENT)
    assert audit.all() == []


def test_concurrent_appends_stay_linear(audit: Audit) -> None:
    def one(i: int) -> pb.AppendAuditResponse:
        # Every fifth event is sent three times over (a retried append): recorded once.
        return audit.stub.Append(pb.AppendAuditRequest(event_id=f"c{i // 3 if i % 5 == 0 else i}-{i % 5 == 0}",
                                                       action="rule.changed", actor_id=f"u{i % 7}"), timeout=30)

    with ThreadPoolExecutor(max_workers=12) as pool:
        results = list(pool.map(one, range(240)))
    distinct = {r.event.event_id for r in results}
    assert sum(r.created for r in results) == len(distinct)
    events = audit.all()
    assert sorted(e.seq for e in events) == list(range(1, len(distinct) + 1))
    by_seq = {e.seq: e for e in events}
    for seq in range(2, len(distinct) + 1):
        assert by_seq[seq].prev_hash == by_seq[seq - 1].hash
    v = audit.verify()
    assert v.ok and v.checked == len(distinct)


def test_verify_finds_an_edited_row(audit: Audit) -> None:
    for i in range(5):
        audit.append(at=T0 + timedelta(minutes=i), details_json=json.dumps({"version": i}))
    audit.sql("UPDATE audit_event SET details = '{\"version\":99}' WHERE seq = 3")
    v = audit.verify()
    assert not v.ok and v.first_broken_seq == 3 and v.reason == "hash mismatch" and v.checked == 3


def test_verify_finds_an_edited_row_even_with_its_hash_recomputed(audit: Audit) -> None:
    """Rewriting a row and its own hash still breaks the link from the next event."""
    events = [audit.append(at=T0 + timedelta(minutes=i)) for i in range(4)]
    forged = domain.Event(**{**as_event(events[1]).__dict__, "actor_id": "someone-else", "hash": ""})
    new_hash = domain.compute_hash(forged)
    audit.sql(f"UPDATE audit_event SET actor_id = 'someone-else', hash = '{new_hash}' WHERE seq = 2")
    v = audit.verify()
    assert not v.ok and v.first_broken_seq == 3 and v.reason == "broken link"


def test_verify_finds_a_deleted_row(audit: Audit) -> None:
    for i in range(5):
        audit.append(at=T0 + timedelta(minutes=i))
    audit.sql("DELETE FROM audit_event WHERE seq = 2")
    v = audit.verify()
    assert not v.ok and v.first_broken_seq == 2 and v.reason == "missing event"


def test_verify_finds_the_newest_row_deleted(audit: Audit) -> None:
    for i in range(3):
        audit.append(at=T0 + timedelta(minutes=i))
    audit.sql("DELETE FROM audit_event WHERE seq = 3")
    v = audit.verify()
    assert not v.ok and v.first_broken_seq == 3 and v.checked == 2


def test_filters_and_paging(audit: Audit) -> None:
    audit.append("token.issued", target_type="user", target_id="rep", at=T0)
    audit.append("token.revoked", target_type="user", target_id="rep", actor_id="rep", at=T0 + timedelta(hours=1))
    audit.append("tokens.other", at=T0 + timedelta(hours=2))
    audit.append("sign_in", outcome="failure", actor_id="anonymous", target_type="user", target_id="boss",
                 at=T0 + timedelta(hours=3), request_id="r-9")
    audit.append("form_%.x", at=T0 + timedelta(hours=4))

    def seqs(**f: object) -> list[int]:
        return [e.seq for e in audit.all(**f)]

    assert seqs(action="token.") == [2, 1]
    assert seqs(action="form_%") == [5]  # LIKE wildcards are taken literally
    assert seqs(action="form_") == [5]
    assert seqs(action="form%") == []
    assert seqs(actor_id="rep") == [2]
    assert seqs(target_type="user", target_id="rep") == [2, 1]
    assert seqs(outcome="failure") == [4]
    assert seqs(request_id="r-9") == [4]
    assert seqs(**{"from": ts(T0 + timedelta(hours=1)), "to": ts(T0 + timedelta(hours=3))}) == [3, 2]
    page = audit.stub.List(pb.ListAuditRequest(limit=2), timeout=10)
    assert [e.seq for e in page.events] == [5, 4] and page.next_cursor
    page = audit.stub.List(pb.ListAuditRequest(limit=2, cursor=page.next_cursor), timeout=10)
    assert [e.seq for e in page.events] == [3, 2] and page.next_cursor
    page = audit.stub.List(pb.ListAuditRequest(limit=2, cursor=page.next_cursor), timeout=10)
    assert [e.seq for e in page.events] == [1] and page.next_cursor == ""


def purge(audit: Audit, before: datetime, event_id: str = "p1", at: datetime | None = None) -> pb.PurgeAuditResponse:
    req = pb.PurgeAuditRequest(event_id=event_id, before=ts(before), at=ts(at or before), actor_id="system")
    return audit.stub.Purge(req, timeout=30)


def test_purge_removes_the_oldest_and_the_rest_still_verifies(audit: Audit) -> None:
    events = [audit.append(at=T0 + timedelta(days=d)) for d in range(10)]
    resp = purge(audit, T0 + timedelta(days=5), at=T0 + timedelta(days=30))
    assert resp.purged == 5 and (resp.anchor.seq, resp.anchor.hash) == (5, events[4].hash)
    assert resp.event.action == domain.PURGED_ACTION and resp.event.seq == 11
    assert json.loads(resp.event.details_json) == {"before": "2031-05-06T08:00:00.000000Z", "purged": 5,
                                                   "anchor_seq": 5, "anchor_hash": events[4].hash}
    assert [e.seq for e in audit.all()] == [11, 10, 9, 8, 7, 6]
    v = audit.verify()
    assert v.ok and v.checked == 6 and (v.anchor.seq, v.anchor.hash) == (5, events[4].hash)
    # The same purge again (a retried activity): its first answer, nothing more appended.
    again = purge(audit, T0 + timedelta(days=9), event_id="p1")
    assert again.purged == 5 and again.event.seq == 11 and len(audit.all()) == 6
    # Nothing older than the cutoff: nothing removed, nothing appended.
    none = purge(audit, T0 + timedelta(days=5), event_id="p2")
    assert none.purged == 0 and not none.HasField("event") and none.anchor.seq == 5
    # A later purge moves the anchor on; appends continue the chain.
    later = purge(audit, T0 + timedelta(days=8), event_id="p3", at=T0 + timedelta(days=40))
    assert later.purged == 3 and later.anchor.seq == 8
    audit.append(at=T0 + timedelta(days=41))
    assert audit.verify().ok


def test_purge_stops_at_the_first_event_inside_the_retention(audit: Audit) -> None:
    """A clock that went backwards: the old event after a new one stays, so the chain stays whole."""
    for d in (0, 1, 6, 2, 7):
        audit.append(at=T0 + timedelta(days=d))
    resp = purge(audit, T0 + timedelta(days=5), at=T0 + timedelta(days=20))
    assert resp.purged == 2 and resp.anchor.seq == 2
    assert audit.verify().ok


def test_purge_of_everything_then_appends(audit: Audit) -> None:
    for d in range(3):
        audit.append(at=T0 + timedelta(days=d))
    resp = purge(audit, T0 + timedelta(days=100))
    assert resp.purged == 3 and resp.event.seq == 4
    assert audit.verify().ok
    assert audit.append(at=T0 + timedelta(days=101)).seq == 5
    assert audit.verify().ok


def test_verify_finds_a_forged_anchor_or_a_row_put_back(audit: Audit) -> None:
    for d in range(4):
        audit.append(at=T0 + timedelta(days=d))
    purge(audit, T0 + timedelta(days=2), at=T0 + timedelta(days=10))
    # Hiding more deletions by moving the anchor: the purge event names another anchor.
    audit.sql("DELETE FROM audit_event WHERE seq = 3")
    hidden = audit.all()[-1]
    assert hidden.seq == 4
    audit.sql(f"UPDATE audit_chain SET anchor_seq = 3, anchor_hash = '{hidden.prev_hash}' WHERE id = 1")
    v = audit.verify()
    assert not v.ok and v.reason == "anchor mismatch"


def test_verify_finds_a_row_below_the_anchor(audit: Audit) -> None:
    for d in range(3):
        audit.append(at=T0 + timedelta(days=d))
    purge(audit, T0 + timedelta(days=1), at=T0 + timedelta(days=10))
    kept = audit.all()[-1]
    audit.sql(
        "INSERT INTO audit_event (seq, at, action, outcome, actor_id, actor_ip, target_type, target_id, details,"
        " request_id, event_id, prev_hash, hash) VALUES (1, '2031-05-01 08:00:00', 'sign_in', 'success', 'x', '',"
        f" '', '', '{{}}', '', 'forged', '{domain.GENESIS}', '{kept.prev_hash}')"
    )
    v = audit.verify()
    assert not v.ok and v.first_broken_seq == 2
