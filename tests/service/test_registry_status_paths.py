"""The registry's lifecycle write paths in-process on a migrated database (SQLite, or PostgreSQL
with BAOBEI_TEST_PG_URL): CreateProject, SubmitProject and SetProjectStatus as the lifecycle
workflow calls them (report event ids, Finish's approval with its comment, return, reject,
cancel, close). Pinned: the rows each writes (project, history, team), the reporting events in the
outbox, the responses, the refusals (with their codes and field names, nothing written) and the
answers to a repeated request id. These paths run on prebuilt Core statements; the expectations
were checked against the ORM units of work they replaced."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from google.protobuf import struct_pb2
from sqlalchemy.engine import Engine

from baobei.core.blobs import blob_store
from baobei.core.errors import DomainError
from baobei.registry.v1 import registry_service_pb2 as pb
from baobei.reporting.v1 import reporting_service_pb2 as reporting_pb
from services.registry.import_runner import ImportRunner
from services.registry.models import metadata, processed_request
from services.registry.servicer import RegistryServicer

S = pb.ProjectStatus
OWNER, BOSS, PM_USER, GONE = "rep", "boss", "pm1", "gone"


class Context:
    def invocation_metadata(self) -> tuple[Any, ...]:
        return ()

    def time_remaining(self) -> float | None:
        return None


class Registry:
    """The servicer's methods without the gRPC wrapper: a refusal raises its DomainError."""

    def __init__(self, engine: Engine, tmp: Path) -> None:
        self.engine = engine
        self.servicer = RegistryServicer(engine, processed_request, blob_store(root=tmp / "blobs"),
                                         import_runner=ImportRunner(engine))
        self.ctx = Context()

    def call(self, method: str, request: Any) -> Any:
        return getattr(RegistryServicer, method).__wrapped__(self.servicer, request, self.ctx)

    def refused(self, method: str, request: Any) -> DomainError:
        with pytest.raises(DomainError) as err:
            self.call(method, request)
        return err.value

    def rows(self, sql: str, **params: Any) -> list[tuple[Any, ...]]:
        with self.engine.connect() as conn:
            return [tuple(r) for r in conn.execute(sa.text(sql), params)]


@pytest.fixture()
def reg(migrated_engine: Callable[[str], Engine], tmp_path: Path) -> Registry:
    r = Registry(migrated_engine("registry"), tmp_path)
    r.call("UpsertOrg", pb.UpsertOrgRequest(
        request_id="org", departments=[pb.Department(id="d1", name="销售部", manager_id=BOSS)],
        users=[pb.User(id=OWNER, name="销售", department_id="d1", roles=["sales"]),
               pb.User(id=BOSS, name="经理", department_id="d1", roles=["manager"]),
               pb.User(id=PM_USER, name="项目经理", department_id="d1", roles=["sales"]),
               pb.User(id=GONE, name="离职", department_id="d1", roles=["sales"], left=True)]))
    r.call("PutForm", pb.PutFormRequest(request_id="form", key="std", title="报备", fields=[
        pb.FormField(key="phone", label="电话", type="phone"),
        pb.FormField(key="pm_id", label="项目经理", type="user"),
        pb.FormField(key="observers", label="观察员", type="text")]))
    return r


def struct(d: dict[str, Any]) -> struct_pb2.Struct:
    s = struct_pb2.Struct()
    s.update(d)
    return s


def create(reg: Registry, n: int, *, fields: dict[str, Any] | None = None, customer: str = "",
           form: str = "std", **kw: Any) -> pb.CreateProjectResponse:
    out: pb.CreateProjectResponse = reg.call("CreateProject", pb.CreateProjectRequest(
        request_id=f"create-{n}", owner_id=OWNER, form_key=form, name=f"项目{n}",
        customer=pb.Customer(name=customer or f"客户{n}科技有限公司"), amount="10000.00",
        fields=struct(fields if fields is not None else {"phone": "13800138000"}), **kw))
    return out


def submit(reg: Registry, pid: str, *, attempt: int = 1, actor: str = OWNER, admin: bool = False,
           event: bool = True) -> pb.SubmitProjectResponse:
    out: pb.SubmitProjectResponse = reg.call("SubmitProject", submit_request(pid, attempt=attempt, actor=actor,
                                                                             admin=admin, event=event))
    return out


