"""Collision candidates (撞单): live registrations sharing the customer's USCC or normalised name
(through their indexes) or its similar-name blocking key; ``domain.find_conflicts`` decides."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from services.registry import domain
from services.registry.domain import ConflictHit, Customer, Status, Viewer
from services.registry.domain.conflicts import Registration, probe, similar_among
from services.registry.forms import FormDef
from services.registry.models import ProjectRow
from services.registry.names import block_key, normalise_name
from services.registry.store.forms import get_form
from services.registry.store.rows import project_of, utc
from services.registry.store.visibility import Visibility

# Similar-name candidates scored per lookup (a bucket larger than this keeps its newest).
SIMILAR_CANDIDATES = 500
# Values per IN (...) of a bulk look-up.
IN_BATCH = 500


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


_DETAIL_COLS = (col(ProjectRow.id), col(ProjectRow.status), col(ProjectRow.customer_uscc),
                col(ProjectRow.customer_name_norm), col(ProjectRow.name), col(ProjectRow.created_at))


@dataclass(frozen=True)
class NewRegistration:
    """A registration about to be stored, as the collision index needs it."""

    project_id: str
    status: Status
    customer: Customer
    name: str


@dataclass
class ConflictIndex:
    """The collisions of many registrations at once (an import), by the rules of ``conflicts``:
    live rows are loaded in bulk (IN queries) by USCC, normalised name and blocking key (the
    newest ``SIMILAR_CANDIDATES`` per key, ids and names only), similar names are shortlisted in C,
    and only the shortlisted rows are read whole. Each new registration is added as it is
    checked, so later rows of a sheet see earlier ones. A key once loaded is not read again:
    registrations filed by others while an import runs are not seen by its later rows (as a
    single transaction would not see them)."""

    session: Session
    by_uscc: dict[str, list[str]] = field(default_factory=dict)
    by_norm: dict[str, list[str]] = field(default_factory=dict)
    # Blocking key → ids and their normalised names, oldest first (created_at, id).
    by_key: dict[str, tuple[list[str], list[str]]] = field(default_factory=dict)
    # Rows read whole: id → (status, USCC, normalised name, project name, created_at).
    details: dict[str, tuple[str, str, str, str, datetime]] = field(default_factory=dict)

    def _rows(self, stmt: Any) -> Sequence[Any]:
        # Core, not the ORM: plain tuples, thousands of them per chunk.
        return self.session.connection().execute(stmt).all()

    def _live(self) -> sa.ColumnElement[bool]:
        return col(ProjectRow.status).not_in([s.value for s in domain.NOT_LIVE])

    def _read(self, ids: Iterable[str]) -> None:
        missing = sorted(i for i in set(ids) if i not in self.details)
        for i in range(0, len(missing), IN_BATCH):
            for r in self._rows(sa.select(*_DETAIL_COLS).where(col(ProjectRow.id).in_(missing[i:i + IN_BATCH]))):
                self.details[r[0]] = (r[1], r[2], r[3], r[4], r[5])

    def load(self, customers: Iterable[Customer]) -> None:
        """Load the candidates of these customers not loaded yet."""
        usccs: set[str] = set()
        norms: set[str] = set()
        keys: set[str] = set()
        for customer in customers:
            norm = normalise_name(customer.name)
            if customer.uscc and customer.uscc not in self.by_uscc:
                usccs.add(customer.uscc)
            if norm and norm not in self.by_norm:
                norms.add(norm)
            if len(norm) >= 4 and block_key(norm) not in self.by_key:
                keys.add(block_key(norm))
        for column, values, target in ((ProjectRow.customer_uscc, usccs, self.by_uscc),
                                       (ProjectRow.customer_name_norm, norms, self.by_norm)):
            ordered = sorted(values)
            for value in ordered:
                target[value] = []
            for i in range(0, len(ordered), IN_BATCH):
                stmt = (sa.select(col(ProjectRow.id), col(column))
                        .where(col(column).in_(ordered[i:i + IN_BATCH])).where(self._live()))
                for r in self._rows(stmt):
                    target[r[1]].append(r[0])
        ordered = sorted(keys)
        for key in ordered:
            self.by_key[key] = ([], [])
        key_col = col(ProjectRow.customer_name_key)
        for i in range(0, len(ordered), IN_BATCH):
            batch = ordered[i:i + IN_BATCH]
            # Most buckets hold fewer than SIMILAR_CANDIDATES: read those whole, rank only the big
            # ones (counted from the key's index alone, live or not: an upper bound).
            sizes = self._rows(sa.select(key_col, sa.func.count()).where(key_col.in_(batch)).group_by(key_col))
            big = [k for k, n in sizes if n > SIMILAR_CANDIDATES]
            small = [k for k, n in sizes if n <= SIMILAR_CANDIDATES]
            stmts: list[Any] = []
            if small:
                stmts.append(sa.select(col(ProjectRow.id), col(ProjectRow.customer_name_norm), key_col)
                             .where(key_col.in_(small)).where(self._live())
                             .order_by(key_col, col(ProjectRow.created_at), col(ProjectRow.id)))
            if big:
                ranked = (
                    sa.select(col(ProjectRow.id), col(ProjectRow.customer_name_norm), key_col,
                              col(ProjectRow.created_at), sa.func.row_number().over(
                                  partition_by=key_col,
                                  order_by=(col(ProjectRow.created_at).desc(), col(ProjectRow.id).desc()),
                              ).label("rn"))
                    .where(key_col.in_(big)).where(self._live())
                    .subquery()
                )
                c = ranked.c
                stmts.append(sa.select(c.id, c.customer_name_norm, c.customer_name_key)
                             .where(c.rn <= SIMILAR_CANDIDATES).order_by(c.customer_name_key, c.created_at, c.id))
            for stmt in stmts:
                for r in self._rows(stmt):
                    ids, names = self.by_key[r[2]]
                    ids.append(r[0])
                    names.append(r[1])

    def _add(self, new: NewRegistration, at: datetime) -> None:
        if new.status in domain.NOT_LIVE:
            return
        norm = normalise_name(new.customer.name)
        self.details[new.project_id] = (new.status.value, new.customer.uscc, norm, new.name, at)
        for target, value in ((self.by_uscc, new.customer.uscc), (self.by_norm, norm)):
            if value in target:  # else not loaded yet: a later load reads it from the database
                target[value].append(new.project_id)
        bucket = self.by_key.get(block_key(norm))
        if bucket is not None:
            bucket[0].append(new.project_id)
            bucket[1].append(norm)

    def _candidates(self, project_id: str, customer: Customer) -> list[str]:
        """The exact USCC and name matches and the similar names among the newest of the key."""
        norm = normalise_name(customer.name)
        ids: dict[str, None] = {}
        if customer.uscc:
            ids.update(dict.fromkeys(self.by_uscc.get(customer.uscc, ())))
        if norm:
            ids.update(dict.fromkeys(self.by_norm.get(norm, ())))
        if len(norm) >= 4:
            bucket_ids, bucket_names = self.by_key.get(block_key(norm), ([], []))
            newest = bucket_ids[-SIMILAR_CANDIDATES:]
            ids.update((newest[i], None) for i in similar_among(norm, bucket_names[-SIMILAR_CANDIDATES:]))
        ids.pop(project_id, None)
        return list(ids)

    def register(self, news: Sequence[NewRegistration], at: datetime) -> list[list[ConflictHit]]:
        """The collisions of each new registration (stored at ``at``) in order, each seeing the
        ones before it; they are added to the index."""
        self.load(n.customer for n in news)
        candidates = []
        for new in news:
            candidates.append(self._candidates(new.project_id, new.customer))
            self._add(new, at)
        self._read(i for ids in candidates for i in ids)
        out = []
        for new, ids in zip(news, candidates, strict=True):
            picked = sorted(((i, self.details[i]) for i in ids), key=lambda p: (utc(p[1][4]), p[0]))
            others = [Registration(id=i, status=Status(d[0]), customer_uscc=d[1], customer_name_norm=d[2],
                                   name=d[3]) for i, d in picked]
            out.append(domain.find_conflicts(new.project_id, new.customer, others, project_name=new.name))
        return out


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
