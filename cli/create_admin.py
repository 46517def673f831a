"""``baobei create-admin``: make an org user an admin with a local account, straight through the
registry's gRPC API (as an operator, like ``baobei migrate``: it works before any admin exists and
after the bootstrap token is retired). It prints a single-use link to set the password, or sets
the one read from standard input (``--password-stdin``).

``setup_hint`` is what ``baobei dev`` prints while no admin account has a password."""

from __future__ import annotations

import shlex
import sys
import uuid
from datetime import UTC
from typing import TextIO
from urllib.parse import urlencode

import grpc

from baobei.core.grpc_client import channel, read_failure
from baobei.core.settings import Settings
from baobei.registry.v1 import accounts_service_pb2 as accounts_pb2
from baobei.registry.v1 import accounts_service_pb2_grpc as accounts_grpc
from baobei.registry.v1 import registry_service_pb2 as registry_pb2
from baobei.registry.v1 import registry_service_pb2_grpc as registry_grpc

SETUP_PATH = "/auth/password/setup"
TIMEOUT = 30.0


def admin_accounts(settings: Settings) -> int:
    """Admins (not departed) who have a password; -1 when the registry does not answer."""
    try:
        with channel(settings.addr("registry")) as ch:
            resp = accounts_grpc.AccountServiceStub(ch).GetAuthSettings(accounts_pb2.GetAuthSettingsRequest(),
                                                                         timeout=5)
            return int(resp.admins_with_password)
    except grpc.RpcError:
        return -1


def command(settings: Settings) -> str:
    """The create-admin command line that reaches this system's registry and links to its edge."""
    env = []
    if settings.registry_addr:
        env.append(f"BAOBEI_REGISTRY_ADDR={settings.registry_addr}")
    if settings.base_url:
        env.append(f"BAOBEI_BASE_URL={shlex.quote(settings.base_url)}")
    port = [] if settings.port == 8000 or settings.base_url else ["--port", str(settings.port)]
    args = ["baobei", "create-admin", *port, "--id", "admin1", "--name", "管理员", "--email", "you@example.com"]
    return " ".join([*env, *args])


def setup_hint(settings: Settings) -> list[str]:
    lines = [f"  sign in: {settings.public_base_url()}/signin"]
    if admin_accounts(settings) == 0:
        lines.append(f"  no admin account yet; create the first one: {command(settings)}")
        lines.append("    (from a checkout: ./bb create-admin ...; then retire the bootstrap token: README, Sign-in)")
    return lines


def _fail(err: grpc.RpcError, out: TextIO) -> int:
    f = read_failure(err)
    print(f"create-admin: {f.message or err}", file=out)
    for v in f.violations:
        print(f"  {v.field}: {v.zh}" + (f" ({v.en})" if v.en and v.en != v.zh else ""), file=out)
    return 1


def run(settings: Settings, *, user_id: str, name: str, email: str, password_stdin: bool,
        stdin: TextIO = sys.stdin, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    user_id = user_id.strip()
    if not user_id:
        print("create-admin: --id is required", file=err)
        return 2
    try:
        with channel(settings.addr("registry")) as ch:
            registry = registry_grpc.RegistryServiceStub(ch)
            accounts = accounts_grpc.AccountServiceStub(ch)
            new = False
            try:
                user = registry.GetUser(registry_pb2.GetUserRequest(user_id=user_id), timeout=TIMEOUT).user
            except grpc.RpcError as e:
                if e.code() != grpc.StatusCode.NOT_FOUND:
                    raise
                user, new = registry_pb2.User(id=user_id), True
            if new and not name.strip():
                print(f"create-admin: user {user_id} does not exist yet: --name is required", file=err)
                return 2
            if user.left:
                print(f"note: {user_id} had left the organisation and is active again", file=out)
            roles = list(dict.fromkeys([*user.roles, "admin"]))
            wanted = registry_pb2.User(
                id=user_id, name=name.strip() or user.name, email=email.strip() or user.email, mobile=user.mobile,
                department_id=user.department_id, roles=roles, region=user.region)
            registry.UpsertOrg(registry_pb2.UpsertOrgRequest(request_id=uuid.uuid4().hex, users=[wanted]),
                               timeout=TIMEOUT)
            print(f"admin {user_id} ({wanted.name}) ready with roles {', '.join(roles)}", file=out)
            base = settings.public_base_url()
            if password_stdin:
                password = stdin.readline().rstrip("\r\n")
                accounts.SetPassword(accounts_pb2.SetPasswordRequest(user_id=user_id, password=password),
                                     timeout=TIMEOUT)
                print(f"password set; sign in at {base}/signin", file=out)
                return 0
            has_password = accounts.GetAccount(accounts_pb2.GetAccountRequest(user_id=user_id),
                                               timeout=TIMEOUT).has_password
            link = accounts.IssueSetupLink(accounts_pb2.IssueSetupLinkRequest(
                request_id=uuid.uuid4().hex, purpose="reset" if has_password else "invite", user_id=user_id,
                actor_id="cli"), timeout=TIMEOUT)
            expires = link.expires_at.ToDatetime(tzinfo=UTC).isoformat()
            print(f"set the password with this single-use link (valid until {expires}; keep it private):", file=out)
            print(f"  {base}{SETUP_PATH}?{urlencode({'token': link.token})}", file=out)
            print(f"then sign in at {base}/signin", file=out)
            return 0
    except grpc.RpcError as e:
        if e.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
            print(f"create-admin: the registry at {settings.addr('registry')} does not answer "
                  "(is `baobei dev` running? set BAOBEI_REGISTRY_ADDR)", file=err)
            return 1
        return _fail(e, err)