def submit_request(pid: str, *, attempt: int = 1, actor: str = OWNER, admin: bool = False,
                   event: bool = True) -> pb.SubmitProjectRequest:
    return pb.SubmitProjectRequest(
        request_id=f"project-{pid}:submit:{attempt}", project_id=pid, actor_id=actor, actor_is_admin=admin,
        report_event_id=f"project-{pid}:project.submitted:{attempt}" if event else "")


def status_request(pid: str, status: str, *, event: str, comment: str = "", actor: str = BOSS, round_no: int = 1,
                   report: str = "") -> pb.SetProjectStatusRequest:
    """As the lifecycle workflow sends it (``_finish``, ``_returned``, withdraw)."""
    return pb.SetProjectStatusRequest(
        request_id=f"project-{pid}:status:{round_no}:{status}", project_id=pid,
        status=getattr(S, f"PROJECT_STATUS_{status.upper()}"), actor_id=actor, event=event, comment=comment,
        report_event_id=f"project-{pid}:{report}:{round_no}" if report else "")


def set_status(reg: Registry, pid: str, status: str, **kw: Any) -> pb.SetProjectStatusResponse:
    out: pb.SetProjectStatusResponse = reg.call("SetProjectStatus", status_request(pid, status, **kw))
    return out


def history(reg: Registry, pid: str) -> list[tuple[str, str, dict[str, Any]]]:
    out = []
    for actor, event, data in reg.rows("SELECT actor, event, data FROM project_history WHERE project_id = :p"
                                       " ORDER BY at, id", p=pid):
        out.append((actor, event, data if isinstance(data, dict) else json.loads(data)))
    return out


def project_row(reg: Registry, pid: str) -> dict[str, Any]:
    """The stored columns, decoded by the table's types (JSON, timestamps)."""
    table = metadata.tables["project"]
    with reg.engine.connect() as conn:
        return dict(conn.execute(sa.select(table).where(table.c.id == pid)).one()._mapping)


def outbox(reg: Registry) -> list[reporting_pb.Event]:
    return [reporting_pb.Event.FromString(bytes(data))
            for (data,) in reg.rows("SELECT event FROM event_outbox ORDER BY seq")]


def team(reg: Registry, pid: str) -> list[tuple[str, str, str]]:
    return sorted(reg.rows("SELECT user_id, role, added_by FROM project_team WHERE project_id = :p", p=pid))


def counts(reg: Registry) -> tuple[int, ...]:
    return tuple(reg.rows(f"SELECT count(*) FROM {t}")[0][0]
                 for t in ("project", "project_history", "project_team", "event_outbox", "processed_request"))


def utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def kinds(events: list[reporting_pb.Event]) -> list[tuple[str, str, str, str]]:
    return [(e.event_id, e.WhichOneof("kind") or "", e.project_id, e.actor_id) for e in events]


