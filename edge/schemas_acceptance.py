"""Request and response bodies of acceptance (验收): checklists per business line, acceptance
requests with their deliverables, documents and approval chain."""

from __future__ import annotations

from pydantic import Field

from edge.schemas import ApprovalOut, Model

MAX_ITEMS = 50


class ChecklistItemIn(Model):
    key: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$", examples=["signoff"])
    name: str = Field(min_length=1, max_length=200, examples=["客户签字验收单"])
    required: bool = Field(default=True, description="A request without it done is refused (422)")
    needs_document: bool = Field(default=False, description="Done only with an uploaded document for its key")


class ChecklistIn(Model):
    items: list[ChecklistItemIn] = Field(
        default_factory=list, max_length=MAX_ITEMS,
        description="The deliverables of the business line; an empty list removes the checklist (then "
        "`POST /projects/{id}/close` closes the line's projects directly again)",
    )


class ChecklistItemOut(Model):
    key: str
    name: str
    required: bool
    needs_document: bool


class ChecklistOut(Model):
    business_line: str
    configured: bool = Field(description="A checklist exists: closing needs an accepted acceptance request")
    items: list[ChecklistItemOut] = Field(default_factory=list)
    version: int = 0
    updated_at: str | None = None
    updated_by: str | None = None


class DeliverableIn(Model):
    key: str = Field(min_length=1, max_length=64)
    done: bool
    note: str | None = Field(default=None, max_length=2000)


class AcceptanceIn(Model):
    deliverables: list[DeliverableIn] = Field(default_factory=list, max_length=MAX_ITEMS)
    comment: str | None = Field(default=None, max_length=2000)


class DocumentOut(Model):
    attachment_id: str = Field(description="Download: GET /api/v1/attachments/{attachment_id}/content")
    filename: str
    content_type: str
    size: int
    deliverable_key: str | None = Field(default=None, description="The deliverable it documents; null = sign-off")
    uploaded_by: str
    uploaded_at: str | None = None


class DeliverableOut(Model):
    key: str
    name: str
    required: bool
    needs_document: bool
    done: bool
    note: str | None = None


class AcceptanceRequestOut(Model):
    id: str
    seq: int
    status: str = Field(description="pending | accepted | rejected | cancelled")
    business_line: str
    deliverables: list[DeliverableOut]
    comment: str | None = None
    requested_by: str
    created_at: str | None = None
    decided_at: str | None = None
    decided_by: str | None = None
    reason: str | None = Field(default=None, description="Why it was rejected (the approver's comment)")
    policy_key: str
    documents: list[DocumentOut] = Field(default_factory=list)
    approval: ApprovalOut = Field(description="The request's own approval chain (policy `acceptance…`)")


class AcceptanceOut(Model):
    project_id: str
    project_status: str
    required: bool = Field(description="The business line has a checklist: closing goes through acceptance")
    checklist: ChecklistOut
    current: AcceptanceRequestOut | None = Field(default=None, description="The newest request")
    history: list[AcceptanceRequestOut] = Field(default_factory=list, description="Every request, newest first")
    documents: list[DocumentOut] = Field(default_factory=list,
                                         description="Uploaded for the next request (not yet part of one)")
