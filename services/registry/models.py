"""Registry tables (SQLModel on this service's own registry/metadata). Money is kept as an exact
decimal string; JSON columns hold roles, form fields, project fields and conflicts."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from baobei.core.db import request_log_table
from baobei.core.event_outbox import event_outbox_table


class Base(SQLModel, registry=registry()):
    pass


def _ts() -> Any:
    return sa.DateTime(timezone=True)


class DepartmentRow(Base, table=True):
    __tablename__ = "department"

    id: str = Field(primary_key=True, max_length=100)
    name: str = Field(default="", max_length=200)
    parent_id: str = Field(default="", max_length=100, index=True)
    manager_id: str = Field(default="", max_length=100, index=True)


class UserRow(Base, table=True):
    __tablename__ = "org_user"

    id: str = Field(primary_key=True, max_length=100)
    name: str = Field(default="", max_length=200)
    email: str = Field(default="", max_length=320)
    mobile: str = Field(default="", max_length=32)
    department_id: str = Field(default="", max_length=100, index=True)
    roles: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    region: str = Field(default="", max_length=100)
    # Left the organisation (org sync): tokens no longer authenticate, never routed to.
    left: bool = Field(default=False, sa_column=sa.Column(sa.Boolean, nullable=False, server_default=sa.false()))


class AccessTokenRow(Base, table=True):
    __tablename__ = "access_token"
    __table_args__ = (sa.UniqueConstraint("id", name="uq_access_token_id"),)

    # sha256 hex of the token; the plaintext is never stored.
    token_hash: str = Field(primary_key=True, max_length=64)
    # The public handle (listing, revoking).
    id: str = Field(max_length=32)
    user_id: str = Field(max_length=100, index=True)
    name: str = Field(default="", max_length=100)
    scopes: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    created_at: datetime = Field(sa_type=_ts())
    expires_at: datetime = Field(sa_type=_ts())
    last_used_at: datetime | None = Field(default=None, sa_type=_ts(), nullable=True)
    revoked_at: datetime | None = Field(default=None, sa_type=_ts(), nullable=True)


class FormVersionRow(Base, table=True):
    __tablename__ = "form_version"

    key: str = Field(primary_key=True, max_length=100)
    version: int = Field(primary_key=True)
    title: str = Field(max_length=200)
    fields: list[dict[str, Any]] = Field(default_factory=list, sa_type=sa.JSON)
    created_at: datetime = Field(sa_type=_ts())
    # Form-level settings (conflict policy, protection) and cross-field CEL rules.
    settings: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    rules: list[dict[str, Any]] = Field(default_factory=list, sa_type=sa.JSON)


class ProjectRow(Base, table=True):
    __tablename__ = "project"
    __table_args__ = (
        sa.Index("ix_project_created_at_id", "created_at", "id"),
        # A blocking key's newest rows (the similar-name candidates of a collision check) straight
        # from the index, without sorting the whole bucket.
        sa.Index("ix_project_customer_name_key_created_at", "customer_name_key", "created_at", "id"),
        # At most one project per integration key (NULLs, i.e. no key, never collide).
        sa.UniqueConstraint("external_source", "external_id", name="uq_project_external"),
    )

    id: str = Field(primary_key=True, max_length=32)
    code: str = Field(max_length=32, unique=True)
    status: str = Field(max_length=32, index=True)
    name: str = Field(max_length=300)
    customer_name: str = Field(max_length=300)
    customer_name_norm: str = Field(max_length=300, index=True)
    customer_uscc: str = Field(default="", max_length=18, index=True)
    customer_contact: str = Field(default="", max_length=200)
    customer_phone: str = Field(default="", max_length=32)
    # Exact decimal text with two places, e.g. "1200000.00".
    amount: str = Field(max_length=32)
    region: str = Field(default="", max_length=100)
    business_line: str = Field(default="", max_length=100)
    start_date: date | None = Field(default=None)
    end_date: date | None = Field(default=None)
    fields: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    form_key: str = Field(max_length=100)
    form_version: int
    owner_id: str = Field(max_length=100, index=True)
    department_id: str = Field(default="", max_length=100, index=True)
    conflicts: list[dict[str, str]] = Field(default_factory=list, sa_type=sa.JSON)
    version: int = Field(default=1)
    created_at: datetime = Field(sa_type=_ts())
    updated_at: datetime = Field(sa_type=_ts())
    # Collision blocking key: the first two characters of the core customer name (similar-name
    # candidates are looked up by it, then scored in Python).
    customer_name_key: str = Field(default="", max_length=16)
    # Protection (保护期) and waitlist (候补): claim_key names the customer claim this project takes part in.
    claim_key: str = Field(default="", max_length=300, index=True)
    protection_state: str = Field(default="", max_length=16)
    protected_since: datetime | None = Field(default=None, sa_type=_ts())
    protected_until: datetime | None = Field(default=None, sa_type=_ts())
    protection_cap: datetime | None = Field(default=None, sa_type=_ts())
    waitlist_seq: int | None = Field(default=None)
    follow_ups: int = Field(default=0)
    # Row key of an Excel import (idempotent re-imports).
    import_key: str | None = Field(default=None, max_length=200, unique=True, index=True)
    # Integration key (e.g. source "crm" and the opportunity id); NULL when not from an integration.
    external_source: str | None = Field(default=None, max_length=50)
    external_id: str | None = Field(default=None, max_length=200)


class CustomerClaimRow(Base, table=True):
    """One row per protected customer: the holder and the waitlist counter. Locked while the
    holder or the waitlist changes, so concurrent submissions queue in one order."""

    __tablename__ = "customer_claim"

    key: str = Field(primary_key=True, max_length=300)
    holder_project_id: str = Field(default="", max_length=32)
    next_seq: int = Field(default=0)


class AttachmentRow(Base, table=True):
    __tablename__ = "attachment"

    id: str = Field(primary_key=True, max_length=80)
    filename: str = Field(default="", max_length=300)
    content_type: str = Field(default="", max_length=200)
    size: int = Field(default=0, sa_type=sa.BigInteger)
    uploader_id: str = Field(default="", max_length=100)
    created_at: datetime = Field(sa_type=_ts())


class AttachmentLinkRow(Base, table=True):
    """An attachment referenced on a project's approval (a comment's or a decision's attachments):
    whoever may see the project may download it."""

    __tablename__ = "attachment_link"

    attachment_id: str = Field(primary_key=True, max_length=80)
    project_id: str = Field(primary_key=True, max_length=32, index=True)
    # comment | decision
    kind: str = Field(default="comment", max_length=20)
    linked_by: str = Field(default="", max_length=100)
    created_at: datetime = Field(sa_type=_ts())


class ProjectHistoryRow(Base, table=True):
    __tablename__ = "project_history"

    id: int | None = Field(default=None, primary_key=True)
    project_id: str = Field(max_length=32, index=True)
    at: datetime = Field(sa_type=_ts())
    actor: str = Field(default="", max_length=100)
    event: str = Field(max_length=100)
    data: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)


class ProjectTeamRow(Base, table=True):
    """A project's team (项目团队): one row per member with a role (pm, member, observer)."""

    __tablename__ = "project_team"

    project_id: str = Field(primary_key=True, max_length=32)
    user_id: str = Field(primary_key=True, max_length=100, index=True)
    role: str = Field(max_length=16)
    added_by: str = Field(default="", max_length=100)
    added_at: datetime = Field(sa_type=_ts())


