"""RegistryService over gRPC: thin methods that open a transaction (``run_once`` for mutating
calls), call the store and map the result."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import grpc
import sqlalchemy as sa
import structlog
from google.protobuf.message import Message
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from baobei.core import event_outbox
from baobei.core.blobs import BlobStore, blob_store
from baobei.core.db import Once, run_once, run_once_then
from baobei.core.errors import FieldViolation, NotFound, ValidationFailed
from baobei.core.grpc_server import rpc
from baobei.registry.v1 import registry_service_pb2 as pb
from baobei.registry.v1 import registry_service_pb2_grpc as pb_grpc
from services.registry import access, domain, mapping, metrics, reporting_outbox
from services.registry.branding import DEFAULT_COMPANY
from services.registry.domain import Status
from services.registry.domain import team as team_rules
from services.registry.domain.imports import MAX_LISTED_CHANGES
from services.registry.import_runner import ImportRunner
from services.registry.models import BrandingRow
from services.registry.models import event_outbox as event_outbox_table
from services.registry.store import attachments as attachment_store
from services.registry.store import branding as branding_store
from services.registry.store import conflicts as conflict_store
from services.registry.store import forms as form_store
from services.registry.store import import_jobs as job_store
from services.registry.store import imports as import_store
from services.registry.store import listing as listing_store
from services.registry.store import org as org_store
from services.registry.store import projects as project_store
from services.registry.store import protection as protection_store
from services.registry.store import rows as store_rows
from services.registry.store import team as team_store
from services.registry.store import tokens as token_store

M = TypeVar("M", bound=Message)
log = structlog.get_logger(__name__)


def _promoted(items: list[tuple[str, Status]]) -> list[pb.Promoted]:
    return [pb.Promoted(project_id=pid, status=mapping.status_to_pb(st)) for pid, st in items]


def _protection(state: protection_store.ProtectionState) -> pb.ProtectionResponse:
    out = pb.ProtectionResponse(
        protection=mapping.protection_to_pb(state.project.protection), promoted=_promoted(state.promoted),
        owner_id=state.project.owner_id, code=state.project.code, name=state.project.name,
    )
    if state.remind_at is not None:
        out.remind_at.FromDatetime(state.remind_at)
    return out


def _start_protection(project_id: str, at: Any) -> Callable[[Session], pb.ProtectionResponse]:
    """StartProtection's work (alone, or after SetProjectStatus's in the same call)."""
    return lambda s: _protection(protection_store.start_protection(session=s, project_id=project_id, at=_at(at)))


def _check_start_protection(request: pb.SetProjectStatusRequest, status: Status) -> None:
    """SetProjectStatus's ``start_protection``: only with a change to active, for this project,
    with a request id of its own; refused before anything is read or written."""
    protect = request.start_protection
    bad: list[FieldViolation] = []
    if status != Status.ACTIVE:
        bad.append(FieldViolation("start_protection", "仅在状态变为生效时可开始保护期",
                                  "start_protection needs status active"))
    if not protect.request_id.strip():
        bad.append(FieldViolation("start_protection.request_id", "request_id 为必填项", "request_id is required"))
    if protect.project_id and protect.project_id != request.project_id:
        bad.append(FieldViolation("start_protection.project_id", "须为本项目或留空",
                                  "must be empty or this project_id"))
    if bad:
        raise ValidationFailed(bad)


def _locale(context: grpc.ServicerContext) -> str:
    return "en" if any(k == "accept-language" and str(v).startswith("en")
                       for k, v in context.invocation_metadata()) else "zh"


def _at(ts: Any) -> datetime:
    return ts.ToDatetime(tzinfo=UTC) if ts.seconds or ts.nanos else datetime.now(UTC)
T = TypeVar("T")


def _branding_to_pb(row: BrandingRow) -> pb.Branding:
    """The name as printed (the default when never set); the logo's bytes when the row has them."""
    out = pb.Branding(
        company_name=row.company_name or DEFAULT_COMPANY, has_logo=bool(row.logo_sha256),
        logo_type=row.logo_type, logo=row.logo or b"", logo_width=row.logo_width, logo_height=row.logo_height,
        logo_sha256=row.logo_sha256, version=row.version, updated_by=row.updated_by,
    )
    if row.updated_at is not None:
        out.updated_at.FromDatetime(store_rows.utc(row.updated_at))
    return out


