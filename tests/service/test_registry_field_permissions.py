"""The registry withholds what a viewer may not read (issue 12 item 1): form fields with
read_roles and core fields restricted by the form's ``core_fields``, in GetProject, ListProjects
(also as search and filter: no matching on a hidden value) and history, where a restricted value
stays hidden after it is cleared. ``Project.hidden`` names the withheld paths for the edge."""

from __future__ import annotations

import grpc
import pytest

from baobei.registry.v1 import registry_service_pb2 as pb
from baobei.registry.v1 import registry_service_pb2_grpc as pb_grpc
from tests.service.test_registry_service import create, db_url, fails, seeded, struct, stub  # noqa: F401

FORM = pb.PutFormRequest(
    request_id="form-fp", key="guarded", title="受限报备",
    fields=[
        pb.FormField(key="industry", label="行业", type="text"),
        pb.FormField(key="floor_price", label="底价", type="text", read_roles=["finance"]),
    ],
    settings=pb.FormSettings(core_fields=[
        pb.CoreFieldAccess(field="amount", read_roles=["finance"]),
        pb.CoreFieldAccess(field="customer", read_roles=["finance", "exec"]),
        pb.CoreFieldAccess(field="region", read_roles=["finance"]),
    ]),
)


@pytest.fixture()
def guarded(seeded: pb_grpc.RegistryServiceStub) -> pb_grpc.RegistryServiceStub:  # noqa: F811
    seeded.PutForm(FORM, timeout=10)
    return seeded


def viewer(user_id: str, *roles: str, approves: str = "") -> pb.Viewer:
    return pb.Viewer(user_id=user_id, roles=list(roles), approver_project_ids=[approves] if approves else [])


def test_core_fields_round_trip_and_old_definitions_compare_equal(guarded: pb_grpc.RegistryServiceStub) -> None:
    form = guarded.GetForm(pb.GetFormRequest(key="guarded"), timeout=10).form
    assert [(c.field, list(c.read_roles)) for c in form.settings.core_fields] == [
        ("amount", ["finance"]), ("customer", ["finance", "exec"]), ("region", ["finance"])]
    again = pb.PutFormRequest()
    again.CopyFrom(FORM)
    again.request_id = "form-fp-2"
    assert not guarded.PutForm(again, timeout=10).created  # same definition: no new version
    plain = guarded.PutForm(pb.PutFormRequest(request_id="p1", key="plain", title="无限制",
                                              fields=[pb.FormField(key="a", type="text")]), timeout=10)
    same = guarded.PutForm(pb.PutFormRequest(request_id="p2", key="plain", title="无限制",
                                             fields=[pb.FormField(key="a", type="text")]), timeout=10)
    assert plain.created and not same.created


def test_core_fields_validation_names_paths(stub: pb_grpc.RegistryServiceStub) -> None:  # noqa: F811
    bad = pb.PutFormRequest(request_id="bad-core", key="bad", title="坏", fields=[pb.FormField(key="a", type="text")],
                            settings=pb.FormSettings(core_fields=[
                                pb.CoreFieldAccess(field="name", read_roles=["x"]),
                                pb.CoreFieldAccess(field="amount", read_roles=[]),
                                pb.CoreFieldAccess(field="region", read_roles=["x"]),
                                pb.CoreFieldAccess(field="region", read_roles=["y"]),
                            ]))
    f = fails(stub.PutForm, bad, grpc.StatusCode.INVALID_ARGUMENT, locale="en")
    assert [v.field for v in f.violations] == ["core_fields.name", "core_fields.amount.read_roles",
                                               "core_fields.region"]