class ProjectSequenceRow(Base, table=True):
    """Last project number handed out per year (codes BB-<year>-<6 digits>)."""

    __tablename__ = "project_sequence"

    year: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    last_number: int = Field(default=0)


class ImportJobRow(Base, table=True):
    """A background import: its upload (kept until it finishes), its options, where it stands
    (updated with each committed chunk, so a restart resumes from the rows already stored) and
    its outcome."""

    __tablename__ = "import_job"

    id: str = Field(primary_key=True, max_length=32)
    actor_id: str = Field(max_length=100, index=True)
    form_key: str = Field(max_length=100)
    filename: str = Field(default="", max_length=300)
    data: bytes | None = Field(default=None, sa_type=sa.LargeBinary)
    dry_run: bool = Field(default=False)
    skip_invalid: bool = Field(default=False)
    # queued | running | done | failed (``domain.import_jobs.JobStatus``).
    status: str = Field(max_length=16, index=True)
    rows_total: int = Field(default=0)
    rows_checked: int = Field(default=0)
    rows_done: int = Field(default=0)
    created: int = Field(default=0)
    existing: int = Field(default=0)
    invalid: int = Field(default=0)
    # [{"row", "column", "field", "zh", "en"}]
    errors: list[dict[str, Any]] = Field(default_factory=list, sa_type=sa.JSON)
    project_ids: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    reason_zh: str = Field(default="", max_length=1000)
    reason_en: str = Field(default="", max_length=1000)
    attempts: int = Field(default=0)
    lifecycles_started: bool = Field(default=False)
    created_at: datetime = Field(sa_type=_ts())
    updated_at: datetime = Field(sa_type=_ts())
    finished_at: datetime | None = Field(default=None, sa_type=_ts())
    # Whether the importer is an admin (rows with a project code edit only their own projects otherwise).
    actor_is_admin: bool = Field(default=True)
    # Rows with a project code: projects edited, rows equal to their project, and the projects edited.
    updated: int = Field(default=0)
    unchanged: int = Field(default=0)
    updated_ids: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    # The first normalisations and edits [{"row", "column", "field", "before", "after", "kind"}]; all counted.
    changes: list[dict[str, Any]] = Field(default_factory=list, sa_type=sa.JSON)
    changes_total: int = Field(default=0)


class BrandingRow(Base, table=True):
    """The company's name and logo printed on documents (one row, id 1; absent until first set)."""

    __tablename__ = "branding"

    id: int = Field(default=1, primary_key=True, sa_column_kwargs={"autoincrement": False})
    company_name: str = Field(default="", max_length=100)
    logo: bytes | None = Field(default=None, sa_type=sa.LargeBinary, nullable=True)
    logo_type: str = Field(default="", max_length=20)
    logo_width: int = Field(default=0)
    logo_height: int = Field(default=0)
    logo_sha256: str = Field(default="", max_length=64)
    version: int = Field(default=0)
    updated_at: datetime | None = Field(default=None, sa_type=_ts(), nullable=True)
    updated_by: str = Field(default="", max_length=100)


metadata = Base.metadata
processed_request = request_log_table(metadata)
# Reporting events written with the change they report (baobei/core/event_outbox.py).
event_outbox = event_outbox_table(metadata)
