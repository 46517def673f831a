"""Approval policies: versioned definitions (a change makes a new version, an identical one
does not) and the policy deciding a form."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
import structlog
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from baobei.approval.v1 import approval_service_pb2 as pb
from baobei.core.db import run_once
from baobei.core.errors import Conflict, NotFound
from services.approval import domain, mapping
from services.approval.models import PolicyVersion, processed_request
from services.approval.store.common import M_PUT_POLICY, now_utc

log = structlog.get_logger("services.approval.store")

# Policy reads on every planning (PlanChain, RequirePolicy, Simulate, a resubmission's replan), as
# Core statements built once on a plain connection: no ORM session, statement coercion or cache
# key per call. The columns ``_to_policy`` reads.
POLICIES: sa.Table = PolicyVersion.__table__  # type: ignore[attr-defined]
_COLUMNS = (POLICIES.c.key, POLICIES.c.form_key, POLICIES.c.version, POLICIES.c.steps, POLICIES.c.options)
_LATEST = (sa.select(*_COLUMNS).where(POLICIES.c.key == sa.bindparam("key"))
           .order_by(POLICIES.c.version.desc()).limit(1))
# The latest version of every policy naming the form, most recently changed first: a version is
# its key's latest when no version of that key is higher (the (key, version) unique index answers).
_NEWER = POLICIES.alias("newer")
_FOR_FORM = (
    sa.select(*_COLUMNS)
    .where(POLICIES.c.form_key == sa.bindparam("form_key"),
           ~sa.exists().where(_NEWER.c.key == POLICIES.c.key, _NEWER.c.version > POLICIES.c.version))
    .order_by(POLICIES.c.id.desc())
)


class PolicyStore:
    engine: Engine

    # ------------------------------------------------------------ policies

    def put_policy(
        self,
        *,
        request_id: str,
        key: str,
        form_key: str,
        steps: Sequence[domain.StepSpec],
        options: domain.PolicyOptions | None = None,
    ) -> pb.PutPolicyResponse:
        definition = [s.as_dict() for s in steps]
        opts = (options or domain.PolicyOptions()).as_dict() or None
        form_key = form_key.strip()

        def apply(session: Session) -> pb.PutPolicyResponse:
            latest = self._latest_policy(session, key)
            if (
                latest is not None
                and latest.form_key == form_key
                and list(latest.steps) == definition
                and (latest.options or None) == opts
            ):
                return pb.PutPolicyResponse(key=key, version=latest.version, created=False)
            version = (latest.version if latest else 0) + 1
            session.add(
                PolicyVersion(
                    key=key, version=version, form_key=form_key, steps=definition, options=opts, created_at=now_utc()
                )
            )
            try:
                session.flush()
            except IntegrityError as err:
                raise Conflict("策略正被同时修改，请重试", "the policy was changed concurrently, retry",
                               code="stale_version") from err
            log.info("approval.policy_saved", policy_key=key, version=version, form_key=form_key, steps=len(steps))
            return pb.PutPolicyResponse(key=key, version=version, created=True)

        return run_once(self.engine, processed_request, request_id=request_id, method=M_PUT_POLICY,
                        response_type=pb.PutPolicyResponse, apply=apply)

    @staticmethod
    def _latest_policy(session: Session, key: str) -> PolicyVersion | None:
        stmt = select(PolicyVersion).where(PolicyVersion.key == key).order_by(col(PolicyVersion.version).desc())
        return session.exec(stmt.limit(1)).first()

    def get_policy(self, *, key: str, version: int = 0) -> pb.Policy:
        with Session(self.engine) as session:
            if version > 0:
                stmt = select(PolicyVersion).where(PolicyVersion.key == key, PolicyVersion.version == version)
                row = session.exec(stmt).first()
            else:
                row = self._latest_policy(session, key)
            if row is None:
                raise NotFound(f"审批策略不存在：{key}" + (f" v{version}" if version else ""),
                               f"unknown approval policy: {key}" + (f" v{version}" if version else ""))
            return mapping.policy_to_proto(row)

    @staticmethod
    def _to_policy(row: PolicyVersion | sa.Row[*tuple[Any, ...]]) -> domain.Policy:
        return domain.Policy(
            key=row.key,
            form_key=row.form_key,
            version=row.version,
            steps=tuple(domain.StepSpec.from_dict(s) for s in row.steps),
            options=domain.PolicyOptions.from_dict(row.options),
        )

    def policy(self, *, key: str) -> domain.Policy:
        """Latest version of a policy; NotFound if unknown."""
        with self.engine.connect() as conn:
            row = conn.execute(_LATEST, {"key": key}).first()
        if row is None:
            raise NotFound(f"审批策略不存在：{key}", f"unknown approval policy: {key}")
        return self._to_policy(row)

    def policy_for_form(self, *, form_key: str) -> domain.Policy | None:
        """The policy deciding projects of a form: among the latest versions of all policies, the
        one for this form; with several, the most recently changed."""
        with self.engine.connect() as conn:
            rows = conn.execute(_FOR_FORM, {"form_key": form_key}).all()
        # Keys reserved for other purposes (acceptance, acceptance:<business line>, change…)
        # name the form they apply to but never decide its registrations.
        for row in rows:
            if domain.policy_purpose(row.key) == domain.PURPOSE_REGISTRATION:
                return self._to_policy(row)
        return None

