"""The conflicts (撞单) a project snapshot carries into workflows are bounded: the most similar
``MAX_WORKFLOW_CONFLICTS``, with their exact count."""

from __future__ import annotations

from temporalio.converter import DataConverter

from baobei.registry.v1 import registry_service_pb2 as pb
from workflows.activities.approval import facts
from workflows.contracts.project_snapshot import MAX_WORKFLOW_CONFLICTS, project_snapshot, top_conflicts
from workflows.contracts.registry import ProjectSnapshot


def _conflicts(scores: list[float]) -> list[pb.Conflict]:
    return [pb.Conflict(project_id=f"p{i}", reason=f"r{i}", score=s) for i, s in enumerate(scores)]


def test_top_conflicts_keeps_the_most_similar_in_order() -> None:
    # p3 and p7 are the most alike; equal scores keep the registry's order (oldest first).
    got = top_conflicts(_conflicts([100, 100, 90, 200, 100, 85, 100, 190]), limit=4)
    assert [c["project_id"] for c in got] == ["p3", "p7", "p0", "p1"]
    assert got[0] == {"project_id": "p3", "reason": "r3"}


def test_unscored_lists_keep_the_registry_order() -> None:
    """Lists stored before the registry scored conflicts: all 0, the first N."""
    got = top_conflicts(_conflicts([0.0] * 30))
    assert [c["project_id"] for c in got] == [f"p{i}" for i in range(MAX_WORKFLOW_CONFLICTS)]


def test_snapshot_bounds_the_list_and_keeps_the_exact_count() -> None:
    n = MAX_WORKFLOW_CONFLICTS + 5
    scores = [100.0] * n
    scores[-1] = 200.0  # the newest is the most similar: it must not be cut
    snap = project_snapshot(pb.Project(id="me", conflicts=_conflicts(scores)))
    assert snap.conflict_count == n
    assert len(snap.conflicts) == MAX_WORKFLOW_CONFLICTS
    assert snap.conflicts[0]["project_id"] == f"p{n - 1}"
    # Approval rules see the exact count (conflict_count) and the bounded list.
    sent = facts(snap)
    assert sent.conflict_count == n and len(sent.conflicts) == MAX_WORKFLOW_CONFLICTS

    few = project_snapshot(pb.Project(id="me", conflicts=_conflicts([100.0, 120.0])))
    assert (few.conflict_count, [c["project_id"] for c in few.conflicts]) == (2, ["p1", "p0"])
    none = project_snapshot(pb.Project(id="me"))
    assert (none.conflict_count, none.conflicts) == (0, [])


def test_payload_size_does_not_grow_with_the_conflicts() -> None:
    """10,000 conflicts (~2 MB unbounded, Temporal's payload limit) encode like 25."""
    reason = "客户名称高度相似（94%）；同一客户的项目名称相似（100%）"

    def encoded(n: int) -> int:
        project = pb.Project(id="me", conflicts=[
            pb.Conflict(project_id=f"{i:032x}", reason=reason, score=194.0) for i in range(n)])
        payload = DataConverter.default.payload_converter.to_payloads([project_snapshot(project)])[0]
        return len(payload.data)

    big, small = encoded(10_000), encoded(MAX_WORKFLOW_CONFLICTS + 5)
    assert big - small == len("10000") - len("25")  # only conflict_count's digits differ
    assert big < 8_000


def test_old_snapshots_decode() -> None:
    """A payload recorded before conflict_count existed (or with a longer list) still decodes."""
    conv = DataConverter.default.payload_converter
    old = conv.to_payloads([{"id": "p", "conflicts": [{"project_id": "x", "reason": "r"}] * 30}])
    snap = conv.from_payloads(old, [ProjectSnapshot])[0]
    assert (snap.conflict_count, len(snap.conflicts)) == (0, 30)
    assert facts(snap).conflict_count == 30  # the approval facts use max(count, len)
