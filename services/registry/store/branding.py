"""The branding row (company name and logo): read, and changed under a row lock."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import defer
from sqlmodel import Session, col, select

from baobei.core.errors import FieldViolation, ValidationFailed
from services.registry import branding
from services.registry.models import BrandingRow


def get_branding(session: Session, *, with_logo: bool) -> BrandingRow:
    """The row (a blank one when never set); the logo's bytes only ``with_logo``."""
    stmt = select(BrandingRow).where(col(BrandingRow.id) == 1)
    if not with_logo:
        stmt = stmt.options(defer(BrandingRow.logo))  # type: ignore[arg-type]
    row = session.exec(stmt).first()
    if row is None:
        return BrandingRow(id=1)
    if not with_logo:
        row.logo = None
    session.expunge(row)
    return row


def _locked_row(session: Session) -> BrandingRow:
    stmt = select(BrandingRow).where(col(BrandingRow.id) == 1).with_for_update()
    row = session.exec(stmt).first()
    if row is None:
        try:
            with session.begin_nested():
                session.add(BrandingRow(id=1))
        except IntegrityError:
            pass  # another writer created it first
        row = session.exec(stmt).first()
    assert row is not None
    return row


def put_branding(
    session: Session, *, company_name: str, logo: bytes, remove_logo: bool, actor_id: str, now: datetime
) -> BrandingRow:
    """Set the name, and replace (``logo``) or remove (``remove_logo``) the logo; every violation
    at once (INVALID_ARGUMENT on ``company_name`` / ``logo``). The version moves on a change only."""
    violations = branding.company_name_violations(company_name)
    checked = branding.read_logo(logo) if logo else None
    if isinstance(checked, FieldViolation):
        violations.append(checked)
    if violations:
        raise ValidationFailed(violations)
    row = _locked_row(session)
    before = (row.company_name, row.logo_sha256)
    row.company_name = company_name.strip()
    if checked is not None and not isinstance(checked, FieldViolation):
        row.logo, row.logo_type = logo, checked.content_type
        row.logo_width, row.logo_height = checked.width, checked.height
        row.logo_sha256 = hashlib.sha256(logo).hexdigest()
    elif remove_logo:
        row.logo, row.logo_type, row.logo_width, row.logo_height, row.logo_sha256 = None, "", 0, 0, ""
    if (row.company_name, row.logo_sha256) != before or row.version == 0:
        row.version += 1
        row.updated_at, row.updated_by = now, actor_id[:100]
    session.add(row)
    session.commit()
    session.refresh(row)
    session.expunge(row)
    return row
