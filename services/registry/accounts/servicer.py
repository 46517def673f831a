"""AccountService over gRPC: thin methods around ``service.Accounts``."""

from __future__ import annotations

from datetime import UTC, datetime

import grpc
from google.protobuf import timestamp_pb2
from sqlalchemy.engine import Engine

from baobei.core.grpc_server import rpc
from baobei.registry.v1 import accounts_service_pb2 as pb
from baobei.registry.v1 import accounts_service_pb2_grpc as pb_grpc
from services.registry import mapping
from services.registry.accounts import domain
from services.registry.accounts.models import AuthSettingsRow
from services.registry.accounts.service import Accounts, AccountView, Outcome
from services.registry.accounts.store import admins_with_password
from services.registry.sealing import Sealer

_OUTCOMES = {
    "ok": pb.SignInResponse.OK, "invalid_credentials": pb.SignInResponse.INVALID_CREDENTIALS,
    "locked": pb.SignInResponse.LOCKED, "totp_required": pb.SignInResponse.TOTP_REQUIRED,
    "totp_invalid": pb.SignInResponse.TOTP_INVALID, "user_left": pb.SignInResponse.USER_LEFT,
}


def _now(t: timestamp_pb2.Timestamp) -> datetime:
    return mapping.ts_or_none(t) or datetime.now(UTC)


def _put_ts(target: timestamp_pb2.Timestamp, value: datetime | None) -> None:
    if value is not None:
        target.CopyFrom(mapping.ts(value))


def outcome_to_pb(o: Outcome, now: datetime) -> pb.SignInResponse:
    out = pb.SignInResponse(outcome=_OUTCOMES[o.outcome], user_id=o.user_id,
                            totp_enrolment_required=o.totp_enrolment_required,
                            recovery_code_used=o.recovery_code_used, recovery_codes_left=o.recovery_codes_left)
    if o.user is not None:
        out.user.CopyFrom(mapping.user_to_pb(o.user))
    if o.locked_until is not None:
        _put_ts(out.locked_until, o.locked_until)
        out.retry_after_seconds = domain.retry_after(o.locked_until, now)
    return out


def account_to_pb(view: AccountView) -> pb.Account:
    a = view.state
    out = pb.Account(user_id=a.user_id, has_password=bool(a.password_hash), totp_enabled=bool(a.totp_secret),
                     failed_count=a.failed_count, recovery_codes_left=len(a.recovery_codes),
                     totp_required=view.totp_required)
    _put_ts(out.password_set_at, a.password_set_at)
    _put_ts(out.locked_until, a.locked_until)
    _put_ts(out.last_sign_in_at, a.last_sign_in_at)
    return out


def settings_to_pb(row: AuthSettingsRow, admins: int = 0) -> pb.AuthSettings:
    out = pb.AuthSettings(totp_required_roles=list(row.totp_required_roles or []), version=row.version,
                          updated_by=row.updated_by, admins_with_password=admins)
    for r in row.retired_bootstrap_tokens or []:
        token = out.retired_bootstrap_tokens.add(fingerprint=r.get("fingerprint", ""), retired_by=r.get("by", ""))
        _put_ts(token.retired_at, datetime.fromisoformat(r["at"]) if r.get("at") else None)
    _put_ts(out.updated_at, row.updated_at)
    return out


