"""Registry decisions taken out of the store, tested without a database: who holds a customer's
line and in which order the waitlist follows, when a protection starts, lapses or extends; edits;
what an imported row does; attachment uploads and links; collision refusals; token refusals."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from baobei.core.errors import Conflict, FieldViolation, Forbidden
from services.registry import access, domain
from services.registry.domain import (
    ConflictHit,
    Customer,
    Project,
    Protection,
    Status,
    User,
    ValidProject,
    attachments,
    editing,
    imports,
)
from services.registry.domain import protection as line
from services.registry.domain.conflicts import probe
from services.registry.domain.protection import Member
from services.registry.forms import FormDef, FormField, FormSettings

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
SETTINGS = FormSettings(protection_days=30, protection_extend_days=10, protection_max_days=60,
                        protection_remind_days=3)


# ---------- the customer's line ----------


def test_first_registration_holds_the_line() -> None:
    me = Member("a", Status.DRAFT, Protection.NONE)
    assert line.join(me, None, 0) == line.Place(Protection.HOLDER)


def test_later_registrations_wait_in_submission_order() -> None:
    holder = Member("a", Status.PENDING_APPROVAL, Protection.HOLDER)
    second = line.join(Member("b", Status.DRAFT, Protection.NONE), holder, 0)
    third = line.join(Member("c", Status.RETURNED, Protection.NONE), holder, 1)
    assert second == line.Place(Protection.WAITLISTED, seq=1, behind="a")
    assert third == line.Place(Protection.WAITLISTED, seq=2, behind="a")


@pytest.mark.parametrize("state", [Protection.HOLDER, Protection.PROTECTED, Protection.WAITLISTED])
def test_a_resubmission_keeps_its_place(state: Protection) -> None:
    me = Member("b", Status.RETURNED, state, seq=4 if state is Protection.WAITLISTED else None)
    assert line.join(me, Member("a", Status.ACTIVE, Protection.PROTECTED), 7) is None


@pytest.mark.parametrize("holder", [
    Member("a", Status.REJECTED, Protection.HOLDER),  # no longer live
    Member("a", Status.CANCELLED, Protection.PROTECTED),
    Member("a", Status.ACTIVE, Protection.LAPSED),  # its protection ran out
    Member("a", Status.CLOSED, Protection.RELEASED),
])
def test_a_holder_that_no_longer_holds_is_replaced(holder: Member) -> None:
    assert not line.holds(holder)
    assert line.join(Member("b", Status.DRAFT, Protection.NONE), holder, 3) == line.Place(Protection.HOLDER)


def test_a_registration_that_left_may_rejoin_behind_the_holder() -> None:
    """Released before (say rejected, then filed again as a fresh line entry): it queues anew."""
    holder = Member("a", Status.ACTIVE, Protection.PROTECTED)
    assert line.join(Member("b", Status.DRAFT, Protection.RELEASED), holder, 2) == line.Place(
        Protection.WAITLISTED, seq=3, behind="a")


def test_successor_is_the_live_waitlisted_with_the_lowest_number() -> None:
    waitlist = [
        Member("c", Status.PENDING_APPROVAL, Protection.WAITLISTED, seq=3),
        Member("x", Status.CANCELLED, Protection.WAITLISTED, seq=1),  # not live: skipped
        Member("b", Status.ACTIVE, Protection.WAITLISTED, seq=2),
        Member("a", Status.ACTIVE, Protection.WAITLISTED, seq=0),  # the one leaving
    ]
    nxt = line.successor("a", waitlist)
    assert nxt is not None and nxt.project_id == "b"
    assert line.successor("a", [w for w in waitlist if w.project_id in ("a", "x")]) is None
    assert line.successor("a", []) is None


def test_promoted_registration_is_protected_at_once_only_when_approved() -> None:
    assert line.promoted_state(Status.ACTIVE) is Protection.PROTECTED
    assert line.promoted_state(Status.PENDING_APPROVAL) is Protection.HOLDER
    assert line.promoted_state(Status.RETURNED) is Protection.HOLDER


def test_waitlist_position_counts_live_registrations_ahead() -> None:
    waitlist = [
        Member("b", Status.PENDING_APPROVAL, Protection.WAITLISTED, seq=1),
        Member("c", Status.REJECTED, Protection.WAITLISTED, seq=2),  # gone: not counted
        Member("d", Status.ACTIVE, Protection.WAITLISTED, seq=3),
        Member("e", Status.DRAFT, Protection.WAITLISTED, seq=4),
    ]
    assert line.position(waitlist[0], waitlist) == 1
    assert line.position(waitlist[2], waitlist) == 2
    assert line.position(Member("f", Status.ACTIVE, Protection.WAITLISTED, seq=9), waitlist) == 3
    assert line.position(Member("h", Status.ACTIVE, Protection.HOLDER), waitlist) == 0


@pytest.mark.parametrize(("target", "leaves"), [
    (Status.ACTIVE, False), (Status.RETURNED, False), (Status.PENDING_APPROVAL, False),
    (Status.REJECTED, True), (Status.CANCELLED, True), (Status.CLOSED, True), (Status.DRAFT, True),
])
def test_which_status_changes_leave_the_line(target: Status, leaves: bool) -> None:
    assert line.leaves_line(target) is leaves


def test_only_forms_with_a_protection_period_put_registrations_in_line() -> None:
    assert line.joins_line(SETTINGS)
    assert not line.joins_line(FormSettings())
    assert not line.joins_line(None)


def test_approval_starts_the_protection_of_the_holder_only() -> None:
    assert line.starts(Status.ACTIVE, Protection.HOLDER)
    assert not line.starts(Status.ACTIVE, Protection.WAITLISTED)
    assert not line.starts(Status.ACTIVE, Protection.PROTECTED)  # a repeat changes nothing
    assert not line.starts(Status.PENDING_APPROVAL, Protection.HOLDER)
    assert not line.starts(Status.ACTIVE, Protection.NONE)


def test_a_protection_lapses_at_its_end_not_before() -> None:
    until = T0 + timedelta(days=30)
    assert not line.lapses(Protection.PROTECTED, until, until - timedelta(seconds=1))
    assert line.lapses(Protection.PROTECTED, until, until)
    assert not line.lapses(Protection.LAPSED, until, until + timedelta(days=1))
    assert not line.lapses(Protection.PROTECTED, None, until)


def test_follow_ups_extend_a_running_protection_up_to_its_cap() -> None:
    until, cap = line.protection_window(SETTINGS, T0)
    assert (until, cap) == (T0 + timedelta(days=30), T0 + timedelta(days=60))
    assert line.extensible(Protection.PROTECTED, until, cap)
    assert not line.extensible(Protection.HOLDER, until, cap)
    assert not line.extensible(Protection.PROTECTED, None, cap)
    assert line.extended_until(SETTINGS, until, cap, T0 + timedelta(days=25)) == T0 + timedelta(days=35)
    assert line.extended_until(SETTINGS, until, cap, T0 + timedelta(days=5)) == until  # never earlier
    assert line.extended_until(SETTINGS, until, cap, T0 + timedelta(days=55)) == cap


def test_reminder_only_for_a_running_protection() -> None:
    until = T0 + timedelta(days=30)
    assert line.reminder(SETTINGS, Protection.PROTECTED, until) == until - timedelta(days=3)
    assert line.reminder(SETTINGS, Protection.WAITLISTED, until) is None
    assert line.reminder(SETTINGS, Protection.PROTECTED, None) is None
    assert line.reminder(FormSettings(protection_days=30), Protection.PROTECTED, until) is None


# ---------- ownership and editing ----------


@pytest.mark.parametrize("action", sorted(domain.OWNER_ONLY))
def test_only_the_owner_or_an_admin_acts(action: str) -> None:
    domain.check_owner(action, actor_id="o", actor_is_admin=False, owner_id="o")
    domain.check_owner(action, actor_id="boss", actor_is_admin=True, owner_id="o")
    with pytest.raises(Forbidden) as err:
        domain.check_owner(action, actor_id="x", actor_is_admin=False, owner_id="o")
    assert err.value.code == "not_owner"


def _project(**kw: object) -> Project:
    base: dict[str, object] = dict(
        id="p", code="BB-2026-000001", status=Status.DRAFT, name="旧名", customer=Customer("客户", phone="13800138000"),
        amount=Decimal("100.50"), region="华东", business_line="", start_date=date(2026, 3, 1), end_date=None,
        fields={"industry": "制造", "budget": "9.00"}, form_key="standard", form_version=2, owner_id="o",
        department_id="team", conflicts=[], history=[], version=3, created_at=T0, updated_at=T0,
    )
    base.update(kw)
    return Project(**base)  # type: ignore[arg-type]


def test_only_current_drafts_and_returned_projects_are_editable() -> None:
    editing.check_editable(Status.DRAFT, version=3, expected_version=3)
    editing.check_editable(Status.RETURNED, version=3, expected_version=3)
    with pytest.raises(Conflict) as stale:
        editing.check_editable(Status.PENDING_APPROVAL, version=3, expected_version=2)
    assert stale.value.code == "stale_version"  # checked first
    for status in (Status.PENDING_APPROVAL, Status.ACTIVE, Status.CLOSED, Status.REJECTED):
        with pytest.raises(Conflict) as err:
            editing.check_editable(status, version=3, expected_version=3)
        assert err.value.code == "not_editable"


def test_unknown_keys_and_non_object_groups_are_refused() -> None:
    assert editing.change_violations({"name": "x", "customer": {"name": "y"}, "fields": None}) == []
    bad = editing.change_violations({"status": "active", "owner_id": "u", "customer": "y", "fields": [1]})
    assert [v.field for v in bad] == ["status", "owner_id", "customer", "fields"]


def test_write_roles_hold_for_setting_and_clearing() -> None:
    form = FormDef(key="standard", title="t", fields=(FormField("budget", write_roles=("finance",)),
                                                      FormField("industry")))
    assert editing.write_denied(form, {"industry": "x", "budget": None}, {"finance"}) == []
    assert [v.field for v in editing.write_denied(form, {"budget": "1"}, {"sales"})] == ["fields.budget"]
    assert [v.field for v in editing.write_denied(form, {"budget": None}, {"sales"})] == ["fields.budget"]
    assert editing.write_denied(None, {"budget": "1"}, set()) == []


def test_edited_input_applies_changes_over_the_stored_values() -> None:
    inp = editing.edited_input(_project(), {"name": " 新名 ", "amount": 7, "customer": {"contact": "王", "bogus": 1},
                                            "fields": {"industry": None, "extra": "e"}})
    assert (inp.owner_id, inp.form_key, inp.name, inp.amount) == ("o", "standard", " 新名 ", "7")
    assert inp.customer == Customer("客户", contact="王", phone="13800138000")
    assert (inp.region, inp.start_date, inp.end_date) == ("华东", "2026-03-01", "")
    assert dict(inp.fields) == {"budget": "9.00", "extra": "e"}


def test_diff_lists_each_changed_path_with_before_and_after() -> None:
    before = editing.snapshot(_project())
    valid = ValidProject(name="新名", customer=Customer("客户", phone="13800138000"), amount=Decimal("100.50"),
                         region="华东", business_line="", start_date=date(2026, 3, 1), end_date=date(2026, 4, 1),
                         fields={"budget": "9.00", "extra": "e"})
    assert before["amount"] == "100.50"
    assert editing.diff(before, editing.snapshot(valid)) == [
        {"field": "end_date", "before": "", "after": "2026-04-01"},
        {"field": "fields.extra", "before": None, "after": "e"},
        {"field": "fields.industry", "before": "制造", "after": None},
        {"field": "name", "before": "旧名", "after": "新名"},
    ]
    assert editing.diff(before, before) == []


# ---------- import rows ----------


def test_row_key_is_the_key_column_else_the_content() -> None:
    assert imports.row_key("f", {"row_key": " A-1 ", "name": "x"}) == "f:A-1"
    a = imports.row_key("f", {"name": "x", "amount": "1"})
    assert a == imports.row_key("f", {"amount": "1", "name": "x"})  # column order does not matter
    assert a != imports.row_key("f", {"name": "x", "amount": "2"})
    assert a.startswith("f:#") and len(a) == len("f:#") + 40
    assert len(imports.row_key("f", {"row_key": "k" * 300})) == 200


@pytest.mark.parametrize(("text", "status"), [
    (None, Status.ACTIVE), ("草稿", Status.DRAFT), ("已生效", Status.ACTIVE), ("进行中", Status.ACTIVE),
    ("CLOSED", Status.CLOSED), ("已关闭", Status.CLOSED), ("pending_approval", None), ("rejected", None),
    ("whatever", None),
])
def test_imported_rows_may_only_be_draft_active_or_closed(text: str | None, status: Status | None) -> None:
    assert imports.row_status({"status": text}) is status


def test_row_owner_problems_and_input() -> None:
    assert imports.row_owner({"owner_id": " u2 "}, "actor") == "u2"
    assert imports.row_owner({}, "actor") == "actor"
    problems = imports.row_problems(owner_id="ghost", owner_known=False, status=None)
    assert [v.field for v in problems] == ["owner_id", "status"]
    assert imports.row_problems(owner_id="u", owner_known=True, status=Status.DRAFT) == []
    inp = imports.row_input("f", "u", {"name": "n", "customer.name": "c", "amount": 12, "start_date": None},
                            {"a": "1", "b": None})
    assert (inp.form_key, inp.owner_id, inp.name, inp.customer.name, inp.amount, inp.start_date) == (
        "f", "u", "n", "c", "12", "")
    assert dict(inp.fields) == {"a": "1"}


def test_any_bad_row_refuses_the_sheet_unless_skipping_or_dry_run() -> None:
    result = imports.ImportResult(rows=3)
    assert imports.refusal(result, skip_invalid=False, dry_run=False) is None
    bad = FieldViolation("amount", "金额必须是数字", "amount must be a decimal number")
    result.errors.append((4, "金额", "amount", bad))
    err = imports.refusal(result, skip_invalid=False, dry_run=False)
    assert err is not None and [v.field for v in err.violations] == ["rows[4].amount"]
    assert err.violations[0].zh == "第 4 行 金额：金额必须是数字"
    assert imports.refusal(result, skip_invalid=True, dry_run=False) is None
    assert imports.refusal(result, skip_invalid=False, dry_run=True) is None


# ---------- attachments ----------


def test_upload_checks() -> None:
    assert attachments.content_type("Image/PNG; charset=x") == "image/png"
    assert attachments.content_type("") == "application/octet-stream"
    assert attachments.upload_violations(10, "image/png") == []
    assert attachments.upload_violations(10, "application/vnd.openxmlformats-officedocument.sheet") == []
    assert len(attachments.upload_violations(0, "application/x-msdownload")) == 2
    assert len(attachments.upload_violations(attachments.MAX_ATTACHMENT_BYTES + 1, "text/plain")) == 1


def test_attachment_references_and_links() -> None:
    aid = "sha256:" + "ab" * 32
    assert attachments.digest(aid) == "ab" * 32
    assert attachments.digest("sha256:" + "AB" * 32) == ""
    assert attachments.digest("sha256:abc") == ""
    assert attachments.references(aid, aid) and attachments.references([aid, "x"], aid)
    assert not attachments.references("x", aid) and not attachments.references(None, aid)
    assert attachments.may_link(readable=True, uploader_id="z", owner_id="o")
    assert attachments.may_link(readable=False, uploader_id="o", owner_id="o")
    assert not attachments.may_link(readable=False, uploader_id="z", owner_id="o")
    assert not attachments.may_link(readable=False, uploader_id="", owner_id="")


# ---------- collisions, org, tokens ----------


def test_a_block_form_refuses_with_every_collision_named() -> None:
    hits = [ConflictHit("p1", "客户名称相同"), ConflictHit("p2", "客户统一社会信用代码相同")]
    assert domain.blocks("warn", hits) is None
    assert domain.blocks("block", []) is None
    err = domain.blocks("block", hits)
    assert err is not None and err.code == "customer_conflict"
    assert [(v.field, v.zh) for v in err.violations] == [("customer.name", "p1：客户名称相同"),
                                                         ("customer.name", "p2：客户统一社会信用代码相同")]


def test_conflict_probe_ignores_a_uscc_still_being_typed() -> None:
    assert probe(Customer(" 华为 ", uscc="9144030070846")) == Customer("华为")
    assert probe(Customer("华为", uscc="91440300708461136t")) == Customer("华为", uscc="91440300708461136T")


def test_role_search_leaves_out_users_who_left() -> None:
    users = [User("a", roles=("sales",)), User("b", roles=("sales",), left=True), User("c")]
    assert [u.id for u in domain.who_may_act(users, "sales")] == ["a"]
    assert [u.id for u in domain.who_may_act(users, "")] == ["a", "b", "c"]
    assert domain.departed(users + [User("0", left=True)]) == ["0", "b"]


def test_token_refusals() -> None:
    token = access.AccessToken(id="t", user_id="u", name="", scopes=(), created_at=T0,
                               expires_at=T0 + timedelta(days=90))
    user = User("u")
    assert access.refusal(token, user, T0) is None
    expired = access.refusal(token, user, T0 + timedelta(days=90))
    assert expired is not None and expired[1].code == "token_expired"
    revoked = access.refusal(access.AccessToken(**{**token.__dict__, "revoked_at": T0}), user, T0)
    assert revoked is not None and revoked[1].code == "token_revoked"
    left = access.refusal(token, User("u", left=True), T0)
    assert left is not None and left[0] == "token.refused_left"
