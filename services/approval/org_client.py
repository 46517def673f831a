"""The org directory read from the registry service over gRPC (read-only)."""

from __future__ import annotations

import grpc
import structlog

from baobei.core.grpc_client import channel, metadata
from baobei.registry.v1 import registry_service_pb2 as pb
from baobei.registry.v1 import registry_service_pb2_grpc as pb_grpc
from services.approval.domain import OrgUser

log = structlog.get_logger(__name__)


def _org_user(u: pb.User) -> OrgUser:
    # ``left`` is read defensively: registries (and generated code) without the field report no one as left.
    return OrgUser(id=u.id, department_id=u.department_id, roles=tuple(u.roles), region=u.region,
                   left=bool(getattr(u, "left", False)))


class DirectoryUnavailable(Exception):
    """The registry could not be reached (callers should retry)."""


class GrpcOrgDirectory:
    """``OrgDirectory`` backed by RegistryService.GetUser / ListUsers / GetManagerChain. The
    registry's manager chain already walks past managers who left (their departments count as
    having no manager) and comes with the user; role holders who left are dropped here. Nothing
    is cached: planning reads through a ``domain.PlanningReads`` made per request."""

    def __init__(self, addr: str, *, timeout: float = 10.0) -> None:
        self._addr = addr
        self._channel = channel(addr)
        self._stub = pb_grpc.RegistryServiceStub(self._channel)
        self._timeout = timeout

    def close(self) -> None:
        self._channel.close()

    def _fail(self, call: str, err: grpc.RpcError) -> DirectoryUnavailable:
        code = err.code() if hasattr(err, "code") else None
        log.warning("approval.registry_failed", call=call, addr=self._addr, code=str(code))
        return DirectoryUnavailable(f"registry {call} failed: {code}")

    def get_user(self, user_id: str) -> OrgUser | None:
        if not user_id:
            return None
        try:
            resp = self._stub.GetUser(pb.GetUserRequest(user_id=user_id), timeout=self._timeout, metadata=metadata())
        except grpc.RpcError as err:
            if err.code() in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT):
                return None
            raise self._fail("GetUser", err) from err
        return _org_user(resp.user)

    def users_with_role(self, role: str) -> list[str]:
        return [u.id for u in self.role_holders(role)]

    def role_holders(self, role: str) -> list[OrgUser]:
        if not role:
            return []
        try:
            resp = self._stub.ListUsers(pb.ListUsersRequest(role=role), timeout=self._timeout, metadata=metadata())
        except grpc.RpcError as err:
            raise self._fail("ListUsers", err) from err
        # The registry ANDs filters and ignores empty ones; keep only real holders to be safe.
        # Users who left are never routed to.
        holders = {user.id: user for user in map(_org_user, resp.users) if role in user.roles and not user.left}
        return [holders[k] for k in sorted(holders)]

    def _chain(self, user_id: str) -> pb.GetManagerChainResponse | None:
        """The registry's manager chain of a user (with the user), None for an unknown user."""
        if not user_id:
            return None
        try:
            resp: pb.GetManagerChainResponse = self._stub.GetManagerChain(
                pb.GetManagerChainRequest(user_id=user_id), timeout=self._timeout, metadata=metadata()
            )
        except grpc.RpcError as err:
            if err.code() in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT):
                return None
            raise self._fail("GetManagerChain", err) from err
        return resp

    def user_and_links(self, user_id: str) -> tuple[OrgUser | None, list[tuple[str, str]]]:
        """The user and their manager links in one GetManagerChain: the registry answers the user
        with the chain (one older than that field costs a GetUser besides)."""
        resp = self._chain(user_id)
        if resp is None:
            return None, []
        user = _org_user(resp.user) if resp.HasField("user") else self.get_user(user_id)
        links = [(link.department_id, link.manager_id) for link in resp.links]
        # The registry leaves out departments without a manager: the user's own still counts
        # for department-scoped roles.
        if user is not None and user.department_id and all(d != user.department_id for d, _ in links):
            links.insert(0, (user.department_id, ""))
        return user, links

    def manager_links(self, user_id: str) -> list[tuple[str, str]]:
        return self.user_and_links(user_id)[1]

    def department_manager(self, department_id: str) -> str:
        """The manager of a department, read through the manager chain of one of its members
        (the registry has no department lookup)."""
        if not department_id:
            return ""
        try:
            resp = self._stub.ListUsers(
                pb.ListUsersRequest(department_id=department_id), timeout=self._timeout, metadata=metadata()
            )
        except grpc.RpcError as err:
            raise self._fail("ListUsers", err) from err
        for member in resp.users[:3]:
            for dept, manager in self.manager_links(member.id):
                if dept == department_id and manager:
                    return manager
        return ""

    def manager_chain(self, user_id: str) -> list[str]:
        resp = self._chain(user_id)
        return [link.manager_id for link in resp.links if link.manager_id] if resp is not None else []