def test_the_lifecycle_writes_create_submit_approve(reg: Registry) -> None:
    created = create(reg, 1)
    p = created.project
    assert not created.existing and p.status == S.PROJECT_STATUS_DRAFT and p.version == 1
    assert re.fullmatch(r"BB-\d{4}-000001", p.code)
    assert (p.owner_id, p.department_id, p.amount, p.form_key, p.form_version) == (OWNER, "d1", "10000.00", "std", 1)
    assert (p.protection.state, p.protection.follow_ups, p.external_source, p.external_id) == ("none", 0, "", "")
    assert [(h.actor, h.event) for h in p.history] == [(OWNER, "created")]
    row = project_row(reg, p.id)
    assert {k: row[k] for k in ("code", "status", "name", "customer_name", "customer_name_norm", "customer_name_key",
                                "customer_uscc", "amount", "fields", "form_key", "form_version", "owner_id",
                                "department_id", "conflicts", "version", "claim_key", "protection_state",
                                "protected_since", "waitlist_seq", "follow_ups", "import_key", "external_source",
                                "external_id")} == {
        "code": p.code, "status": "draft", "name": "项目1", "customer_name": "客户1科技有限公司",
        "customer_name_norm": row["customer_name_norm"], "customer_name_key": row["customer_name_key"],
        "customer_uscc": "", "amount": "10000.00", "fields": {"phone": "13800138000"}, "form_key": "std",
        "form_version": 1, "owner_id": OWNER, "department_id": "d1", "conflicts": [], "version": 1,
        "claim_key": "", "protection_state": "", "protected_since": None, "waitlist_seq": None, "follow_ups": 0,
        "import_key": None, "external_source": None, "external_id": None,
    }
    assert row["customer_name_norm"] and row["customer_name_key"] == row["customer_name_norm"][:2]
    assert utc(row["created_at"]) == utc(row["updated_at"]) == p.created_at.ToDatetime(tzinfo=UTC)
    assert history(reg, p.id) == [(OWNER, "created", {"to": "draft", "conflicts": 0})]
    assert kinds(outbox(reg)) == [(f"project-{p.id}:project.created:0", "project_created", p.id, OWNER)]
    facts = outbox(reg)[0].project_created
    assert (facts.code, facts.status, facts.amount, facts.owner_id, facts.form_key) == (
        p.code, "draft", "10000.00", OWNER, "std")

    submitted = submit(reg, p.id).project
    assert (submitted.status, submitted.version, submitted.conflict_count) == (S.PROJECT_STATUS_PENDING_APPROVAL, 2, 0)
    assert [(h.actor, h.event) for h in submitted.history] == [(OWNER, "created"), (OWNER, "submitted")]
    row = project_row(reg, p.id)
    assert (row["status"], row["version"], row["conflicts"], row["protection_state"]) == (
        "pending_approval", 2, [], "")
    assert utc(row["updated_at"]) == submitted.updated_at.ToDatetime(tzinfo=UTC) == submitted.history[1].at.ToDatetime(
        tzinfo=UTC)
    assert history(reg, p.id)[1:] == [(OWNER, "submitted", {"from": "draft", "to": "pending_approval", "conflicts": 0})]
    assert kinds(outbox(reg))[1:] == [(f"project-{p.id}:project.submitted:1", "project_submitted", p.id, OWNER)]
    assert outbox(reg)[1].project_submitted.status == "pending_approval"

    resp = set_status(reg, p.id, "active", event="approved", comment="同意", report="project.approved")
    approved = resp.project
    assert (approved.status, approved.version, list(resp.promoted)) == (S.PROJECT_STATUS_ACTIVE, 3, [])
    assert [(h.actor, h.event) for h in approved.history] == [(OWNER, "created"), (OWNER, "submitted"),
                                                              (BOSS, "approved")]
    assert history(reg, p.id)[2:] == [(BOSS, "approved", {"from": "pending_approval", "to": "active",
                                                          "comment": "同意"})]
    row = project_row(reg, p.id)
    assert (row["status"], row["version"]) == ("active", 3)
    assert utc(row["updated_at"]) == approved.updated_at.ToDatetime(tzinfo=UTC)
    assert team(reg, p.id) == [(OWNER, "pm", BOSS)]  # no PM named: the owner
    assert kinds(outbox(reg))[2:] == [(f"project-{p.id}:project.approved:1", "project_approved", p.id, BOSS)]
    assert outbox(reg)[2].project_approved.status == "active"
    # The responses as a read answers them (the stored columns, the whole history).
    got = reg.call("GetProject", pb.GetProjectRequest(project_id=p.id)).project
    assert got == approved


def test_a_repeated_request_id_answers_the_first_response_and_writes_nothing(reg: Registry) -> None:
    p = create(reg, 1).project
    again = create(reg, 1)
    assert again.project == p and counts(reg) == (1, 1, 0, 1, 3)
    first = submit(reg, p.id)
    before = counts(reg)
    assert submit(reg, p.id) == first and counts(reg) == before
    approve = status_request(p.id, "active", event="approved", comment="好", report="project.approved")
    first_status = reg.call("SetProjectStatus", approve)
    before = counts(reg)
    assert reg.call("SetProjectStatus", approve) == first_status and counts(reg) == before
    assert len(team(reg, p.id)) == 1


def test_the_same_status_again_under_a_new_request_id_changes_nothing_but_reports(reg: Registry) -> None:
    """Already there: no history, no version, the team kept; the reporting event is published
    under the id given (reporting applies each event id once)."""
    p = create(reg, 1).project
    submit(reg, p.id)
    first = set_status(reg, p.id, "active", event="approved", report="project.approved").project
    again = set_status(reg, p.id, "active", event="approved", round_no=2, report="project.approved").project
    assert again == first and len(history(reg, p.id)) == 3 and team(reg, p.id) == [(OWNER, "pm", BOSS)]
    assert kinds(outbox(reg))[-2:] == [(f"project-{p.id}:project.approved:{n}", "project_approved", p.id, BOSS)
                                      for n in (1, 2)]


