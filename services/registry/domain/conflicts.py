"""Collisions (撞单): which live registrations a customer collides with, and when that blocks."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from baobei.core.errors import Conflict, FieldViolation
from services.registry import uscc
from services.registry.domain.projects import ConflictHit, Customer
from services.registry.domain.status import Status, is_live
from services.registry.names import (
    PROJECT_SIMILAR,
    SIMILAR,
    normalise_name,
    project_name_similarity,
    similar,
    similarity,
)


@dataclass(frozen=True)
class Registration:
    """What collision detection needs to know about another project."""

    id: str
    status: Status
    customer_uscc: str
    customer_name_norm: str
    name: str = ""


def find_conflicts(
    project_id: str, customer: Customer, others: Iterable[Registration], *, project_name: str = ""
) -> list[ConflictHit]:
    """Other live projects for the same customer: same USCC, same normalised name, or a highly
    similar name; a similar project name for that customer is added to the reason. In the order of
    ``others`` (the store passes them oldest first), each with its ``score``."""
    code = uscc.normalise(customer.uscc)
    norm = normalise_name(customer.name)
    hits = []
    for o in others:
        if o.id == project_id or not is_live(o.status):
            continue
        reasons = []
        alike = 0.0
        if code and o.customer_uscc == code:
            reasons.append("客户统一社会信用代码相同")
            alike = 100.0
        if norm and o.customer_name_norm == norm:
            reasons.append("客户名称相同")
            alike = 100.0
        elif norm and o.customer_name_norm and similar(norm, o.customer_name_norm):
            ratio = similarity(norm, o.customer_name_norm)
            reasons.append(f"客户名称高度相似（{ratio:.0f}%）")
            alike = max(alike, ratio)
        if reasons and project_name and o.name:
            score = project_name_similarity(project_name, o.name)
            if score >= PROJECT_SIMILAR:
                reasons.append(f"同一客户的项目名称相似（{score:.0f}%）")
                alike += score
        if reasons:
            hits.append(ConflictHit(project_id=o.id, reason="；".join(reasons), score=round(alike, 1)))
    return hits


def similar_among(norm: str, norms: Sequence[str]) -> list[int]:
    """Indexes of the normalised names in ``norms`` that may be similar to ``norm`` (a ratio
    reaching ``SIMILAR``), scored in one C call: a superset of what ``find_conflicts`` calls
    similar, so it need only look at these (and the exact USCC and name matches)."""
    if len(norm) < 4 or not norms:
        return []
    return sorted(i for _, _, i in process.extract(norm, norms, scorer=fuzz.ratio, processor=None,
                                                   score_cutoff=SIMILAR, limit=None))


def blocks(policy: str, conflicts: list[ConflictHit]) -> Conflict | None:
    """The 409 a "block" form answers to a colliding registration (None when it may proceed)."""
    if policy != "block" or not conflicts:
        return None
    ids = "、".join(c.project_id for c in conflicts)
    err = Conflict(
        f"与已有报备撞单：{ids}（{conflicts[0].reason}）",
        f"collides with existing registrations: {', '.join(c.project_id for c in conflicts)} ({conflicts[0].reason})",
        code="customer_conflict",
    )
    err.violations = [FieldViolation("customer.name", f"{c.project_id}：{c.reason}", f"{c.project_id}: {c.reason}")
                      for c in conflicts]
    return err


def probe(customer: Customer) -> Customer:
    """The customer a conflict check looks up while a form is being filled: a USCC that is not a
    valid code yet (still being typed) is ignored rather than refused."""
    code = uscc.normalise(customer.uscc) if uscc.is_valid(customer.uscc) else ""
    return Customer(name=customer.name.strip(), uscc=code)
