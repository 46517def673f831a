"""``domain.PlanningReads``, the org directory as one planning reads it, and the registry-backed
directory's ``user_and_links``: planning through the reads gives exactly the chain planning
straight on the directory gives (every approver type, the special cases, a directory with only the
plain protocol), with each read made once and the submitter's record and chain in one read; a
registry answering the chain without the user (older than that field) costs the GetUser it did."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import grpc
import pytest

from baobei.registry.v1 import registry_service_pb2 as rpb
from services.approval import domain
from services.approval.domain import ApproverSpec, InMemoryDirectory, OrgUser, Policy, PolicyOptions, StepSpec
from services.approval.org_client import DirectoryUnavailable, GrpcOrgDirectory


def org() -> InMemoryDirectory:
    #   hq (ceo) ─ sales (boss) ─ east (lead, who left) ─ team (no manager)
    #          └─ fin (cfo)
    return InMemoryDirectory(
        users={
            "ceo": OrgUser("ceo", "hq", ("exec",), "north"),
            "cfo": OrgUser("cfo", "fin", ("finance_head", "finance"), "north"),
            "boss": OrgUser("boss", "sales", ("sales_director",), "east"),
            "lead": OrgUser("lead", "east", ("sales", "reviewer"), "east", left=True),
            "rep": OrgUser("rep", "team", ("sales",), "east"),
            "acct-e": OrgUser("acct-e", "east", ("accountant",), "east"),
            "acct-s": OrgUser("acct-s", "sales", ("accountant",), "south"),
            "acct-t": OrgUser("acct-t", "team", ("accountant",), "east", left=True),
        },
        departments={
            "hq": ("", "ceo"), "fin": ("hq", "cfo"), "sales": ("hq", "boss"), "east": ("sales", "lead"),
            "team": ("east", ""),
        },
    )


@dataclass
class Counting:
    """A directory that counts the reads made of it (what it offers depends on ``offers``)."""

    inner: InMemoryDirectory
    calls: Counter[tuple[str, str]] = field(default_factory=Counter)

    def _count(self, name: str, arg: str) -> None:
        self.calls[(name, arg)] += 1

    def get_user(self, user_id: str) -> OrgUser | None:
        self._count("get_user", user_id)
        return self.inner.get_user(user_id)

    def users_with_role(self, role: str) -> list[str]:
        self._count("users_with_role", role)
        return self.inner.users_with_role(role)

    def manager_chain(self, user_id: str) -> list[str]:
        self._count("manager_chain", user_id)
        return self.inner.manager_chain(user_id)


class CountingRich(Counting):
    def role_holders(self, role: str) -> list[OrgUser]:
        self._count("role_holders", role)
        return self.inner.role_holders(role)

    def manager_links(self, user_id: str) -> list[tuple[str, str]]:
        self._count("manager_links", user_id)
        return self.inner.manager_links(user_id)

    def department_manager(self, department_id: str) -> str:
        self._count("department_manager", department_id)
        return self.inner.department_manager(department_id)


class CountingTogether(CountingRich):
    def user_and_links(self, user_id: str) -> tuple[OrgUser | None, list[tuple[str, str]]]:
        self._count("user_and_links", user_id)
        return self.inner.user_and_links(user_id)


def facts(amount: str = "100000") -> domain.ProjectFacts:
    return domain.ProjectFacts(project_id="p1", form_key="deal", amount=Decimal(amount), region="east")


def policy(*steps: StepSpec, **options: Any) -> Policy:
    return Policy(key="k", form_key="deal", version=1, steps=tuple(steps), options=PolicyOptions(**options))


SPECS = [
    ApproverSpec("user", user_id="boss"),
    ApproverSpec("user", user_id="lead"),  # left: no approver
    ApproverSpec("role", role="accountant"),
    ApproverSpec("role", role="accountant", scope="department"),
    ApproverSpec("role", role="accountant", scope="region"),
    ApproverSpec("role", role="finance_head", scope="department"),
    ApproverSpec("manager_of_submitter"),
    ApproverSpec("manager_level", level=2),
    ApproverSpec("managers_chain"),
    ApproverSpec("managers_chain", until_role="sales_director"),
    ApproverSpec("department_head", department_id="fin"),
    ApproverSpec("department_head", department_id="east"),  # its manager left
]
# Every approver type in one policy, used again for escalation, cc and escalate_to.
EVERYTHING = policy(
    *(StepSpec(f"s{i}", spec, escalate_to=ApproverSpec("manager_level", level=1),
               escalation=(domain.LadderLevel("1h", "escalate", ApproverSpec("managers_chain", level=2)),),
               cc=(ApproverSpec("role", role="accountant", scope="department"), ApproverSpec("user", user_id="ceo")))
      for i, spec in enumerate(SPECS)),
    on_no_approver="admin", approval_admin="ceo",
)
SUBMITTERS = ["rep", "boss", "ceo", "cfo", "lead", "ghost", ""]
POLICIES = {
    "everything": EVERYTHING,
    "skip_to_manager": policy(StepSpec("a", ApproverSpec("user", user_id="boss")),
                              StepSpec("b", ApproverSpec("role", role="sales_director")),
                              on_submitter_is_approver="skip_to_manager"),
    "self_approve": policy(StepSpec("a", ApproverSpec("manager_level", level=1)),
                           StepSpec("b", ApproverSpec("user", user_id="boss")),
                           on_submitter_is_approver="self_approve", on_no_approver="block"),
    "when": policy(StepSpec("big", ApproverSpec("user", user_id="ceo"), when="project.amount >= 500000.0"),
                   default_steps=(StepSpec("dflt", ApproverSpec("manager_of_submitter")),)),
}


@pytest.mark.parametrize("kind", [Counting, CountingRich, CountingTogether])
@pytest.mark.parametrize("name", sorted(POLICIES))
@pytest.mark.parametrize("submitter", SUBMITTERS)
def test_planning_through_the_reads_gives_the_same_chain(kind: type[Counting], name: str, submitter: str) -> None:
    p = POLICIES[name]
    straight = domain.plan_steps(p, facts(), submitter, kind(org()))
    directory = kind(org())
    reads = domain.PlanningReads(directory, [submitter])
    assert domain.plan_steps(p, facts(), submitter, reads) == straight
    assert reads.get_user(submitter) == org().get_user(submitter)
    # Each read once.
    assert max(directory.calls.values(), default=1) == 1, directory.calls
    if kind is CountingTogether and submitter:
        # The submitter's record and chain: one read together, neither on its own.
        assert directory.calls[("user_and_links", submitter)] == 1
        assert not {k for k in directory.calls if k[1] == submitter and k[0] != "user_and_links"}


def test_what_if_reads_a_submitter_once_for_all_their_projects() -> None:
    directory = CountingTogether(org())
    reads = domain.PlanningReads(directory, ["rep", "boss", "rep"])
    for submitter, amount in [("rep", "1000"), ("boss", "1000"), ("rep", "900000")]:
        domain.plan_steps(POLICIES["when"], facts(amount), submitter, reads)
    assert directory.calls == {("user_and_links", "rep"): 1, ("user_and_links", "boss"): 1, ("get_user", "ceo"): 1}


def test_a_user_who_is_not_a_submitter_is_read_on_their_own() -> None:
    """A named approver is not read with a chain it does not need (the chain costs the registry more)."""
    directory = CountingTogether(org())
    reads = domain.PlanningReads(directory, ["rep"])
    assert reads.get_user("boss") == org().get_user("boss")
    assert reads.manager_chain("boss") == ["boss", "ceo"]
    assert directory.calls == {("get_user", "boss"): 1, ("user_and_links", "boss"): 1}
    # A chain asked for first brings its user along.
    assert reads.manager_links("cfo") == [("fin", "cfo"), ("hq", "ceo")]
    assert reads.get_user("cfo") == org().get_user("cfo")
    assert directory.calls[("user_and_links", "cfo")] == 1 and ("get_user", "cfo") not in directory.calls


def test_new_reads_see_an_org_change() -> None:
    directory = org()
    assert domain.PlanningReads(directory, ["rep"]).manager_chain("rep") == ["boss", "ceo"]
    directory.departments["team"] = ("east", "acct-e")
    assert domain.PlanningReads(directory, ["rep"]).manager_chain("rep") == ["acct-e", "boss", "ceo"]


# ---------------------------------------------------------------- the registry-backed directory


class Failure(grpc.RpcError):  # type: ignore[misc]  # grpc ships no types
    def __init__(self, code: grpc.StatusCode) -> None:
        self._code = code

    def code(self) -> grpc.StatusCode:
        return self._code


class Stub:
    """RegistryService as the directory calls it, answering from ``org()``."""

    def __init__(self, *, with_user: bool = True, fail: grpc.StatusCode | None = None) -> None:
        self.org, self.with_user, self.fail = org(), with_user, fail
        self.calls: Counter[str] = Counter()

    def _user(self, user_id: str) -> rpb.User:
        u = self.org.get_user(user_id)
        if u is None:
            raise Failure(grpc.StatusCode.NOT_FOUND)
        out = rpb.User(id=u.id, department_id=u.department_id, roles=list(u.roles), region=u.region)
        setattr(out, "left", u.left)  # noqa: B010
        return out

    def GetUser(self, req: rpb.GetUserRequest, **_: Any) -> rpb.GetUserResponse:  # noqa: N802
        self.calls["GetUser"] += 1
        return rpb.GetUserResponse(user=self._user(req.user_id))

    def ListUsers(self, req: rpb.ListUsersRequest, **_: Any) -> rpb.ListUsersResponse:  # noqa: N802
        self.calls["ListUsers"] += 1
        found = [self._user(u.id) for u in self.org.role_holders(req.role)] if req.role else []
        return rpb.ListUsersResponse(users=[u for u in found if req.department_id in ("", u.department_id)])

    def GetManagerChain(self, req: rpb.GetManagerChainRequest, **_: Any) -> rpb.GetManagerChainResponse:  # noqa: N802
        self.calls["GetManagerChain"] += 1
        if self.fail is not None:
            raise Failure(self.fail)
        user = self._user(req.user_id)
        # As the registry: departments without a manager (or whose manager left) left out.
        links = [rpb.ManagerLink(department_id=d, manager_id=m) for d, m in self.org.manager_links(req.user_id) if m]
        resp = rpb.GetManagerChainResponse(links=links)
        if self.with_user:
            resp.user.CopyFrom(user)
        return resp


def grpc_directory(stub: Stub) -> GrpcOrgDirectory:
    directory = GrpcOrgDirectory("127.0.0.1:9")  # never dialled: the stub answers
    directory._stub = stub  # type: ignore[assignment]
    return directory


@pytest.mark.parametrize("with_user", [True, False])
def test_user_and_links_in_one_call_or_two_from_an_older_registry(with_user: bool) -> None:
    stub = Stub(with_user=with_user)
    directory = grpc_directory(stub)
    try:
        user, links = directory.user_and_links("rep")
        assert user == org().get_user("rep")
        # rep's own department has no manager: still first, for department-scoped roles.
        assert links == [("team", ""), ("sales", "boss"), ("hq", "ceo")]
        assert stub.calls == ({"GetManagerChain": 1} if with_user else {"GetManagerChain": 1, "GetUser": 1})
        assert directory.manager_links("rep") == links
        assert directory.manager_chain("rep") == ["boss", "ceo"]
        stub.calls.clear()
        assert directory.user_and_links("ghost") == (None, [])
        assert directory.user_and_links("") == (None, [])
        assert stub.calls == {"GetManagerChain": 1}  # NOT_FOUND, and nothing asked for no one
    finally:
        directory.close()


def test_planning_a_chain_over_the_registry_directory_is_one_call() -> None:
    stub = Stub()
    directory = grpc_directory(stub)
    p = policy(StepSpec("经理", ApproverSpec("manager_of_submitter")),
               StepSpec("会计", ApproverSpec("role", role="accountant", scope="department")))
    try:
        reads = domain.PlanningReads(directory, ["rep"])
        steps = domain.plan_steps(p, facts(), "rep", reads)
        assert [s.approvers for s in steps] == [("boss",), ("acct-s",)]
        assert reads.get_user("rep") == org().get_user("rep")
        assert stub.calls == {"GetManagerChain": 1, "ListUsers": 1}  # was GetManagerChain 2, GetUser 4, ListUsers 1
    finally:
        directory.close()


def test_an_unreachable_registry_is_reported_and_nothing_is_kept() -> None:
    stub = Stub(fail=grpc.StatusCode.UNAVAILABLE)
    directory = grpc_directory(stub)
    try:
        reads = domain.PlanningReads(directory, ["rep"])
        with pytest.raises(DirectoryUnavailable):
            reads.get_user("rep")
        stub.fail = None
        assert reads.get_user("rep") == org().get_user("rep")  # asked again: the failure was not kept
    finally:
        directory.close()
