"""Project team rules (services/registry/domain/team.py): pure."""

from __future__ import annotations

import pytest

from baobei.core.errors import Conflict, Forbidden
from services.registry.domain import Status
from services.registry.domain import team as rules

KNOWN = {"owner", "pm1", "m1", "o1"}.__contains__


def test_initial_team_owner_is_pm_without_a_pm_field() -> None:
    assert rules.initial_team("owner", {}, user_exists=KNOWN) == {"owner": "pm"}
    # An unknown PM named falls back to the owner.
    assert rules.initial_team("owner", {"pm_id": "ghost"}, user_exists=KNOWN) == {"owner": "pm"}


def test_initial_team_from_form_fields() -> None:
    team = rules.initial_team("owner", {"project_manager": "pm1", "team_members": ["m1", "ghost", "pm1"],
                                        "observers": "o1，m1"}, user_exists=KNOWN)
    assert team == {"pm1": "pm", "m1": "member", "o1": "observer", "owner": "member"}


def test_team_violations_every_problem_at_once() -> None:
    members = [rules.Member("", "member"), rules.Member("pm1", "pm"), rules.Member("pm1", "member"),
               rules.Member("m1", "boss"), rules.Member("owner", "pm"), rules.Member("ghost", "observer")]
    got = [(v.field, v.en) for v in rules.team_violations(members, user_exists=KNOWN)]
    assert [f for f, _ in got] == ["members[0].user_id", "members[2].user_id", "members[3].role",
                                   "members[4].role", "members[5].user_id"]
    assert rules.team_violations([rules.Member("pm1", "pm"), rules.Member("o1", "observer")],
                                 user_exists=KNOWN) == []


def test_who_may_edit() -> None:
    team = {"pm1": "pm", "m1": "member"}
    for actor, admin in (("owner", False), ("pm1", False), ("x", True)):
        rules.check_may_edit(actor_id=actor, actor_is_admin=admin, owner_id="owner", team=team)
    for actor in ("m1", "o1", ""):
        with pytest.raises(Forbidden):
            rules.check_may_edit(actor_id=actor, actor_is_admin=False, owner_id="owner", team=team)


def test_team_diff() -> None:
    assert rules.team_diff({"a": "pm", "b": "member"}, {"a": "member", "c": "observer"}) == [
        {"user_id": "a", "change": "role", "from": "pm", "role": "member"},
        {"user_id": "b", "change": "removed", "role": "member"},
        {"user_id": "c", "change": "added", "role": "observer"},
    ]
    assert rules.team_diff({"a": "pm"}, {"a": "pm"}) == []


def test_handover_and_copy_rules() -> None:
    fields = [v.field for v in rules.handover_violations(to_user_id="ghost", from_user_id="owner", reason="",
                                                           user_exists=KNOWN)]
    assert fields == ["to_user_id"]
    same = rules.handover_violations(to_user_id="owner", from_user_id="owner", reason="", user_exists=KNOWN)
    assert [v.field for v in same] == ["to_user_id"]
    assert rules.handover_violations(to_user_id="m1", from_user_id="owner", reason="x" * 501,
                                     user_exists=KNOWN)[0].field == "reason"
    rules.check_copyable(Status.REJECTED)
    rules.check_copyable(Status.CANCELLED)
    with pytest.raises(Conflict):
        rules.check_copyable(Status.ACTIVE)
