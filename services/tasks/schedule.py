"""Automatic scheduling and the critical path (CPM), pure and in working-day indices.

Time is half-open: a task occupies indices ``[s, f)`` with ``f = s + d``; a milestone has d = 0.
Links, with lag ``L`` in working days (negative = lead):

    FS: s_succ >= f_pred + L        SS: s_succ >= s_pred + L
    FF: f_succ >= f_pred + L        SF: f_succ >= s_pred + L

Forward pass (topological order): early start = max(own "no earlier than" start, every link);
a *pinned* task keeps its manual start, a task with an actual start keeps it, a done task keeps
its actual dates — so successors follow what really happened. Backward pass from the project
finish gives late dates; total slack = late start − early start; critical = slack ≤ 0.
Summary tasks (those with children) are not scheduled themselves: they roll up their children.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

LINK_TYPES = ("FS", "SS", "FF", "SF")


@dataclass(frozen=True)
class Link:
    predecessor: str
    type: str  # FS | SS | FF | SF
    lag: int = 0


@dataclass
class Node:
    id: str
    duration: int
    # Earliest allowed start (index), e.g. the task's own start date; None = only links decide.
    not_before: int | None = None
    # Pinned / actual start: the task starts exactly here whatever its predecessors do.
    fixed_start: int | None = None
    # Actual finish (exclusive index) of a done task, fixing its finish too.
    fixed_finish: int | None = None
    parent_id: str = ""
    links: tuple[Link, ...] = ()
    # Weight of the task in its parent's progress roll-up, and its own progress (0–100).
    weight: float = 1.0
    progress: int = 0


@dataclass
class Timing:
    es: int
    ef: int
    ls: int = 0
    lf: int = 0
    slack: int = 0
    critical: bool = False
    progress: int = 0
    summary: bool = False


@dataclass
class Plan:
    timings: dict[str, Timing] = field(default_factory=dict)
    start: int = 0
    finish: int = 0  # exclusive
    critical_path: list[str] = field(default_factory=list)


class CycleError(ValueError):
    def __init__(self, cycle: list[str]) -> None:
        super().__init__(" → ".join(cycle))
        self.cycle = cycle


def find_cycle(successors: dict[str, list[str]], nodes: list[str]) -> list[str] | None:
    """One dependency cycle as [a, b, …, a], or None (iterative DFS, fine for large plans)."""
    white, grey, black = 0, 1, 2
    color = dict.fromkeys(nodes, white)
    for root in nodes:
        if color[root] != white:
            continue
        stack: list[tuple[str, int]] = [(root, 0)]
        path: list[str] = [root]
        color[root] = grey
        while stack:
            node, i = stack[-1]
            succ = successors.get(node, [])
            if i < len(succ):
                stack[-1] = (node, i + 1)
                nxt = succ[i]
                if color.get(nxt, black) == grey:
                    return path[path.index(nxt) :] + [nxt]
                if color.get(nxt) == white:
                    color[nxt] = grey
                    stack.append((nxt, 0))
                    path.append(nxt)
            else:
                color[node] = black
                stack.pop()
                path.pop()
    return None


def compute(nodes: list[Node], *, project_start: int, today: int | None = None) -> Plan:
    """Schedule ``nodes``; raises CycleError naming a cycle. ``today`` (index) pushes the forecast
    finish of started-but-unfinished tasks to at least today (they cannot finish in the past)."""
    by_id = {n.id: n for n in nodes}
    parents = {n.parent_id for n in nodes if n.parent_id and n.parent_id in by_id}
    leaves = [n for n in nodes if n.id not in parents]
    succs: dict[str, list[tuple[str, str, int]]] = {n.id: [] for n in leaves}
    indeg = dict.fromkeys(succs, 0)
    for n in leaves:
        for link in n.links:
            if link.predecessor in succs:
                succs[link.predecessor].append((n.id, link.type, link.lag))
                indeg[n.id] += 1
    order: list[str] = []
    queue = deque(i for i, d in indeg.items() if d == 0)
    while queue:
        node_id = queue.popleft()
        order.append(node_id)
        for succ, _, _ in succs[node_id]:
            indeg[succ] -= 1
            if indeg[succ] == 0:
                queue.append(succ)
    if len(order) != len(leaves):
        remaining = [i for i, d in indeg.items() if d > 0]
        cycle = find_cycle({k: [s for s, _, _ in v] for k, v in succs.items()}, remaining)
        raise CycleError(cycle or remaining)

    es: dict[str, int] = {}
    ef: dict[str, int] = {}
    for node_id in order:
        n = by_id[node_id]
        d = n.duration
        if n.fixed_start is not None:
            s = n.fixed_start
        else:
            s = project_start if n.not_before is None else n.not_before
            for link in n.links:
                p = link.predecessor
                if p not in ef:
                    continue
                if link.type == "FS":
                    s = max(s, ef[p] + link.lag)
                elif link.type == "SS":
                    s = max(s, es[p] + link.lag)
                elif link.type == "FF":
                    s = max(s, ef[p] + link.lag - d)
                else:  # SF
                    s = max(s, es[p] + link.lag - d)
        f = s + d
        if n.fixed_finish is not None:
            f = max(n.fixed_finish, s)
        elif today is not None and n.fixed_start is not None and d > 0 and f <= today:
            f = today + 1  # started, not done, planned finish passed: it finishes today at the earliest
        es[node_id], ef[node_id] = s, f

    finish = max(ef.values(), default=project_start)
    start = min(es.values(), default=project_start)
    ls: dict[str, int] = {}
    lf: dict[str, int] = {}
    for node_id in reversed(order):
        late_f = finish
        d = ef[node_id] - es[node_id]
        for succ, kind, lag in succs[node_id]:
            if kind == "FS":
                late_f = min(late_f, ls[succ] - lag)
            elif kind == "SS":
                late_f = min(late_f, ls[succ] - lag + d)
            elif kind == "FF":
                late_f = min(late_f, lf[succ] - lag)
            else:  # SF
                late_f = min(late_f, lf[succ] - lag + d)
        lf[node_id], ls[node_id] = late_f, late_f - d

    plan = Plan(start=start, finish=finish)
    for node_id in order:
        slack = ls[node_id] - es[node_id]
        plan.timings[node_id] = Timing(
            es=es[node_id],
            ef=ef[node_id],
            ls=ls[node_id],
            lf=lf[node_id],
            slack=slack,
            critical=slack <= 0,
            progress=by_id[node_id].progress,
        )
    plan.critical_path = [i for i in order if plan.timings[i].critical]
    _roll_up(plan, nodes, parents, by_id)
    return plan


def _roll_up(plan: Plan, nodes: list[Node], parents: set[str], by_id: dict[str, Node]) -> None:
    """Summary tasks span their children; progress is the weight-averaged progress of the leaves."""
    children: dict[str, list[str]] = {}
    for n in nodes:
        if n.parent_id in parents:
            children.setdefault(n.parent_id, []).append(n.id)

    def visit(node_id: str, seen: frozenset[str]) -> tuple[Timing, float, float] | None:
        if node_id in plan.timings and not plan.timings[node_id].summary:
            n = by_id[node_id]
            return plan.timings[node_id], n.weight, n.weight * n.progress
        rolled: list[tuple[Timing, float, float]] = []
        for child in children.get(node_id, []):
            if child in seen:
                continue  # a parent loop is refused on write; never recurse forever on bad data
            got = visit(child, seen | {child})
            if got is not None:
                rolled.append(got)
        if not rolled:
            return None
        weight = sum(w for _, w, _ in rolled)
        done = sum(p for _, _, p in rolled)
        t = Timing(
            es=min(r[0].es for r in rolled),
            ef=max(r[0].ef for r in rolled),
            ls=min(r[0].ls for r in rolled),
            lf=max(r[0].lf for r in rolled),
            slack=min(r[0].slack for r in rolled),
            critical=any(r[0].critical for r in rolled),
            progress=round(done / weight) if weight else 0,
            summary=True,
        )
        plan.timings[node_id] = t
        return t, weight, done

    for parent in parents:
        if parent not in plan.timings:
            visit(parent, frozenset({parent}))