def test_hidden_values_in_get_list_search_and_history(guarded: pb_grpc.RegistryServiceStub) -> None:
    p = create(guarded, form_key="guarded", owner_id="sales1", amount="888777.66", region="华东",
               customer=pb.Customer(name="机密客户有限公司", phone="13911112222"),
               fields={"industry": "制造", "floor_price": "FLOOR-1"})

    def get(v: pb.Viewer | None) -> pb.Project:
        req = pb.GetProjectRequest(project_id=p.id)
        if v is not None:
            req.viewer.CopyFrom(v)
        return guarded.GetProject(req, timeout=10).project

    # The team lead (manager, no finance) sees the project but none of its restricted values.
    lead = get(viewer("lead", "manager"))
    assert lead.amount == "" and lead.region == "" and lead.customer.name == "" and lead.customer.phone == ""
    assert dict(lead.fields) == {"industry": "制造"}
    assert set(lead.hidden) == {"amount", "region", "customer.name", "customer.uscc", "customer.contact",
                                "customer.phone", "fields.floor_price"}
    # An approver is held to read_roles like anyone else; the CEO (exec) reads the customer only.
    approver = get(viewer("sales2", "sales", approves=p.id))
    assert approver.amount == "" and "floor_price" not in approver.fields
    ceo = get(viewer("ceo", "exec"))
    assert ceo.customer.name == "机密客户有限公司" and ceo.amount == "" and set(ceo.hidden) >= {"amount"}
    for full in (get(viewer("fin", "finance", approves=p.id)), get(viewer("sales1", "sales")),
                 get(pb.Viewer(user_id="root", is_admin=True)), get(None)):
        assert full.amount == "888777.66" and full.fields["floor_price"] == "FLOOR-1" and not full.hidden

    # Search and filters never match on a value the viewer may not read.
    def ids(v: pb.Viewer, **kw: str) -> set[str]:
        return {i.id for i in guarded.ListProjects(pb.ListProjectsRequest(viewer=v, **kw), timeout=10).items}

    lead_v, owner_v = viewer("lead", "manager"), viewer("sales1", "sales")
    assert p.id in ids(lead_v) and p.id in ids(lead_v, q=p.code)
    for kw in ({"q": "机密客户"}, {"customer": "机密客户有限公司"}, {"amount_min": "888777"}, {"region": "华东"}):
        assert p.id not in ids(lead_v, **kw), kw
        assert p.id in ids(owner_v, **kw), kw
    listed = next(i for i in guarded.ListProjects(pb.ListProjectsRequest(viewer=lead_v), timeout=10).items
                  if i.id == p.id)
    assert listed.amount == "" and "floor_price" not in listed.fields and "amount" in listed.hidden

    # The owner clears the restricted field: its old value stays out of the lead's history.
    guarded.UpdateProject(pb.UpdateProjectRequest(
        request_id="clear-floor", project_id=p.id, actor_id="sales1", actor_roles=["sales"],
        expected_version=p.version, changes=struct({"fields": {"floor_price": None}, "amount": "999000"})), timeout=10)
    lead = get(lead_v)
    text = str([dict(h.data) for h in lead.history])
    assert "FLOOR-1" not in text and "888777" not in text and "999000" not in text
    owner = get(owner_v)
    changes = [c for h in owner.history if "changes" in h.data for c in h.data["changes"]]
    assert {c["field"] for c in changes} == {"amount", "fields.floor_price"}


def test_recipient_redactions_match_what_each_recipient_may_read(guarded: pb_grpc.RegistryServiceStub) -> None:
    """A notification's redaction in one read: the unredacted project and, per recipient, the
    paths GetProject would hide from them as a told recipient (the owner and finance: none)."""
    p = create(guarded, form_key="guarded", owner_id="sales1", amount="888777.66", region="华东",
               customer=pb.Customer(name="机密客户有限公司", phone="13911112222"),
               fields={"industry": "制造", "floor_price": "FLOOR-1"})
    answer = guarded.RecipientRedactions(pb.RecipientRedactionsRequest(
        project_id=p.id, user_ids=["lead", "sales1", "fin", "lead", "ceo", "ghost"]), timeout=10)
    assert answer.project.amount == "888777.66" and answer.project.fields["floor_price"] == "FLOOR-1"
    hidden = {r.user_id: list(r.hidden) for r in answer.recipients}
    assert list(hidden) == ["lead", "sales1", "fin", "ceo", "ghost"]  # once each, in order
    for user_id, roles in (("lead", ["manager"]), ("fin", ["finance"]), ("ceo", ["exec"]), ("ghost", [])):
        told = guarded.GetProject(pb.GetProjectRequest(project_id=p.id, viewer=viewer(user_id, *roles, approves=p.id)),
                                  timeout=10).project
        assert hidden[user_id] == sorted(told.hidden), user_id
    assert hidden["sales1"] == [] and hidden["fin"] == []
    assert {"amount", "fields.floor_price", "region"} <= set(hidden["lead"])
    assert "customer.name" not in hidden["ceo"] and "amount" in hidden["ceo"]
    f = fails(guarded.RecipientRedactions, pb.RecipientRedactionsRequest(project_id="nope", user_ids=["lead"]),
              grpc.StatusCode.NOT_FOUND)
    assert f is not None