def _team_to_pb(view: team_store.TeamView) -> pb.TeamResponse:
    return pb.TeamResponse(
        project_id=view.project_id, owner_id=view.owner_id, can_edit=view.can_edit,
        members=[pb.TeamMember(user_id=m.user_id, role=m.role, added_by=m.added_by,
                               added_at=mapping.ts(store_rows.utc(m.added_at)), name=view.names.get(m.user_id, ""))
                 for m in view.members],
    )


class RegistryServicer(pb_grpc.RegistryServiceServicer):
    def __init__(
        self, engine: Engine, request_log: sa.Table, blobs: BlobStore | None = None,
        import_runner: ImportRunner | None = None,
    ) -> None:
        self.engine = engine
        self.request_log = request_log
        self.blobs: BlobStore = blobs if blobs is not None else blob_store()
        self.import_runner = import_runner if import_runner is not None else ImportRunner(engine)

    def _once(self, request_id: str, method: str, response_type: type[M], apply: Callable[[Session], M]) -> M:
        return run_once(
            self.engine, self.request_log, request_id=request_id, method=method, response_type=response_type,
            apply=apply,
        )

    def _read(self, fn: Callable[[Session], T]) -> T:
        with Session(self.engine) as session:
            return fn(session)

    # ---------- org ----------

    @rpc
    def UpsertOrg(self, request: pb.UpsertOrgRequest, context: grpc.ServicerContext) -> pb.UpsertOrgResponse:
        departments = [mapping.department_from_pb(d) for d in request.departments]
        users = [mapping.user_from_pb(u) for u in request.users]

        actor = mapping.org_actor_from_pb(request)

        def apply(session: Session) -> pb.UpsertOrgResponse:
            n_dep, n_usr, refused = org_store.upsert_org(
                session=session, departments_in=departments, users_in=users, actor=actor
            )
            return pb.UpsertOrgResponse(
                departments=n_dep, users=n_usr, refused=[mapping.refusal_to_pb(r) for r in refused]
            )

        return self._once(request.request_id, "UpsertOrg", pb.UpsertOrgResponse, apply)

    @rpc
    def GetUser(self, request: pb.GetUserRequest, context: grpc.ServicerContext) -> pb.GetUserResponse:
        user = self._read(lambda s: org_store.get_user(session=s, user_id=request.user_id))
        return pb.GetUserResponse(user=mapping.user_to_pb(user))

    @rpc
    def ListUsers(self, request: pb.ListUsersRequest, context: grpc.ServicerContext) -> pb.ListUsersResponse:
        users = self._read(
            lambda s: org_store.list_users(
                session=s, user_ids=list(request.user_ids), role=request.role, department_id=request.department_id
            )
        )
        return pb.ListUsersResponse(users=[mapping.user_to_pb(u) for u in users])

    @rpc
    def GetManagerChain(
        self, request: pb.GetManagerChainRequest, context: grpc.ServicerContext
    ) -> pb.GetManagerChainResponse:
        user, chain = self._read(lambda s: org_store.manager_chain(session=s, user_id=request.user_id))
        return pb.GetManagerChainResponse(
            links=[pb.ManagerLink(department_id=d, manager_id=m) for d, m in chain], user=mapping.user_to_pb(user)
        )

    @rpc
    def IssueToken(self, request: pb.IssueTokenRequest, context: grpc.ServicerContext) -> pb.IssueTokenResponse:
        spec = access.token_spec(request.name, list(request.scopes), scopes_given=request.scopes_given,
                                 expires_in_days=request.expires_in_days)
        # Not through run_once: the request log would keep the plaintext token.
        with Session(self.engine) as session:
            token, record = token_store.issue_token(
                session=session, user_id=request.user_id, spec=spec, now=mapping.ts_or_none(request.now)
            )
            session.commit()
        return pb.IssueTokenResponse(token=token, access_token=mapping.access_token_to_pb(record))

    @rpc
    def Authenticate(self, request: pb.AuthenticateRequest, context: grpc.ServicerContext) -> pb.AuthenticateResponse:
        with Session(self.engine) as session:
            user, record = token_store.authenticate(session=session, token=request.token,
                                               now=mapping.ts_or_none(request.now))
            session.commit()  # last_used_at, when due
        return pb.AuthenticateResponse(user=mapping.user_to_pb(user), access_token=mapping.access_token_to_pb(record))

    @rpc
    def ListTokens(self, request: pb.ListTokensRequest, context: grpc.ServicerContext) -> pb.ListTokensResponse:
        tokens = self._read(lambda s: token_store.list_tokens(session=s, user_id=request.user_id.strip()))
        return pb.ListTokensResponse(tokens=[mapping.access_token_to_pb(t) for t in tokens])

    @rpc
    def RevokeToken(self, request: pb.RevokeTokenRequest, context: grpc.ServicerContext) -> pb.RevokeTokenResponse:
        with Session(self.engine) as session:
            record = token_store.revoke_token(session=session, user_id=request.user_id.strip(),
                                              token_id=request.token_id, now=mapping.ts_or_none(request.now))
            session.commit()
        return pb.RevokeTokenResponse(access_token=mapping.access_token_to_pb(record))

    # ---------- forms ----------

    @rpc
    def PutForm(self, request: pb.PutFormRequest, context: grpc.ServicerContext) -> pb.PutFormResponse:
        fields = [mapping.field_from_pb(f) for f in request.fields]
        rules = [mapping.rule_from_pb(r) for r in request.rules]

        def apply(session: Session) -> pb.PutFormResponse:
            form, created = form_store.put_form(
                session=session, key=request.key.strip(), title=request.title, fields=fields,
                settings=mapping.settings_from_pb(request.settings), rules=rules,
            )
            return pb.PutFormResponse(key=form.key, version=form.version, created=created)

        return self._once(request.request_id, "PutForm", pb.PutFormResponse, apply)

    @rpc
    def GetForm(self, request: pb.GetFormRequest, context: grpc.ServicerContext) -> pb.GetFormResponse:
        form = self._read(lambda s: form_store.get_form(session=s, key=request.key.strip(), version=request.version))
        return pb.GetFormResponse(form=mapping.form_to_pb(form))

    # ---------- branding ----------

    @rpc
    def GetBranding(self, request: pb.GetBrandingRequest, context: grpc.ServicerContext) -> pb.Branding:
        row = self._read(lambda s: branding_store.get_branding(s, with_logo=request.with_logo))
        return _branding_to_pb(row)

    @rpc
    def PutBranding(self, request: pb.PutBrandingRequest, context: grpc.ServicerContext) -> pb.Branding:
        # Not through run_once: the request log would keep a copy of the logo; a repeat sets the
        # same values again (the version moves only on a change).
        now = mapping.ts_or_none(request.now) or datetime.now(UTC)
        with Session(self.engine) as session:
            row = branding_store.put_branding(
                session, company_name=request.company_name, logo=request.logo, remove_logo=request.remove_logo,
                actor_id=request.actor_id, now=now,
            )
        out = _branding_to_pb(row)
        out.ClearField("logo")
        return out

    # ---------- projects ----------

    @rpc
    def CreateProject(
        self, request: pb.CreateProjectRequest, context: grpc.ServicerContext
    ) -> pb.CreateProjectResponse:
        """With external_source + external_id: at most one project per key. A repeat (also one
        racing the first create) answers the existing project with existing = true, changing
        nothing."""
        inp = mapping.project_input_from_pb(request)
        source, external_id = inp.external_source, inp.external_id
        violations = domain.external_key_violations(source, external_id)
        if violations:
            raise ValidationFailed(violations)

        def existing(session: Session) -> pb.CreateProjectResponse | None:
            found = project_store.find_external(session=session, source=source, external_id=external_id)
            if found is None:
                return None
            log.info("project.external_exists", project_id=found.id, external_source=source,
                     external_id=external_id)
            return pb.CreateProjectResponse(project=mapping.project_to_pb(found), existing=True)

        def apply(session: Session) -> pb.CreateProjectResponse:
            if source:
                found = existing(session)
                if found is not None:
                    return found
            project = project_store.create_project(session=session, inp=inp)
            out = pb.CreateProjectResponse(project=mapping.project_to_pb(project))
            reporting_outbox.project_created(session, out.project)
            return out

        try:
            created = self._once(request.request_id, "CreateProject", pb.CreateProjectResponse, apply)
            if not created.existing:
                metrics.CREATED.labels("api").inc()
            return created
        except IntegrityError:
            # A concurrent create with the same key committed first (the unique constraint
            # refused ours, which rolled back): answer the winner's project.
            if not source:
                raise
            log.info("project.external_race", external_source=source, external_id=external_id)
            found = self._read(existing)
            if found is None:
                raise
            return found

    @rpc
    def GetProject(self, request: pb.GetProjectRequest, context: grpc.ServicerContext) -> pb.GetProjectResponse:
        """project_id is a project id, or "ext:<source>:<external_id>" to find the project an
        integration registered (e.g. "ext:crm:OPP-42"); unknown → NOT_FOUND either way."""
        viewer = mapping.viewer_from_pb(request)
        project, relations = self._read(
            lambda s: project_store.get_project_for(session=s, project_id=request.project_id, viewer=viewer)
        )
        return pb.GetProjectResponse(project=mapping.project_to_pb(project), viewer_relations=relations)

    @rpc
    def RecipientRedactions(
        self, request: pb.RecipientRedactionsRequest, context: grpc.ServicerContext
    ) -> pb.RecipientRedactionsResponse:
        project, hidden = self._read(lambda s: project_store.recipient_redactions(
            session=s, project_id=request.project_id, user_ids=list(request.user_ids)))
        return pb.RecipientRedactionsResponse(
            project=mapping.project_to_pb(project, with_history=False, with_conflicts=False),
            recipients=[pb.RecipientHidden(user_id=u, hidden=sorted(h)) for u, h in hidden],
        )

    @rpc
    def ListProjects(self, request: pb.ListProjectsRequest, context: grpc.ServicerContext) -> pb.ListProjectsResponse:
        viewer = mapping.viewer_from_pb(request)
        status = mapping.status_from_pb(request.status)
        items, next_cursor = self._read(
            lambda s: listing_store.list_projects(
                session=s, viewer=viewer, status=status, q=request.q, limit=request.limit, cursor=request.cursor,
                filters=listing_store.ProjectFilter(
                    owner_id=request.owner_id, department_id=request.department_id, region=request.region,
                    business_line=request.business_line, customer=request.customer, amount_min=request.amount_min,
                    amount_max=request.amount_max, created_from=request.created_from, created_to=request.created_to,
                    form_key=request.form_key,
                ),
                codes=list(request.codes),
            )
        )
        return pb.ListProjectsResponse(
            items=[mapping.project_to_pb(p, with_history=False, with_conflicts=False) for p in items],
            next_cursor=next_cursor,
        )

    @rpc
    def CheckConflicts(
        self, request: pb.CheckConflictsRequest, context: grpc.ServicerContext
    ) -> pb.CheckConflictsResponse:
        if not request.form_key.strip():
            raise ValidationFailed([FieldViolation("form_key", "表单为必填项", "form_key is required")])
        viewer = mapping.viewer_from_pb(request)
        c = request.customer
        result = self._read(
            lambda s: conflict_store.check_conflicts(
                session=s, viewer=viewer, form_key=request.form_key,
                customer=domain.Customer(name=c.name, uscc=c.uscc), project_name=request.project_name,
                project_id=request.project_id,
            )
        )
        metrics.observe_conflicts(len(result.matches), result.conflict_policy)
        return pb.CheckConflictsResponse(
            conflicts=[pb.ConflictMatch(project_id=h.project_id, reason=h.reason, code=code)
                       for h, code in result.matches],
            conflict_policy=result.conflict_policy,
        )

    @rpc
    def SubmitProject(
        self, request: pb.SubmitProjectRequest, context: grpc.ServicerContext
    ) -> pb.SubmitProjectResponse:
        def apply(session: Session) -> pb.SubmitProjectResponse:
            project = project_store.submit_project(
                session=session, project_id=request.project_id, actor_id=request.actor_id,
                actor_is_admin=request.actor_is_admin,
            )
            out = pb.SubmitProjectResponse(project=mapping.project_to_pb(project))
            reporting_outbox.project_submitted(session, out.project, request.report_event_id)
            return out

        submitted = self._once(request.request_id, "SubmitProject", pb.SubmitProjectResponse, apply)
        metrics.SUBMITTED.inc()
        return submitted

    @rpc
    def SetProjectStatus(
        self, request: pb.SetProjectStatusRequest, context: grpc.ServicerContext
    ) -> pb.SetProjectStatusResponse:
        status = mapping.status_from_pb(request.status)
        if status is None:
            raise ValidationFailed([FieldViolation("status", "状态为必填项", "status is required")])
        protect = request.start_protection if request.HasField("start_protection") else None
        if protect is not None:
            _check_start_protection(request, status)

        def apply(session: Session) -> pb.SetProjectStatusResponse:
            promoted: list[tuple[str, Status]] = []
            project = project_store.set_project_status(
                session=session, project_id=request.project_id, status=status, actor_id=request.actor_id,
                event=request.event.strip(), comment=request.comment, promoted=promoted,
            )
            if status == Status.ACTIVE and project.status == Status.ACTIVE:
                team_store.ensure_initial_team(session, project, request.actor_id or "system")
            out = pb.SetProjectStatusResponse(project=mapping.project_to_pb(project), promoted=_promoted(promoted))
            reporting_outbox.status_changed(session, out.project, status, request.actor_id, request.report_event_id)
            return out

        if protect is None:
            return self._once(request.request_id, "SetProjectStatus", pb.SetProjectStatusResponse, apply)
        # SetProjectStatus then StartProtection, each answered and recorded under its own request
        # id (so either call made alone before answers here, and a later call of either alone
        # answers from here), in one transaction.
        changed, started = run_once_then(
            self.engine, self.request_log,
            Once(request.request_id, "SetProjectStatus", pb.SetProjectStatusResponse, apply),
            Once(protect.request_id, "StartProtection", pb.ProtectionResponse,
                 _start_protection(request.project_id, protect.at)),
        )
        changed.protection.SetInParent()  # present even when empty: the caller tells it was done here
        changed.protection.CopyFrom(started)
        return changed

    @rpc
    def ClaimEvents(self, request: pb.ClaimEventsRequest, context: grpc.ServicerContext) -> pb.ClaimEventsResponse:
        rows = event_outbox.claim(self.engine, event_outbox_table, limit=request.limit or 100)
        return pb.ClaimEventsResponse(events=[pb.OutboxEvent(seq=seq, event=data) for seq, data in rows])

    @rpc
    def AckEvents(self, request: pb.AckEventsRequest, context: grpc.ServicerContext) -> pb.AckEventsResponse:
        return pb.AckEventsResponse(
            acknowledged=event_outbox.ack(self.engine, event_outbox_table, seqs=list(request.seqs)))

    @rpc
    def UpdateProject(
        self, request: pb.UpdateProjectRequest, context: grpc.ServicerContext
    ) -> pb.UpdateProjectResponse:
        changes = mapping.struct_to_dict(request.changes)

        def apply(session: Session) -> pb.UpdateProjectResponse:
            project = project_store.update_project(
                session=session, project_id=request.project_id, actor_id=request.actor_id,
                actor_is_admin=request.actor_is_admin, actor_roles=set(request.actor_roles),
                expected_version=request.expected_version, changes=changes,
            )
            return pb.UpdateProjectResponse(project=mapping.project_to_pb(project))

        return self._once(request.request_id, "UpdateProject", pb.UpdateProjectResponse, apply)

    @rpc
    def RecordFollowUp(
        self, request: pb.RecordFollowUpRequest, context: grpc.ServicerContext
    ) -> pb.RecordFollowUpResponse:
        def apply(session: Session) -> pb.RecordFollowUpResponse:
            project = protection_store.record_follow_up(
                session=session, project_id=request.project_id, actor_id=request.actor_id,
                actor_is_admin=request.actor_is_admin, note=request.note,
            )
            return pb.RecordFollowUpResponse(project=mapping.project_to_pb(project))

        return self._once(request.request_id, "RecordFollowUp", pb.RecordFollowUpResponse, apply)

    @rpc
    def StartProtection(
        self, request: pb.StartProtectionRequest, context: grpc.ServicerContext
    ) -> pb.ProtectionResponse:
        return self._once(request.request_id, "StartProtection", pb.ProtectionResponse,
                          _start_protection(request.project_id, request.at))

    @rpc
    def ExpireProtection(
        self, request: pb.ExpireProtectionRequest, context: grpc.ServicerContext
    ) -> pb.ProtectionResponse:
        return self._once(
            request.request_id, "ExpireProtection", pb.ProtectionResponse,
            lambda s: _protection(protection_store.expire_protection(session=s, project_id=request.project_id,
                                                          at=_at(request.at))),
        )

    # ---------- team, handover, copy ----------

    @rpc
    def GetTeam(self, request: pb.GetTeamRequest, context: grpc.ServicerContext) -> pb.TeamResponse:
        viewer = mapping.viewer_from_pb(request)
        view = self._read(lambda s: team_store.get_team(session=s, project_id=request.project_id.strip(),
                                                          viewer=viewer))
        return _team_to_pb(view)

    @rpc
    def SetTeam(self, request: pb.SetTeamRequest, context: grpc.ServicerContext) -> pb.TeamResponse:
        members = [team_rules.Member(m.user_id, m.role) for m in request.members]

        def apply(session: Session) -> pb.TeamResponse:
            view, _ = team_store.set_team(session=session, project_id=request.project_id.strip(),
                                          actor_id=request.actor_id, actor_is_admin=request.actor_is_admin,
                                          members=members)
            return _team_to_pb(view)

        return self._once(request.request_id, "SetTeam", pb.TeamResponse, apply)

    @rpc
    def HandOverProjects(
        self, request: pb.HandOverProjectsRequest, context: grpc.ServicerContext
    ) -> pb.HandOverProjectsResponse:
        if not request.project_id.strip() and not request.from_user_id.strip():
            raise ValidationFailed([FieldViolation("from_user_id", "须指定项目或原负责人",
                                                   "project_id or from_user_id is required")])

        def apply(session: Session) -> pb.HandOverProjectsResponse:
            handed = team_store.hand_over(
                session=session, project_id=request.project_id.strip(), from_user_id=request.from_user_id,
                to_user_id=request.to_user_id, actor_id=request.actor_id, reason=request.reason,
                include_closed=request.include_closed,
            )
            return pb.HandOverProjectsResponse(
                to_user_id=request.to_user_id.strip(),
                projects=[pb.HandedOver(project_id=h.project_id, code=h.code, name=h.name,
                                        from_user_id=h.from_user_id, status=mapping.status_to_pb(h.status))
                          for h in handed],
            )

        return self._once(request.request_id, "HandOverProjects", pb.HandOverProjectsResponse, apply)

    @rpc
    def CopyProject(self, request: pb.CopyProjectRequest, context: grpc.ServicerContext) -> pb.CopyProjectResponse:
        def apply(session: Session) -> pb.CopyProjectResponse:
            project = team_store.copy_project(session=session, project_id=request.project_id.strip(),
                                              actor_id=request.actor_id, actor_is_admin=request.actor_is_admin)
            return pb.CopyProjectResponse(project=mapping.project_to_pb(project),
                                          source_project_id=request.project_id.strip())

        copied = self._once(request.request_id, "CopyProject", pb.CopyProjectResponse, apply)
        metrics.CREATED.labels("copy").inc()
        return copied

    @rpc
    def UploadAttachment(
        self, request: pb.UploadAttachmentRequest, context: grpc.ServicerContext
    ) -> pb.UploadAttachmentResponse:
        # Not through run_once: the request log would keep a copy of the bytes; the content
        # address makes a repeat harmless anyway.
        with Session(self.engine) as session:
            row = attachment_store.save_attachment(
                session=session, blobs=self.blobs, filename=request.filename, content_type=request.content_type,
                data=request.data, uploader_id=request.uploader_id,
            )
            session.commit()
            out = pb.Attachment(id=row.id, filename=row.filename, content_type=row.content_type, size=row.size,
                                uploader_id=row.uploader_id, created_at=mapping.ts(store_rows.utc(row.created_at)))
        return pb.UploadAttachmentResponse(attachment=out)

    @rpc
    def GetAttachment(
        self, request: pb.GetAttachmentRequest, context: grpc.ServicerContext
    ) -> pb.GetAttachmentResponse:
        viewer = mapping.viewer_from_pb(request)
        row = self._read(
            lambda s: attachment_store.get_attachment(session=s, attachment_id=request.attachment_id.strip(),
                                                      viewer=viewer)
        )
        out = pb.GetAttachmentResponse(
            attachment=pb.Attachment(id=row.id, filename=row.filename, content_type=row.content_type, size=row.size,
                                     uploader_id=row.uploader_id, created_at=mapping.ts(store_rows.utc(row.created_at)))
        )
        if request.with_content:
            data = self.blobs.get(row.id)
            if data is None:
                raise NotFound(f"附件文件缺失：{row.id}", f"the attachment's file is missing: {row.id}",
                               code="attachment_not_found")
            out.data = data
        return out

    @rpc
    def LinkAttachments(
        self, request: pb.LinkAttachmentsRequest, context: grpc.ServicerContext
    ) -> pb.LinkAttachmentsResponse:
        viewer = mapping.viewer_from_pb(request)
        with Session(self.engine) as session:
            linked = attachment_store.link_attachments(
                session=session, project_id=request.project_id.strip(), attachment_ids=list(request.attachment_ids),
                viewer=viewer, kind=request.kind.strip() or "comment", now=store_rows.utc(datetime.now(UTC)),
            )
            session.commit()
        return pb.LinkAttachmentsResponse(attachment_ids=linked)

    @rpc
    def ImportProjects(
        self, request: pb.ImportProjectsRequest, context: grpc.ServicerContext
    ) -> pb.ImportProjectsResponse:
        def apply(session: Session) -> pb.ImportProjectsResponse:
            r = import_store.import_projects(
                session=session, form_key=request.form_key, actor_id=request.actor_id, data=request.data,
                filename=request.filename, dry_run=request.dry_run, skip_invalid=request.skip_invalid,
                actor_is_admin=request.actor_is_admin,
            )
            locale = "en" if any(k == "accept-language" and v.startswith("en")
                                 for k, v in context.invocation_metadata()) else "zh"
            return pb.ImportProjectsResponse(
                rows=r.rows, created=r.created, existing=r.existing, invalid=r.invalid, dry_run=r.dry_run,
                project_ids=r.project_ids,
                errors=[pb.ImportRowError(row=n, column=c, field=p, message=v.text(locale)) for n, c, p, v in r.errors],
                updated=r.updated, unchanged=r.unchanged, updated_ids=r.updated_ids,
                changes=[pb.ImportRowChange(row=c.row, column=c.column, field=c.field, before=c.before, after=c.after,
                                            message=c.text(locale), kind=c.kind)
                         for c in r.changes[:MAX_LISTED_CHANGES]],
                changes_total=len(r.changes),
            )

        if request.dry_run:
            with Session(self.engine) as session:
                return apply(session)
        imported = self._once(request.request_id, "ImportProjects", pb.ImportProjectsResponse, apply)
        metrics.CREATED.labels("import").inc(imported.created)
        return imported

    @rpc
    def StartImportJob(self, request: pb.StartImportJobRequest, context: grpc.ServicerContext) -> pb.ImportJobResponse:
        locale = _locale(context)

        def apply(session: Session) -> pb.ImportJobResponse:
            job = job_store.create_job(
                session=session, job_id=uuid.uuid4().hex, form_key=request.form_key, actor_id=request.actor_id,
                data=request.data, filename=request.filename, dry_run=request.dry_run,
                skip_invalid=request.skip_invalid, actor_is_admin=request.actor_is_admin,
            )
            return pb.ImportJobResponse(job=mapping.import_job_to_pb(job, locale))

        resp = self._once(request.request_id, "StartImportJob", pb.ImportJobResponse, apply)
        # After the commit: the runner reads the job from the database (a repeated request
        # queues it again, which finds it under way or done and does nothing).
        self.import_runner.start()
        self.import_runner.submit(resp.job.id)
        return resp

    @rpc
    def GetImportJob(self, request: pb.GetImportJobRequest, context: grpc.ServicerContext) -> pb.ImportJobResponse:
        viewer = mapping.viewer_from_pb(request)
        with Session(self.engine) as session:
            job = job_store.get_job(session=session, job_id=request.job_id.strip(),
                                    viewer_id=viewer.user_id if viewer else "",
                                    viewer_is_admin=viewer.is_admin if viewer else True)
        return pb.ImportJobResponse(job=mapping.import_job_to_pb(job, _locale(context)))

    @rpc
    def MarkImportJobLifecycles(
        self, request: pb.MarkImportJobLifecyclesRequest, context: grpc.ServicerContext
    ) -> pb.ImportJobResponse:
        viewer = mapping.viewer_from_pb(request)
        with Session(self.engine) as session:
            job = job_store.mark_lifecycles_started(
                session=session, job_id=request.job_id.strip(), viewer_id=viewer.user_id if viewer else "",
                viewer_is_admin=viewer.is_admin if viewer else True,
            )
            session.commit()
        return pb.ImportJobResponse(job=mapping.import_job_to_pb(job, _locale(context)))
