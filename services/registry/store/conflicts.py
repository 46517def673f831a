"""Collision candidates (撞单): live registrations sharing the customer's USCC or normalised name
(through their indexes) or its similar-name blocking key; ``domain.find_conflicts`` decides."""

from __future__ import annotations

import functools
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


# A row read whole: (status, USCC, normalised name, project name, created_at).
Detail = tuple[str, str, str, str, datetime]
_DETAIL_COLS = (col(ProjectRow.id), col(ProjectRow.status), col(ProjectRow.customer_uscc),
                col(ProjectRow.customer_name_norm), col(ProjectRow.name), col(ProjectRow.created_at))


def _live() -> sa.ColumnElement[bool]:
    return col(ProjectRow.status).not_in([s.value for s in domain.NOT_LIVE])


def _rows(session: Session, stmt: Any, params: dict[str, Any] | None = None) -> Sequence[Any]:
    # Core, not the ORM: plain tuples.
    return session.connection().execute(stmt, params).all()


def _read_into(session: Session, details: dict[str, Detail], stmt: Any, params: dict[str, Any] | None = None,
               ) -> list[str]:
    """Read whole the rows ``stmt`` (of ``_DETAIL_COLS``) selects into ``details``; their ids."""
    ids = []
    for r in _rows(session, stmt, params):
        details[r[0]] = (r[1], r[2], r[3], r[4], r[5])
        ids.append(r[0])
    return ids


def _read(session: Session, ids: Iterable[str], details: dict[str, Detail]) -> None:
    """Read whole the rows of ``ids`` not in ``details`` yet, into it."""
    missing = sorted(i for i in set(ids) if i not in details)
    for i in range(0, len(missing), IN_BATCH):
        _read_into(session, details, sa.select(*_DETAIL_COLS).where(col(ProjectRow.id).in_(missing[i:i + IN_BATCH])))


@functools.cache
def _exact_matches(by_uscc: bool, by_norm: bool) -> Any:
    """Live rows but one (``project_id``) with the USCC or the normalised name (bound)."""
    match: list[sa.ColumnElement[bool]] = []
    if by_uscc:
        match.append(col(ProjectRow.customer_uscc) == sa.bindparam("uscc"))
    if by_norm:
        match.append(col(ProjectRow.customer_name_norm) == sa.bindparam("norm"))
    return (sa.select(*_DETAIL_COLS).where(sa.or_(*match))
            .where(col(ProjectRow.id) != sa.bindparam("project_id")).where(_live()))


# The newest live rows but one (``project_id``) of a blocking key (bound), ids and names only.
_NEWEST_OF_KEY = (
    sa.select(col(ProjectRow.id), col(ProjectRow.customer_name_norm))
    .where(col(ProjectRow.customer_name_key) == sa.bindparam("key"))
    .where(col(ProjectRow.id) != sa.bindparam("project_id")).where(_live())
    .order_by(col(ProjectRow.created_at).desc(), col(ProjectRow.id).desc())
    .limit(SIMILAR_CANDIDATES)
)


def _similar_ids(norm: str, bucket_ids: Sequence[str], bucket_names: Sequence[str]) -> list[str]:
    """The ids of the similar names among the newest ``SIMILAR_CANDIDATES`` of a blocking key's
    bucket (ids and normalised names, oldest first), shortlisted in one C call."""
    newest = bucket_ids[-SIMILAR_CANDIDATES:]
    return [newest[i] for i in similar_among(norm, bucket_names[-SIMILAR_CANDIDATES:])]


def _hits(project_id: str, customer: Customer, project_name: str, ids: Iterable[str],
          details: dict[str, Detail]) -> list[ConflictHit]:
    """``domain.find_conflicts`` over the candidates ``ids`` (read whole in ``details``), oldest
    first by (created_at, id)."""
    picked = sorted(((i, details[i]) for i in ids), key=lambda p: (utc(p[1][4]), p[0]))
    others = [Registration(id=i, status=Status(d[0]), customer_uscc=d[1], customer_name_norm=d[2], name=d[3])
              for i, d in picked]
    return domain.find_conflicts(project_id, customer, others, project_name=project_name)


def conflicts(session: Session, project_id: str, customer: Customer, project_name: str = "") -> list[ConflictHit]:
    """Live registrations other than ``project_id`` colliding with ``customer`` (its USCC
    normalised, as validation, probes and stored rows give it): the exact USCC and name matches
    (through their indexes), and the similar names among the newest ``SIMILAR_CANDIDATES`` live
    rows of its blocking key — ids and names only, shortlisted in C; only the exact matches and
    the shortlist are read whole (the rules of ``ConflictIndex``, for one registration)."""
    norm = normalise_name(customer.name)
    if not customer.uscc and not norm:
        return []
    session.flush()  # the caller's pending changes seen, as the ORM queries this replaces autoflushed
    details: dict[str, Detail] = {}
    exact = _exact_matches(bool(customer.uscc), bool(norm))
    ids = dict.fromkeys(_read_into(session, details, exact,
                                   {"uscc": customer.uscc, "norm": norm, "project_id": project_id}))
    if len(norm) >= 4:
        newest = _rows(session, _NEWEST_OF_KEY, {"key": block_key(norm), "project_id": project_id})
        similar = _similar_ids(norm, [r[0] for r in reversed(newest)], [r[1] for r in reversed(newest)])
        _read(session, similar, details)
        ids.update(dict.fromkeys(similar))
    return _hits(project_id, customer, project_name, ids, details)


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
    # Rows read whole.
    details: dict[str, Detail] = field(default_factory=dict)

    def _rows(self, stmt: Any) -> Sequence[Any]:
        return _rows(self.session, stmt)

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
                        .where(col(column).in_(ordered[i:i + IN_BATCH])).where(_live()))
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
                             .where(key_col.in_(small)).where(_live())
                             .order_by(key_col, col(ProjectRow.created_at), col(ProjectRow.id)))
            if big:
                ranked = (
                    sa.select(col(ProjectRow.id), col(ProjectRow.customer_name_norm), key_col,
                              col(ProjectRow.created_at), sa.func.row_number().over(
                                  partition_by=key_col,
                                  order_by=(col(ProjectRow.created_at).desc(), col(ProjectRow.id).desc()),
                              ).label("rn"))
                    .where(key_col.in_(big)).where(_live())
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
            ids.update(dict.fromkeys(_similar_ids(norm, bucket_ids, bucket_names)))
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
        _read(self.session, (i for ids in candidates for i in ids), self.details)
        return [_hits(new.project_id, new.customer, new.name, ids, self.details)
                for new, ids in zip(news, candidates, strict=True)]


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
