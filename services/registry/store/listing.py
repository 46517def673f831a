"""Listing projects: the viewer's projects, filtered and searched (only on values they may read),
newest first, keyset-paged."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, select

from baobei.core.errors import FieldViolation, ValidationFailed
from services.registry import forms
from services.registry.domain import Project, Status, Viewer
from services.registry.models import ProjectRow
from services.registry.names import normalise_name
from services.registry.store.projects import CODE_ZONE
from services.registry.store.rows import project_of, utc
from services.registry.store.visibility import Visibility, team_clause

DEFAULT_LIMIT, MAX_LIMIT = 20, 100


def encode_cursor(created_at: datetime, project_id: str) -> str:
    raw = json.dumps([utc(created_at).isoformat(), project_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        at, project_id = json.loads(raw)
        return utc(datetime.fromisoformat(at)), str(project_id)
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError) as err:
        raise ValidationFailed([FieldViolation("cursor", "分页游标无效", "invalid cursor")]) from err


def _like(q: str) -> str:
    escaped = q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


@dataclass(frozen=True)
class ProjectFilter:
    owner_id: str = ""
    department_id: str = ""
    region: str = ""
    business_line: str = ""
    customer: str = ""
    amount_min: str = ""
    amount_max: str = ""
    created_from: str = ""
    created_to: str = ""
    form_key: str = ""


def _filter_clauses(f: ProjectFilter, vis: Visibility) -> list[sa.ColumnElement[bool]]:
    """SQL conditions of ``f``; 422 with every bad parameter at once. A condition on a core value
    matches only rows where the viewer may read that value."""
    out: list[sa.ColumnElement[bool]] = []
    bad = [FieldViolation(name, "不能包含 NUL 字符", "must not contain NUL characters")
           for name, value in vars(f).items() if "\x00" in value]
    if bad:
        raise ValidationFailed(bad)
    for name, column in (("owner_id", ProjectRow.owner_id), ("department_id", ProjectRow.department_id),
                         ("region", ProjectRow.region), ("business_line", ProjectRow.business_line),
                         ("form_key", ProjectRow.form_key)):
        value = getattr(f, name).strip()
        if value:
            out.append(vis.readable(col(column) == value, name))
    if f.customer.strip():
        norm = normalise_name(f.customer)
        like = sa.func.lower(col(ProjectRow.customer_name)).like(_like(f.customer.strip()), escape="\\")
        out.append(sa.or_(
            vis.readable(sa.or_(like, col(ProjectRow.customer_name_norm) == norm), "customer.name"),
            vis.readable(col(ProjectRow.customer_uscc) == f.customer.strip().upper(), "customer.uscc"),
        ))
    # Amounts are stored as text: compare numerically (CAST to NUMERIC works on SQLite and PostgreSQL).
    amount = sa.cast(col(ProjectRow.amount), sa.Numeric(18, 2))
    for name, op in (("amount_min", amount.__ge__), ("amount_max", amount.__le__)):
        text = getattr(f, name).strip()
        if text:
            d = forms.parse_decimal(text)
            if d is None:
                bad.append(FieldViolation(name, "金额必须是数字", "must be a decimal number"))
            else:
                out.append(vis.readable(op(d), "amount"))
    for name in ("created_from", "created_to"):
        text = getattr(f, name).strip()
        if text:
            day = forms.parse_date(text)
            if day is None:
                bad.append(FieldViolation(name, "日期格式必须是 YYYY-MM-DD", "date must be YYYY-MM-DD"))
                continue
            # Days are calendar days in Asia/Shanghai, inclusive.
            start = datetime(day.year, day.month, day.day, tzinfo=CODE_ZONE)
            if name == "created_from":
                out.append(col(ProjectRow.created_at) >= start.astimezone(UTC))
            else:
                out.append(col(ProjectRow.created_at) < (start + timedelta(days=1)).astimezone(UTC))
    if bad:
        raise ValidationFailed(bad)
    return out


def list_projects(
    *, session: Session, viewer: Viewer | None, status: Status | None, q: str, limit: int, cursor: str,
    filters: ProjectFilter | None = None, codes: Sequence[str] = (),
) -> tuple[list[Project], str]:
    """Newest first, keyset-paged on (created_at, id); next cursor "" on the last page; only
    ``codes`` when given."""
    limit = DEFAULT_LIMIT if limit <= 0 else min(limit, MAX_LIMIT)
    if "\x00" in q:
        raise ValidationFailed([FieldViolation("q", "不能包含 NUL 字符", "must not contain NUL characters")])
    vis = Visibility(session, viewer)
    clauses = _filter_clauses(filters or ProjectFilter(), vis)
    stmt = select(ProjectRow)
    if viewer is not None and not viewer.admin:
        may: list[sa.ColumnElement[bool]] = []
        if viewer.user_id:
            may.append(col(ProjectRow.owner_id) == viewer.user_id)
            may.append(team_clause(viewer.user_id))
        if viewer.approver_project_ids:
            may.append(col(ProjectRow.id).in_(sorted(viewer.approver_project_ids)))
        if viewer.assignee_project_ids:
            may.append(col(ProjectRow.id).in_(sorted(viewer.assignee_project_ids)))
        if vis.managed:
            may.append(col(ProjectRow.department_id).in_(sorted(vis.managed)))
        if not may:
            return [], ""
        stmt = stmt.where(sa.or_(*may))
    if status is not None:
        stmt = stmt.where(ProjectRow.status == status.value)
    wanted = sorted({c.strip() for c in codes if c.strip()})
    if wanted:
        stmt = stmt.where(col(ProjectRow.code).in_(wanted[:MAX_LIMIT]))
    for clause in clauses:
        stmt = stmt.where(clause)
    if q.strip():
        pattern = _like(q.strip())
        stmt = stmt.where(
            sa.or_(
                *(sa.func.lower(c).like(pattern, escape="\\") for c in (col(ProjectRow.code), col(ProjectRow.name))),
                vis.readable(sa.func.lower(col(ProjectRow.customer_name)).like(pattern, escape="\\"), "customer.name"),
            )
        )
    if cursor:
        at, last_id = decode_cursor(cursor)
        stmt = stmt.where(
            sa.or_(
                col(ProjectRow.created_at) < at,
                sa.and_(col(ProjectRow.created_at) == at, col(ProjectRow.id) < last_id),
            )
        )
    stmt = stmt.order_by(col(ProjectRow.created_at).desc(), col(ProjectRow.id).desc()).limit(limit + 1)
    rows = list(session.exec(stmt).all())
    page = [vis.shape(project_of(r)) for r in rows[:limit]]
    next_cursor = encode_cursor(page[-1].created_at, page[-1].id) if len(rows) > limit else ""
    return page, next_cursor
