"""Project team (项目团队), ownership handover (报备交接) and 再次发起 through RegistryService over
real gRPC."""

from __future__ import annotations

import grpc

from baobei.registry.v1 import registry_service_pb2 as pb
from baobei.registry.v1 import registry_service_pb2_grpc as pb_grpc
from tests.service import test_registry_service as base
from tests.service.test_registry_service import S, create, fails, rows, set_status

# The registry fixtures of test_registry_service (a server per test, the org and the form seeded).
db_url, stub, seeded = base.db_url, base.stub, base.seeded

Stub = pb_grpc.RegistryServiceStub


def viewer(uid: str, **kw: object) -> pb.Viewer:
    return pb.Viewer(user_id=uid, **kw)  # type: ignore[arg-type]


def approved(stub: Stub, tag: str, **kw: object) -> pb.Project:
    p = create(stub, **kw)
    stub.SubmitProject(pb.SubmitProjectRequest(request_id=f"s-{tag}", project_id=p.id, actor_id=p.owner_id),
                       timeout=10)
    return set_status(stub, f"a-{tag}", p.id, S.PROJECT_STATUS_ACTIVE, event="approved")


def team(stub: Stub, pid: str, uid: str = "") -> pb.TeamResponse:
    req = pb.GetTeamRequest(project_id=pid, viewer=viewer(uid)) if uid else pb.GetTeamRequest(project_id=pid)
    return stub.GetTeam(req, timeout=10)


def members(resp: pb.TeamResponse) -> list[tuple[str, str]]:
    return [(m.user_id, m.role) for m in resp.members]


def set_team(
    stub: Stub, rid: str, pid: str, actor: str, pairs: list[tuple[str, str]], admin: bool = False
) -> pb.TeamResponse:
    return stub.SetTeam(pb.SetTeamRequest(request_id=rid, project_id=pid, actor_id=actor, actor_is_admin=admin,
                                          members=[pb.TeamMember(user_id=u, role=r) for u, r in pairs]), timeout=10)


def test_owner_becomes_pm_at_approval_and_team_sees_project(seeded: Stub) -> None:
    p = create(seeded)
    assert members(team(seeded, p.id)) == []  # a draft has no team yet
    p = approved(seeded, "t1")
    got = team(seeded, p.id, "sales1")
    assert members(got) == [("sales1", "pm")] and got.can_edit and got.members[0].name == "销售一"
    # Set as part of the approval: no history entry of its own.
    history = seeded.GetProject(pb.GetProjectRequest(project_id=p.id), timeout=10).project.history
    assert "team_changed" not in [h.event for h in history]

    # Not on the team: not visible (mgr_bj manages another department).
    fails(seeded.GetProject, pb.GetProjectRequest(project_id=p.id, viewer=viewer("mgr_bj")),
          grpc.StatusCode.NOT_FOUND)
    fails(seeded.GetTeam, pb.GetTeamRequest(project_id=p.id, viewer=viewer("mgr_bj")), grpc.StatusCode.NOT_FOUND)

    got = set_team(seeded, "team-1", p.id, "sales1", [("sales2", "pm"), ("sales1", "member"), ("mgr_bj", "observer")])
    assert members(got) == [("sales2", "pm"), ("sales1", "member"), ("mgr_bj", "observer")]
    # A repeat of the same request changes nothing more.
    assert members(set_team(seeded, "team-1", p.id, "sales1", [])) == members(got)

    resp = seeded.GetProject(pb.GetProjectRequest(project_id=p.id, viewer=viewer("mgr_bj")), timeout=10)
    assert list(resp.viewer_relations) == ["observer"]
    # Field read permissions still hold for team members (floor_price is finance-only).
    assert "floor_price" not in resp.project.fields
    resp = seeded.GetProject(pb.GetProjectRequest(project_id=p.id, viewer=viewer("sales2")), timeout=10)
    assert "pm" in resp.viewer_relations
    listed = seeded.ListProjects(pb.ListProjectsRequest(viewer=viewer("mgr_bj")), timeout=10)
    assert p.id in [i.id for i in listed.items]
    history = seeded.GetProject(pb.GetProjectRequest(project_id=p.id), timeout=10).project.history
    changed = [h for h in history if h.event == "team_changed"]
    assert len(changed) == 1 and changed[0].actor == "sales1"

    # The observer may not change the team; the new PM may.
    f = fails(seeded.SetTeam, pb.SetTeamRequest(request_id="team-2", project_id=p.id, actor_id="mgr_bj"),
              grpc.StatusCode.PERMISSION_DENIED)
    assert f.reason == "not_team_editor"
    got = set_team(seeded, "team-3", p.id, "sales2", [("sales2", "pm")])
    assert members(got) == [("sales2", "pm")]
    fails(seeded.GetProject, pb.GetProjectRequest(project_id=p.id, viewer=viewer("mgr_bj")),
          grpc.StatusCode.NOT_FOUND)