class AccountServicer(pb_grpc.AccountServiceServicer):
    def __init__(self, engine: Engine, sealer: Sealer, policy: domain.AccountPolicy | None = None) -> None:
        self.engine = engine
        self.accounts = Accounts(engine, sealer, policy or domain.AccountPolicy())

    @rpc
    def SignIn(self, request: pb.SignInRequest, ctx: grpc.ServicerContext) -> pb.SignInResponse:
        now = _now(request.now)
        return outcome_to_pb(self.accounts.sign_in(request.login, request.password, request.totp_code, now), now)

    @rpc
    def GetAccount(self, request: pb.GetAccountRequest, ctx: grpc.ServicerContext) -> pb.Account:
        return account_to_pb(self.accounts.account(request.user_id))

    @rpc
    def SetPassword(self, request: pb.SetPasswordRequest, ctx: grpc.ServicerContext) -> pb.Account:
        return account_to_pb(self.accounts.set_password(request.user_id, request.password, _now(request.now)))

    @rpc
    def ChangePassword(self, request: pb.ChangePasswordRequest, ctx: grpc.ServicerContext) -> pb.SignInResponse:
        now = _now(request.now)
        return outcome_to_pb(self.accounts.change_password(request.user_id, request.current_password,
                                                           request.new_password, now), now)

    @rpc
    def IssueSetupLink(self, request: pb.IssueSetupLinkRequest, ctx: grpc.ServicerContext) -> pb.IssueSetupLinkResponse:
        # Not kept in the request log: the token must exist only in this answer.
        issued = self.accounts.issue_link(purpose=request.purpose, user_id=request.user_id, login=request.login,
                                          actor_id=request.actor_id, now=_now(request.now))
        out = pb.IssueSetupLinkResponse(issued=issued.issued, token=issued.token, reason=issued.reason)
        _put_ts(out.expires_at, issued.expires_at)
        if issued.user is not None:
            out.user.CopyFrom(mapping.user_to_pb(issued.user))
        return out

    @rpc
    def CheckSetupLink(self, request: pb.CheckSetupLinkRequest, ctx: grpc.ServicerContext) -> pb.CheckSetupLinkResponse:
        link, user, totp = self.accounts.check_link(request.token, _now(request.now))
        out = pb.CheckSetupLinkResponse(purpose=link.purpose, user=mapping.user_to_pb(user), totp_enabled=totp)
        _put_ts(out.expires_at, link.expires_at)
        return out

    @rpc
    def UseSetupLink(self, request: pb.UseSetupLinkRequest, ctx: grpc.ServicerContext) -> pb.SignInResponse:
        now = _now(request.now)
        return outcome_to_pb(self.accounts.use_link(request.token, request.password, request.totp_code, now), now)

    @rpc
    def Unlock(self, request: pb.UnlockRequest, ctx: grpc.ServicerContext) -> pb.Account:
        return account_to_pb(self.accounts.unlock(request.user_id, datetime.now(UTC)))

    @rpc
    def StartTotp(self, request: pb.StartTotpRequest, ctx: grpc.ServicerContext) -> pb.StartTotpResponse:
        secret, uri = self.accounts.start_totp(request.user_id, datetime.now(UTC))
        return pb.StartTotpResponse(secret=secret, uri=uri)

    @rpc
    def ConfirmTotp(self, request: pb.ConfirmTotpRequest, ctx: grpc.ServicerContext) -> pb.ConfirmTotpResponse:
        codes, view = self.accounts.confirm_totp(request.user_id, request.code, _now(request.now))
        return pb.ConfirmTotpResponse(recovery_codes=codes, account=account_to_pb(view))

    @rpc
    def DisableTotp(self, request: pb.DisableTotpRequest, ctx: grpc.ServicerContext) -> pb.Account:
        return account_to_pb(self.accounts.disable_totp(request.user_id, request.code, by_admin=request.by_admin,
                                                        now=_now(request.now)))

    @rpc
    def GetAuthSettings(self, request: pb.GetAuthSettingsRequest, ctx: grpc.ServicerContext) -> pb.AuthSettings:
        return settings_to_pb(self.accounts.settings(), admins_with_password(self.engine))

    @rpc
    def PutAuthSettings(self, request: pb.PutAuthSettingsRequest, ctx: grpc.ServicerContext) -> pb.AuthSettings:
        row = self.accounts.put_settings(list(request.totp_required_roles), request.actor_id, datetime.now(UTC))
        return settings_to_pb(row, admins_with_password(self.engine))

    @rpc
    def RetireBootstrapToken(
        self, request: pb.RetireBootstrapTokenRequest, ctx: grpc.ServicerContext
    ) -> pb.AuthSettings:
        row = self.accounts.retire_bootstrap_token(request.fingerprint, request.actor_id, datetime.now(UTC))
        return settings_to_pb(row, admins_with_password(self.engine))
