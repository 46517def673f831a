"""IdentityService over real gRPC (served by the registry process): sign-in providers with
write-only secrets, and external identities resolved to exactly one org user — linked on first
sign-in, found by subject afterwards, never a duplicate, never a departed user."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import grpc
import pytest

from baobei.registry.v1 import identity_service_pb2 as ipb
from baobei.registry.v1 import identity_service_pb2_grpc as ipb_grpc
from baobei.registry.v1 import registry_service_pb2 as pb
from baobei.registry.v1 import registry_service_pb2_grpc as pb_grpc
from tests.conftest import StartService
from tests.service.test_registry_service import fails


@dataclass
class Stubs:
    registry: pb_grpc.RegistryServiceStub
    identity: ipb_grpc.IdentityServiceStub


ORG = pb.UpsertOrgRequest(
    request_id="org-identity",
    departments=[pb.Department(id="hq", name="总部")],
    users=[
        pb.User(id="u1", name="张三", email="Zhang.San@Example.com", mobile="13800138000", department_id="hq"),
        pb.User(id="u2", name="李四", email="li@example.com", mobile="13900139000", department_id="hq"),
        pb.User(id="twin1", name="甲", email="same@example.com", department_id="hq"),
        pb.User(id="twin2", name="乙", email="same@example.com", department_id="hq"),
    ],
)


@pytest.fixture()
def stubs(start_service: StartService) -> Stubs:
    ch = start_service("registry").channel
    s = Stubs(pb_grpc.RegistryServiceStub(ch), ipb_grpc.IdentityServiceStub(ch))
    s.registry.UpsertOrg(ORG, timeout=10)
    s.identity.PutProvider(provider("corp", client_secret="s3cret"), timeout=10)
    return s


def provider(key: str, type_: str = "oidc", *, request_id: str = "", **secrets: str) -> ipb.PutProviderRequest:
    p = ipb.Provider(key=key, type=type_, name="公司登录", enabled=True)
    p.config.update({"issuer": "https://sso.example.com", "client_id": "baobei"})
    p.secrets.update(secrets)
    return ipb.PutProviderRequest(request_id=request_id or f"put-{key}-{sorted(secrets)}", provider=p, actor_id="root")


def resolve(s: Stubs, subject: str, field: str = "email", value: str = "",
            key: str = "corp") -> ipb.ResolveIdentityResponse:
    return s.identity.ResolveIdentity(ipb.ResolveIdentityRequest(
        request_id=f"r-{subject}", provider_key=key, subject=subject, match_field=field, match_value=value), timeout=10)


def test_secrets_are_write_only_and_kept_when_omitted(stubs: Stubs) -> None:
    listed = stubs.identity.ListProviders(ipb.ListProvidersRequest(), timeout=10).providers
    assert [p.key for p in listed] == ["corp"]
    assert listed[0].secrets_set == ["client_secret"] and not listed[0].secrets.fields
    # A later PUT without the secret keeps it; only an internal read with_secrets sees it.
    stubs.identity.PutProvider(provider("corp", request_id="again"), timeout=10)
    full = stubs.identity.GetProvider(ipb.GetProviderRequest(key="corp", with_secrets=True), timeout=10)
    assert full.secrets["client_secret"] == "s3cret" and full.version == 1  # unchanged content: same version
    cleared = provider("corp", request_id="clear")
    cleared.clear_secrets.append("client_secret")
    assert stubs.identity.PutProvider(cleared, timeout=10).secrets_set == []


def test_bad_provider_key_type_and_type_change_are_refused(stubs: Stubs) -> None:
    err = fails(stubs.identity.PutProvider, provider("Bad Key!"), grpc.StatusCode.INVALID_ARGUMENT)
    assert "key" in str(err)
    err = fails(stubs.identity.PutProvider, provider("x", "saml"), grpc.StatusCode.INVALID_ARGUMENT)
    assert "type" in str(err)
    retype = provider("corp", "ldap", request_id="retype")
    fails(stubs.identity.PutProvider, retype, grpc.StatusCode.FAILED_PRECONDITION)


def test_first_sign_in_links_by_email_then_by_subject(stubs: Stubs) -> None:
    first = resolve(stubs, "sub-1", value="  zhang.san@EXAMPLE.com ")
    assert first.user.id == "u1" and first.linked_now
    # The provider's e-mail changed: the link (subject) still finds the same user, no new link.
    again = resolve(stubs, "sub-1", value="renamed@example.com")
    assert again.user.id == "u1" and not again.linked_now
    links = stubs.identity.ListIdentityLinks(ipb.ListIdentityLinksRequest(user_id="u1"), timeout=10).links
    assert [(x.provider_key, x.subject) for x in links] == [("corp", "sub-1")]


def test_mobile_match_ignores_country_prefix_and_dashes(stubs: Stubs) -> None:
    assert resolve(stubs, "m-1", "mobile", "+86 139-0013-9000").user.id == "u2"


def test_unknown_ambiguous_and_conflicting_identities_are_refused(stubs: Stubs) -> None:
    def refused(subject: str, value: str, code: grpc.StatusCode) -> str:
        return str(fails(stubs.identity.ResolveIdentity, ipb.ResolveIdentityRequest(
            request_id=f"x-{subject}", provider_key="corp", subject=subject, match_field="email", match_value=value),
            code))

    assert "sso_user_unknown" in refused("nobody", "nobody@example.com", grpc.StatusCode.NOT_FOUND)
    assert "sso_user_ambiguous" in refused("twin", "same@example.com", grpc.StatusCode.FAILED_PRECONDITION)
    resolve(stubs, "li-a", value="li@example.com")
    # A second provider account claiming the same person is not linked to them.
    assert "sso_identity_conflict" in refused("li-b", "li@example.com", grpc.StatusCode.FAILED_PRECONDITION)


def test_a_departed_user_is_refused_even_when_linked(stubs: Stubs) -> None:
    resolve(stubs, "sub-u2", value="li@example.com")
    stubs.registry.UpsertOrg(pb.UpsertOrgRequest(request_id="leave-u2", users=[
        pb.User(id="u2", name="李四", email="li@example.com", department_id="hq", left=True)]), timeout=10)
    err = fails(stubs.identity.ResolveIdentity, ipb.ResolveIdentityRequest(
        request_id="after-leave", provider_key="corp", subject="sub-u2", match_field="email"),
        grpc.StatusCode.PERMISSION_DENIED)
    assert "user_left" in str(err)


def test_concurrent_first_sign_ins_link_once(stubs: Stubs) -> None:
    results: list[str] = []

    def go(i: int) -> None:
        results.append(stubs.identity.ResolveIdentity(ipb.ResolveIdentityRequest(
            request_id=f"c-{i}", provider_key="corp", subject="race", match_field="id", match_value="u1"),
            timeout=10).user.id)

    threads = [threading.Thread(target=go, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == ["u1"] * 6
    links = stubs.identity.ListIdentityLinks(ipb.ListIdentityLinksRequest(user_id="u1"), timeout=10).links
    assert [x.subject for x in links] == ["race"]


def test_deleting_a_provider_drops_its_links(stubs: Stubs) -> None:
    resolve(stubs, "sub-del", "id", "u1")
    assert stubs.identity.DeleteProvider(ipb.DeleteProviderRequest(request_id="d1", key="corp"), timeout=10).deleted
    assert not stubs.identity.ListIdentityLinks(ipb.ListIdentityLinksRequest(user_id="u1"), timeout=10).links
    fails(stubs.identity.GetProvider, ipb.GetProviderRequest(key="corp"), grpc.StatusCode.NOT_FOUND)