def test_concurrent_duplicates_take_effect_once(reg: Registry) -> None:
    p = create(reg, 1).project
    submit(reg, p.id)
    request = status_request(p.id, "active", event="approved", report="project.approved")
    answers: list[Any] = []

    def call() -> None:
        answers.append(reg.call("SetProjectStatus", request))

    threads = [threading.Thread(target=call) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(answers) == 4 and all(a == answers[0] for a in answers)
    assert [e for _, e, _ in history(reg, p.id)] == ["created", "submitted", "approved"]
    assert len(outbox(reg)) == 3 and team(reg, p.id) == [(OWNER, "pm", BOSS)]


def test_the_initial_team_from_the_form_fields(reg: Registry) -> None:
    p = create(reg, 1, fields={"pm_id": PM_USER, "observers": f"{BOSS},{GONE}, nobody"}).project
    submit(reg, p.id)
    set_status(reg, p.id, "active", event="approved", actor="", report="project.approved")
    assert team(reg, p.id) == [(BOSS, "observer", "system"), (PM_USER, "pm", "system"), (OWNER, "member", "system")]
    # A departed PM named: the owner is PM.
    q = create(reg, 2, fields={"pm_id": GONE}).project
    submit(reg, q.id)
    set_status(reg, q.id, "active", event="approved")
    assert team(reg, q.id) == [(OWNER, "pm", BOSS)]


def test_return_resubmit_reject_cancel_close(reg: Registry) -> None:
    p = create(reg, 1).project
    submit(reg, p.id)
    returned = set_status(reg, p.id, "returned", event="returned", comment="补充材料", report="project.returned")
    assert (returned.project.status, returned.project.version) == (S.PROJECT_STATUS_RETURNED, 3)
    again = submit(reg, p.id, attempt=2).project
    assert (again.status, again.version) == (S.PROJECT_STATUS_PENDING_APPROVAL, 4)
    rejected = set_status(reg, p.id, "rejected", event="rejected", round_no=2, report="project.rejected").project
    assert (rejected.status, rejected.version) == (S.PROJECT_STATUS_REJECTED, 5)
    assert history(reg, p.id)[1:] == [
        (OWNER, "submitted", {"from": "draft", "to": "pending_approval", "conflicts": 0}),
        (BOSS, "returned", {"from": "pending_approval", "to": "returned", "comment": "补充材料"}),
        (OWNER, "submitted", {"from": "returned", "to": "pending_approval", "conflicts": 0}),
        (BOSS, "rejected", {"from": "pending_approval", "to": "rejected"}),
    ]
    assert team(reg, p.id) == []
    q = create(reg, 2).project
    submit(reg, q.id)
    cancelled = set_status(reg, q.id, "cancelled", event="withdrawn", actor=OWNER, comment="不做了",
                           report="project.cancelled").project
    assert cancelled.status == S.PROJECT_STATUS_CANCELLED
    assert history(reg, q.id)[-1] == (OWNER, "withdrawn", {"from": "pending_approval", "to": "cancelled",
                                                          "comment": "不做了"})
    r = create(reg, 3).project
    submit(reg, r.id)
    set_status(reg, r.id, "active", event="approved")
    closed = set_status(reg, r.id, "closed", event="", actor="crm").project  # no event: the status names it
    assert (closed.status, closed.version) == (S.PROJECT_STATUS_CLOSED, 4)
    assert history(reg, r.id)[-1] == ("crm", "closed", {"from": "active", "to": "closed"})
    assert [k for _, k, _, _ in kinds(outbox(reg))] == [
        "project_created", "project_submitted", "project_returned", "project_submitted", "project_rejected",
        "project_created", "project_submitted", "project_cancelled",
        "project_created", "project_submitted"]  # no report event id given: nothing published
    assert [e.event_id for e in outbox(reg)][2:5] == [f"project-{p.id}:project.returned:1",
                                                      f"project-{p.id}:project.submitted:2",
                                                      f"project-{p.id}:project.rejected:2"]


def test_refusals_write_nothing(reg: Registry) -> None:
    p = create(reg, 1).project
    before = counts(reg)
    err = reg.refused("SubmitProject", submit_request(p.id, actor=BOSS))
    assert (type(err).__name__, err.code) == ("Forbidden", "not_owner")
    err = reg.refused("SetProjectStatus", status_request(p.id, "active", event="approved"))
    assert (type(err).__name__, err.code, err.en) == ("Conflict", "illegal_transition",
                                                      "illegal transition: draft -> active")
    for method, request in (("SubmitProject", submit_request("nope")),
                            ("SetProjectStatus", status_request("nope", "active", event="approved"))):
        err = reg.refused(method, request)
        assert (type(err).__name__, err.code, err.en) == ("NotFound", "project_not_found", "project nope not found")
    err = reg.refused("SetProjectStatus", pb.SetProjectStatusRequest(request_id="x", project_id=p.id, actor_id=BOSS))
    assert err.code == "validation_failed" and [v.field for v in err.violations] == ["status"]
    err = reg.refused("SubmitProject", pb.SubmitProjectRequest(project_id=p.id, actor_id=OWNER))
    assert err.code == "validation_failed" and [v.field for v in err.violations] == ["request_id"]
    assert counts(reg) == before
    # An admin submits for the owner; the history names the admin.
    submitted = submit(reg, p.id, actor="admin", admin=True).project
    assert submitted.history[-1].actor == "admin"
    err = reg.refused("SubmitProject", submit_request(p.id, attempt=2))
    assert (err.code, err.en) == ("illegal_transition", "illegal transition: pending_approval -> pending_approval")
    set_status(reg, p.id, "active", event="approved")
    before = counts(reg)
    # Closing has no reporting event: refused with the field named, the change rolled back.
    err = reg.refused("SetProjectStatus", status_request(p.id, "closed", event="closed", report="project.closed"))
    assert err.code == "validation_failed" and [v.field for v in err.violations] == ["report_event_id"]
    assert counts(reg) == before and project_row(reg, p.id)["status"] == "active"
    err = reg.refused("SetProjectStatus", status_request(p.id, "returned", event="returned"))
    assert (err.code, err.en) == ("illegal_transition", "illegal transition: active -> returned")
    assert counts(reg) == before


def test_a_refused_request_id_is_not_spent(reg: Registry) -> None:
    p = create(reg, 1).project
    submit(reg, p.id)
    set_status(reg, p.id, "active", event="approved")
    refused = status_request(p.id, "closed", event="closed", report="project.closed")
    reg.refused("SetProjectStatus", refused)
    refused.report_event_id = ""
    closed = reg.call("SetProjectStatus", refused).project
    assert closed.status == S.PROJECT_STATUS_CLOSED and history(reg, p.id)[-1][1] == "closed"


def test_the_customer_line_on_submit_and_release(reg: Registry) -> None:
    """Forms with a protection period: submit joins the customer's line, a rejected holder leaves
    it and the next in line is promoted (the rows and the responses)."""
    reg.call("PutForm", pb.PutFormRequest(request_id="form-p", key="prot", title="保护", fields=[
        pb.FormField(key="phone", label="电话", type="phone")], settings=pb.FormSettings(protection_days=30)))
    a = create(reg, 1, form="prot", customer="星辰云海科技有限公司").project
    b = create(reg, 2, form="prot", customer="星辰云海科技有限公司").project
    first = submit(reg, a.id).project
    assert (first.protection.state, first.status) == ("holder", S.PROJECT_STATUS_PENDING_APPROVAL)
    second = submit(reg, b.id).project
    assert (second.protection.state, second.conflict_count) == ("waitlisted", 1)
    assert [e for _, e, _ in history(reg, b.id)] == ["created", "protection.waitlisted", "submitted"]
    assert history(reg, b.id)[1][2] == {"behind": a.id, "seq": 1}
    row = project_row(reg, b.id)
    assert (row["status"], row["protection_state"], row["waitlist_seq"], row["version"]) == (
        "pending_approval", "waitlisted", 1, 2)
    assert row["claim_key"] == project_row(reg, a.id)["claim_key"] == row["customer_name_norm"]
    resp = set_status(reg, a.id, "rejected", event="rejected", report="project.rejected")
    assert [(x.project_id, x.status) for x in resp.promoted] == [(b.id, S.PROJECT_STATUS_PENDING_APPROVAL)]
    assert (resp.project.status, resp.project.protection.state, resp.project.version) == (
        S.PROJECT_STATUS_REJECTED, "released", 3)
    assert [e for _, e, _ in history(reg, a.id)] == ["created", "protection.holder", "submitted", "rejected",
                                                     "protection.released"]
    row = project_row(reg, a.id)
    assert (row["status"], row["protection_state"], row["waitlist_seq"]) == ("rejected", "released", None)
    row = project_row(reg, b.id)
    assert (row["protection_state"], row["waitlist_seq"]) == ("holder", None)
    assert reg.rows("SELECT holder_project_id FROM customer_claim") == [(b.id,)]
    assert [e for _, e, _ in history(reg, b.id)][-1] == "protection.promoted"
    resp = set_status(reg, b.id, "active", event="approved")
    assert resp.project.protection.state == "holder"  # the protection starts with StartProtection
