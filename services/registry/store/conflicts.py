"""Collision candidates (撞单): live registrations sharing the customer's USCC or normalised name
(through their indexes) or its similar-name blocking key; ``domain.find_conflicts`` decides."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import Session, col

from services.registry import domain
from services.registry.domain import ConflictHit, Customer, Status, Viewer
from services.registry.domain.conflicts import probe
from services.registry.forms import FormDef
from services.registry.models import ProjectRow
from services.registry.names import block_key, normalise_name
from services.registry.store.forms import get_form
from services.registry.store.rows import project_of, utc
from services.registry.store.visibility import Visibility

# Similar-name candidates scored per lookup (a bucket larger than this keeps its newest).
SIMILAR_CANDIDATES = 500


def conflicts(session: Session, project_id: str, customer: Customer, project_name: str = "") -> list[ConflictHit]:
    """Live registrations other than ``project_id`` colliding with ``customer``."""
    norm = normalise_name(customer.name)
    match: list[sa.ColumnElement[bool]] = []
    if customer.uscc:
        match.append(col(ProjectRow.customer_uscc) == customer.uscc)
    if norm:
        match.append(col(ProjectRow.customer_name_norm) == norm)
    if not match:
        return []
    live = col(ProjectRow.status).not_in([s.value for s in domain.NOT_LIVE])
    cols = (col(ProjectRow.id), col(ProjectRow.status), col(ProjectRow.customer_uscc),
            col(ProjectRow.customer_name_norm), col(ProjectRow.name), col(ProjectRow.created_at))
    rows = list(session.execute(
        sa.select(*cols).where(sa.or_(*match)).where(col(ProjectRow.id) != project_id).where(live)
    ).all())
    if len(norm) >= 4:
        seen = {r[0] for r in rows}
        similar = session.execute(
            sa.select(*cols).where(col(ProjectRow.customer_name_key) == block_key(norm))
            .where(col(ProjectRow.id) != project_id).where(live)
            .order_by(col(ProjectRow.created_at).desc()).limit(SIMILAR_CANDIDATES)
        ).all()
        rows.extend(r for r in similar if r[0] not in seen)
    rows.sort(key=lambda r: (utc(r[5]), r[0]))
    others = [
        domain.Registration(id=r[0], status=Status(r[1]), customer_uscc=r[2], customer_name_norm=r[3], name=r[4])
        for r in rows
    ]
    return domain.find_conflicts(project_id, customer, others, project_name=project_name)


def refuse_blocked(form: FormDef | None, hits: list[ConflictHit]) -> None:
    """Raise the 409 of a "block" form when the registration collides."""
    err = domain.blocks(form.settings.conflict_policy, hits) if form is not None else None
    if err is not None:
        raise err


@dataclass(frozen=True)
class ConflictCheck:
    """What a registration for a customer would collide with now: (hit, code or "" when the
    viewer may not see that project), and the form's conflict policy."""

    matches: list[tuple[ConflictHit, str]]
    conflict_policy: str


def check_conflicts(
    *, session: Session, viewer: Viewer | None, form_key: str, customer: Customer, project_name: str = "",
    project_id: str = "",
) -> ConflictCheck:
    """The collisions create and submit would record (the same rules), storing nothing.
    ``project_id`` (the draft being edited) is left out."""
    form = get_form(session=session, key=form_key.strip())
    hits = conflicts(session, project_id.strip() or "-", probe(customer), project_name.strip())
    vis = Visibility(session, viewer)
    matches: list[tuple[ConflictHit, str]] = []
    for hit in hits:
        row = session.get(ProjectRow, hit.project_id)
        visible = row is not None and vis.can_see(project_of(row))
        matches.append((hit, row.code if row is not None and visible else ""))
    return ConflictCheck(matches=matches, conflict_policy=form.settings.conflict_policy or "warn")
