from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from baobei.core.errors import ValidationFailed
from services.reporting import domain, events
from services.reporting.domain import Event, ProjectView

T0 = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)


def ev(at: datetime | None, event_id: str = "e", **payload: object) -> Event:
    return Event(event_id=event_id, type="project.submitted", project_id="p1", at=at, payload=payload)


def fold(view: ProjectView | None, event: Event) -> ProjectView:
    return domain.fold(view, event, events.project_snapshot("project_submitted", event.payload))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("12345.6", "12345.60"), ("0", "0.00"), (" 7.05 ", "7.05"), (12345.6, "12345.60"), (100, "100.00"),
     ("9999999999999999.99", "9999999999999999.99"), ("1E+2", "100.00")],
)
def test_parse_amount_is_exact(raw: object, expected: str) -> None:
    assert domain.format_amount(domain.parse_amount(raw, "amount")) == expected


@pytest.mark.parametrize("raw", ["1.005", "abc", "", "NaN", "Infinity", "10000000000000000.00", True, None, [1]])
def test_parse_amount_rejects(raw: object) -> None:
    with pytest.raises(ValidationFailed) as err:
        domain.parse_amount(raw, "event.project_created.amount")
    assert [v.field for v in err.value.violations] == ["event.project_created.amount"]


def test_total_amount_is_an_exact_decimal_sum() -> None:
    amounts = [Decimal("0.10")] * 10 + [Decimal("12345.50"), None, Decimal("9999999999999.99")]
    total = domain.total_amount(amounts)
    assert total == Decimal("10000000012346.49")
    assert domain.format_amount(total) == "10000000012346.49"
    assert domain.format_amount(domain.total_amount([])) == "0.00"


def test_envelope_requires_ids_time_and_kind() -> None:
    with pytest.raises(ValidationFailed) as err:
        events.check_envelope(Event(event_id="", type="", project_id="", at=None), None)
    assert [v.field for v in err.value.violations] == ["event.event_id", "event.project_id", "event.at", "event.kind"]


def test_project_snapshot_reads_the_fields_set_and_names_bad_ones() -> None:
    snap = events.project_snapshot("project_created", {"code": " BB-1 ", "amount": "10.5", "status": "draft"})
    assert snap == {"code": "BB-1", "status": "draft", "amount": Decimal("10.50")}
    assert "amount" not in events.project_snapshot("project_created", {"amount": ""})  # unknown
    with pytest.raises(ValidationFailed) as err:
        events.project_snapshot("project_approved", {"name": "x" * 301, "amount": "1.234", "conflict_count": -1})
    assert [v.field for v in err.value.violations] == [
        "event.project_approved.name",
        "event.project_approved.conflict_count",
        "event.project_approved.amount",
    ]


def test_fold_upserts_present_fields_only() -> None:
    v = fold(None, ev(T0, code="BB-1", name="项目", status="draft", amount="100"))
    assert (v.project_id, v.code, v.name, v.status, v.amount, v.last_event_at) == (
        "p1", "BB-1", "项目", "draft", Decimal("100.00"), T0)
    v = fold(v, ev(T0 + timedelta(hours=1), status="pending_approval"))
    assert (v.code, v.status, v.amount, v.last_event_at) == ("BB-1", "pending_approval", Decimal("100.00"),
                                                            T0 + timedelta(hours=1))


def test_older_event_does_not_overwrite_newer_values() -> None:
    newer = fold(None, ev(T0 + timedelta(hours=2), status="active", amount="200"))
    late = ev(T0, status="draft", amount="100", code="BB-9", name="迟到的创建事件")
    assert domain.is_stale(newer, late)
    v = fold(newer, late)
    assert (v.status, v.amount) == ("active", Decimal("200.00"))
    # fields nothing newer had written are still filled in
    assert (v.code, v.name) == ("BB-9", "迟到的创建事件")
    assert v.last_event_at == T0 + timedelta(hours=2)


def test_out_of_order_rule_is_per_field() -> None:
    v = fold(None, ev(T0, status="draft", name="旧名"))
    v = fold(v, ev(T0 + timedelta(hours=3), status="active"))
    # older than last_event_at, but newer than the event that wrote ``name``
    v = fold(v, ev(T0 + timedelta(hours=1), status="pending_approval", name="新名"))
    assert (v.status, v.name) == ("active", "新名")


def test_same_time_event_applies_and_any_arrival_order_converges() -> None:
    events = [ev(T0 + timedelta(minutes=i), status=s, amount=a)
              for i, (s, a) in enumerate([("draft", "1"), ("pending_approval", "2"), ("active", "3")])]
    forward: ProjectView | None = None
    for e in events:
        forward = fold(forward, e)
    backward: ProjectView | None = None
    for e in reversed(events):
        backward = fold(backward, e)
    assert forward == backward and forward is not None and forward.status == "active"
    assert fold(forward, ev(T0 + timedelta(minutes=2), status="closed")).status == "closed"


def test_portfolio_counts_sums_and_is_green() -> None:
    views = [
        ProjectView("a", status="active", amount=Decimal("12345.60")),
        ProjectView("b", status="active", amount=Decimal("0.40")),
        ProjectView("c", status="draft", amount=None),
        ProjectView("d", status=""),
    ]
    p = domain.portfolio(views)
    assert p.by_status == {"active": 2, "draft": 1, "unknown": 1}
    assert domain.format_amount(p.total_amount) == "12346.00"
    assert p.overdue_tasks == 0
    assert [(h.project_id, h.health, h.reasons) for h in p.projects] == [(x, "green", ()) for x in "abcd"]
    empty = domain.portfolio([])
    assert (dict(empty.by_status), domain.format_amount(empty.total_amount), empty.projects) == ({}, "0.00", ())
