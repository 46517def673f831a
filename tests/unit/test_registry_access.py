"""Pure token and org-upsert rules of the registry (services/registry/access.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from baobei.core.errors import ValidationFailed
from services.registry.access import (
    SCOPES,
    OrgActor,
    guard_org,
    is_token_id,
    needs_touch,
    token_spec,
)
from services.registry.domain import Department, User

T = datetime(2030, 5, 1, tzinfo=UTC)


def test_token_spec_defaults_and_violations() -> None:
    assert token_spec("", [], scopes_given=False, expires_in_days=0).scopes == SCOPES
    assert token_spec(" ci ", [], scopes_given=True, expires_in_days=0).name == "ci"
    with pytest.raises(ValidationFailed) as err:
        token_spec("a\x00b", ["x"], scopes_given=True, expires_in_days=-1)
    assert {v.field for v in err.value.violations} == {"name", "scopes[0]", "expires_in_days"}


def test_touch_once_a_minute_and_token_ids() -> None:
    assert needs_touch(None, T) and not needs_touch(T, T + timedelta(seconds=59))
    assert needs_touch(T, T + timedelta(seconds=60))
    assert is_token_id("0" * 32) and not is_token_id("0" * 31) and not is_token_id("G" * 32)


def test_an_integrator_may_remove_roles_and_restate_what_exists() -> None:
    actor = OrgActor("sync", ("integrator", "sales"))
    existing = {"rep": User("rep", roles=("sales", "finance")), "sync": User("sync", roles=("integrator",))}
    depts = {"d": Department("d", "部门", manager_id="sync")}
    out = guard_org(actor, [Department("d", "部门2", manager_id="sync")],
                    [User("rep", roles=("sales",)), User("new", roles=())], existing, depts)
    assert out.refused == [] and [d.manager_id for d in out.departments] == ["sync"]
    assert [u.id for u in out.users] == ["rep", "new"]


def test_admins_and_internal_callers_are_not_limited() -> None:
    existing = {"root": User("root", roles=("admin",))}
    for actor in (None, OrgActor("root", ("admin",)), OrgActor("boot", (), is_admin=True)):
        out = guard_org(actor, [], [User("root", roles=(), left=True)], existing, {})
        assert out.refused == [] and out.users[0].left