def test_team_validation_names_the_field(seeded: Stub) -> None:
    p = approved(seeded, "t2")
    f = fails(seeded.SetTeam, pb.SetTeamRequest(
        request_id="bad", project_id=p.id, actor_id="sales1",
        members=[pb.TeamMember(user_id="ghost", role="pm"), pb.TeamMember(user_id="sales2", role="boss"),
                 pb.TeamMember(user_id="sales1", role="pm"), pb.TeamMember(user_id="fin", role="pm")]),
        grpc.StatusCode.INVALID_ARGUMENT, locale="en")
    assert {v.field for v in f.violations} == {"members[0].user_id", "members[1].role", "members[2].role",
                                               "members[3].role"}
    assert members(team(seeded, p.id)) == [("sales1", "pm")]


def test_pm_field_on_the_form_names_the_pm(seeded: Stub) -> None:
    form = pb.PutFormRequest(request_id="form-pm", key="pmform", title="带项目经理", fields=[
        pb.FormField(key="pm_id", label="项目经理", type="user"),
    ])
    seeded.PutForm(form, timeout=10)
    p = approved(seeded, "t3", form_key="pmform", fields={"pm_id": "sales2"})
    assert members(team(seeded, p.id)) == [("sales2", "pm"), ("sales1", "member")]


def test_handover_one_and_all(seeded: Stub, db_url: str) -> None:
    a = approved(seeded, "h1")
    b = create(seeded)
    done = create(seeded)
    seeded.SubmitProject(pb.SubmitProjectRequest(request_id="s-h3", project_id=done.id, actor_id="sales1"),
                         timeout=10)
    set_status(seeded, "r-h3", done.id, S.PROJECT_STATUS_REJECTED, event="rejected")

    f = fails(seeded.HandOverProjects, pb.HandOverProjectsRequest(request_id="h-bad", project_id=a.id,
                                                                   to_user_id="ghost", actor_id="admin"),
              grpc.StatusCode.INVALID_ARGUMENT)
    assert [v.field for v in f.violations] == ["to_user_id"]

    one = seeded.HandOverProjects(pb.HandOverProjectsRequest(request_id="h-1", project_id=a.id, to_user_id="mgr_bj",
                                                             actor_id="admin", reason="调岗"), timeout=10)
    assert [(h.project_id, h.from_user_id) for h in one.projects] == [(a.id, "sales1")]
    got = seeded.GetProject(pb.GetProjectRequest(project_id=a.id), timeout=10).project
    assert got.owner_id == "mgr_bj" and got.department_id == "bj"
    last = got.history[-1]
    assert last.event == "handed_over" and last.data["reason"] == "调岗" and last.data["from_user_id"] == "sales1"
    # The old owner was PM: the new owner is now.
    assert members(team(seeded, a.id)) == [("mgr_bj", "pm")]

    allp = seeded.HandOverProjects(pb.HandOverProjectsRequest(request_id="h-2", from_user_id="sales1",
                                                              to_user_id="sales2", actor_id="admin"), timeout=10)
    assert [h.project_id for h in allp.projects] == [b.id]  # the rejected one stays
    assert rows(db_url, f"SELECT owner_id FROM project WHERE id = '{done.id}'") == [("sales1",)]
    fails(seeded.HandOverProjects, pb.HandOverProjectsRequest(request_id="h-3", to_user_id="sales2"),
          grpc.StatusCode.INVALID_ARGUMENT)


def test_copy_rejected_into_new_draft(seeded: Stub) -> None:
    p = create(seeded, amount="2500.50", fields={"industry": "金融", "po": "PO-1234"})
    fails(seeded.CopyProject, pb.CopyProjectRequest(request_id="c0", project_id=p.id, actor_id="sales1"),
          grpc.StatusCode.FAILED_PRECONDITION)
    seeded.SubmitProject(pb.SubmitProjectRequest(request_id="s-c", project_id=p.id, actor_id="sales1"), timeout=10)
    set_status(seeded, "r-c", p.id, S.PROJECT_STATUS_REJECTED, event="rejected")
    f = fails(seeded.CopyProject, pb.CopyProjectRequest(request_id="c1", project_id=p.id, actor_id="sales2"),
              grpc.StatusCode.PERMISSION_DENIED)
    assert f.reason == "not_owner"
    copied = seeded.CopyProject(pb.CopyProjectRequest(request_id="c2", project_id=p.id, actor_id="sales1"),
                                timeout=10)
    new = copied.project
    assert new.id != p.id and new.code != p.code and new.status == S.PROJECT_STATUS_DRAFT
    assert (new.amount, new.customer.name, new.form_key, new.owner_id) == ("2500.50", p.customer.name, "standard",
                                                                          "sales1")
    assert dict(new.fields) == dict(p.fields)
    assert [h.event for h in new.history] == ["created", "copied_from"]
    assert new.history[-1].data["source_project_id"] == p.id
    again = seeded.CopyProject(pb.CopyProjectRequest(request_id="c2", project_id=p.id, actor_id="sales1"),
                               timeout=10)
    assert again.project.id == new.id
    src = seeded.GetProject(pb.GetProjectRequest(project_id=p.id), timeout=10).project
    assert src.history[-1].event == "copied_to"
