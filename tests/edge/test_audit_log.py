"""The audit log over HTTP (in-process stack, real registry): admins only; the events the routes
record (tokens, org upsert and role changes, org sync departures, form, policy, rule, channel,
exports, sign-in providers, an admin's reassign and cancel); filters and paging; the CSV export
(BOM, neutralised formula cells, itself audited); verify; and a registry that cannot be reached
never failing the request."""

from __future__ import annotations

import csv
import io
import json
import uuid
from typing import Any

import httpx
import pytest
from structlog.testing import capture_logs

from baobei.core.settings import Settings
from baobei.registry.v1 import audit_service_pb2 as audit_pb2
from edge import audit
from edge.clients import Clients, EdgeDeps
from tests.conftest import free_port
from tests.edge.conftest import Org, Stack
from tests.edge.test_approvals import submitted, todo_for

pytestmark = pytest.mark.asyncio(loop_scope="session")
LOG = "/api/v1/audit-log"


async def events(admin: httpx.AsyncClient, **params: Any) -> list[dict[str, Any]]:
    r = await admin.get(LOG, params={"limit": 1000, **params})
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


async def one(admin: httpx.AsyncClient, **params: Any) -> dict[str, Any]:
    found = await events(admin, **params)
    assert len(found) == 1, found
    return found[0]


async def test_admins_only(stack: Stack, org: Org) -> None:
    async with stack.client(token=None) as anon:
        for path in (LOG, LOG + "?format=csv", LOG + "/verify"):
            assert (await anon.get(path)).status_code == 401
            r = await org["rep"].get(path)
            assert r.status_code == 403 and r.json()["error"]["code"] == "admin_required"
            assert (await org["boss"].get(path)).status_code == 403


async def test_tokens_issued_and_revoked(admin: httpx.AsyncClient, org: Org, stack: Stack) -> None:
    user = org.user("rep2")
    r = await admin.post(f"/api/v1/users/{user}/tokens", json={"name": "脚本", "scopes": ["reports:read"]},
                         headers={"X-Request-ID": "audit-test-" + org.run})
    assert r.status_code == 201, r.text
    token = r.json()
    # (The org fixture issued this user a token before.)
    found = [e for e in await events(admin, action="token.issued", target_id=user, **{"from": "2000-01-01T00:00:00Z"})
             if e["details"]["token_id"] == token["id"]]
    assert len(found) == 1
    issued = found[0]
    assert issued["actor_id"] == "admin" and issued["target_type"] == "user" and issued["outcome"] == "success"
    assert issued["details"] == {"token_id": token["id"], "name": "脚本", "scopes": ["reports:read"],
                                 "expires_at": token["expires_at"]}
    assert issued["request_id"] == "audit-test-" + org.run and issued["actor_ip"]
    assert token["token"] not in json.dumps(issued)  # never the secret
    assert (await admin.delete(f"/api/v1/users/{user}/tokens/{token['id']}")).status_code == 204
    revoked = await one(admin, action="token.revoked", target_id=user)
    assert revoked["actor_id"] == "admin" and revoked["details"] == {"token_id": token["id"]}
    # A user revoking their own token is the actor.
    own = (await admin.post(f"/api/v1/users/{user}/tokens")).json()
    async with stack.client(own["token"]) as holder:
        assert (await holder.delete(f"/api/v1/me/tokens/{own['id']}")).status_code == 204
    mine = [e for e in await events(admin, action="token.revoked", target_id=user) if e["actor_id"] == user]
    assert [e["details"]["token_id"] for e in mine] == [own["id"]]


async def test_form_and_policy_changes(admin: httpx.AsyncClient, org: Org) -> None:
    form, policy = f"audit-form-{org.run}", f"audit-policy-{org.run}"
    for label in ("备注", "说明"):
        r = await admin.put(f"/api/v1/forms/{form}",
                            json={"title": "审计表单", "fields": [{"key": "note", "label": label, "type": "text"}]})
        assert r.status_code == 200, r.text
    changes = await events(admin, action="form.changed", target_id=form)
    assert [(e["target_type"], e["details"]["version"]) for e in changes] == [("form", 2), ("form", 1)]
    assert changes[0]["details"]["fields"] == ["note"] and changes[0]["actor_id"] == "admin"
    r = await admin.put(f"/api/v1/approval-policies/{policy}", json={"form_key": form, "steps": [
        {"name": "经理审批", "approvers": {"type": "user", "user_id": org.user("boss")}, "mode": "any"}]})
    assert r.status_code == 200, r.text
    changed = await one(admin, action="policy.changed", target_id=policy)
    assert changed["target_type"] == "approval_policy"
    assert changed["details"] == {"version": 1, "form_key": form, "steps": ["经理审批"]}


async def test_org_upsert_and_role_changes(admin: httpx.AsyncClient, org: Org) -> None:
    run = uuid.uuid4().hex[:8]
    dept = f"audit-d-{run}"
    body: dict[str, Any] = {"departments": [{"id": dept, "name": "审计部"}], "users": [
        {"id": f"a1-{run}", "name": "甲", "department_id": dept, "roles": ["sales"]},
        {"id": f"a2-{run}", "name": "乙", "department_id": dept, "roles": ["integrator"]},
    ]}
    assert (await admin.put("/api/v1/org", json=body)).status_code == 200
    upserted = [e for e in await events(admin, action="org.upserted") if dept in e["details"]["department_ids"]]
    assert len(upserted) == 1
    assert upserted[0]["details"]["user_ids"] == [f"a1-{run}", f"a2-{run}"]
    assert upserted[0]["details"]["created"] == [f"a1-{run}", f"a2-{run}"]
    # A new user with an ordinary role is in the summary; a privileged grant gets its own event.
    assert await events(admin, action="role.changed", target_id=f"a1-{run}") == []
    granted = await one(admin, action="role.changed", target_id=f"a2-{run}")
    assert granted["details"]["granted"] == ["integrator"] and granted["details"]["before"] == []
    body["users"][0]["roles"] = ["sales", "admin"]
    assert (await admin.put("/api/v1/org", json={"users": body["users"][:1]})).status_code == 200
    promoted = await one(admin, action="role.changed", target_id=f"a1-{run}")
    assert promoted["details"] == {"before": ["sales"], "after": ["admin", "sales"], "granted": ["admin"],
                                   "removed": [], "via": "org.upserted"}
    # Unchanged roles: no role event.
    assert (await admin.put("/api/v1/org", json={"users": body["users"][:1]})).status_code == 200
    assert len(await events(admin, action="role.changed", target_id=f"a1-{run}")) == 1


async def test_org_sync_records_departures(admin: httpx.AsyncClient) -> None:
    run = uuid.uuid4().hex[:8]
    body = {
        "department": [{"id": f"{run}1", "name": "总部", "parentid": 0}],
        "userlist": [{"userid": f"w{run}", "name": "甲", "department": [f"{run}1"], "status": 1},
                     {"userid": f"x{run}", "name": "乙", "department": [f"{run}1"], "status": 5}],
    }
    r = await admin.post("/api/v1/integrations/org/wecom", json=body)
    assert r.status_code == 200, r.text
    synced = [e for e in await events(admin, action="org.synced", target_id="wecom")
              if f"x{run}" in e["details"]["left"]]
    assert len(synced) == 1 and synced[0]["details"]["users"] == 2 and synced[0]["details"]["source"] == "wecom"
    left = await one(admin, action="user.left", target_id=f"x{run}")
    assert left["details"] == {"source": "wecom"} and left["actor_id"] == "admin"


async def test_rule_and_channel_changes(admin: httpx.AsyncClient, org: Org) -> None:
    rule = f"audit-rule-{org.run}"
    r = await admin.put(f"/api/v1/rules/{rule}", json={
        "name": "审计规则", "trigger": {"type": "status_change", "to": "done"}, "when": 'project.id == "none"',
        "actions": [{"type": "notify", "to": ["owner"]}]})
    assert r.status_code == 200, r.text
    changed = await one(admin, action="rule.changed", target_id=rule)
    assert changed["details"] == {"version": 1, "name": "审计规则", "trigger": "status_change", "actions": ["notify"]}
    key = f"audit-ch-{org.run}"
    url = "https://oapi.dingtalk.com/robot/send?access_token=very-secret-token"
    r = await admin.put(f"/api/v1/notification-channels/{key}",
                        json={"type": "dingtalk", "url": url, "secret": "SECabcdef0123456789"})
    assert r.status_code == 200, r.text
    channel = await one(admin, action="channel.changed", target_id=key)
    assert channel["details"] == {"type": "dingtalk", "host": "oapi.dingtalk.com", "enabled": True,
                                  "secret_changed": True}
    assert "very-secret-token" not in json.dumps(channel) and "SECabc" not in json.dumps(channel)


async def test_exports_are_recorded(org: Org, admin: httpx.AsyncClient) -> None:
    rep = org.user("rep")
    r = await org["rep"].get("/api/v1/exports/projects", params={"format": "csv", "status": "active"})
    assert r.status_code == 200, r.text
    exported = await one(admin, action="export.projects", actor_id=rep)
    assert exported["details"]["format"] == "csv" and exported["details"]["filters"] == {"status": "active"}
    r = await org["rep"].get("/api/v1/reports/portfolio", params={"format": "xlsx"})
    assert r.status_code == 200, r.text
    report = await one(admin, action="export.report", actor_id=rep)
    assert report["target_id"] == "portfolio" and report["details"]["format"] == "xlsx"
    # A JSON read is not an export.
    assert (await org["rep"].get("/api/v1/reports/portfolio")).status_code == 200
    assert len(await events(admin, action="export.", actor_id=rep)) == 2


async def test_auth_provider_changes(admin: httpx.AsyncClient) -> None:
    key = f"audit-oidc-{uuid.uuid4().hex[:6]}"
    r = await admin.put(f"/api/v1/auth-providers/{key}", json={
        "type": "oidc", "name": "企业 SSO", "config": {"issuer": "https://sso.example.com", "client_id": "baobei"},
        "secrets": {"client_secret": "s3cr3t-value"}})
    assert r.status_code == 200, r.text
    changed = await one(admin, action="auth_provider.changed", target_id=key)
    assert changed["details"]["secrets_changed"] == ["client_secret"]
    assert "s3cr3t-value" not in json.dumps(changed)
    assert (await admin.delete(f"/api/v1/auth-providers/{key}")).status_code == 204
    assert (await one(admin, action="auth_provider.deleted", target_id=key))["actor_id"] == "admin"


async def append(stack: Stack, **fields: Any) -> None:
    stub = stack.deps.stubs["audit"]
    await stub.Append(audit_pb2.AppendAuditRequest(event_id=uuid.uuid4().hex, **fields), timeout=10)


async def test_filters_and_paging(stack: Stack, admin: httpx.AsyncClient) -> None:
    target = f"t-{uuid.uuid4().hex[:8]}"
    for i in range(5):
        await append(stack, action=f"test.{'a' if i % 2 else 'b'}", actor_id=f"u{i % 2}", target_type="thing",
                     target_id=target, outcome="failure" if i == 4 else "success", details_json=json.dumps({"i": i}))
    everything = await events(admin, target_id=target)
    assert [e["details"]["i"] for e in everything] == [4, 3, 2, 1, 0]  # newest first
    assert [e["details"]["i"] for e in await events(admin, target_id=target, action="test.a")] == [3, 1]
    assert [e["details"]["i"] for e in await events(admin, target_id=target, actor_id="u0")] == [4, 2, 0]
    assert [e["details"]["i"] for e in await events(admin, target_id=target, outcome="failure")] == [4]
    assert len(await events(admin, target_id=target, target_type="thing")) == 5
    assert await events(admin, target_id=target, target_type="other") == []
    # Time window: everything above was recorded after the first event's instant.
    first_at = everything[-1]["at"]
    assert len(await events(admin, target_id=target, **{"from": first_at})) == 5
    assert await events(admin, target_id=target, to=first_at) == []
    # Pages of two, following next_cursor to the end.
    seen: list[int] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"target_id": target, "limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await admin.get(LOG, params=params)).json()
        seen += [e["details"]["i"] for e in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [4, 3, 2, 1, 0]
    # The chain fields are there and link up.
    assert all(len(e["hash"]) == 64 and len(e["prev_hash"]) == 64 for e in everything)
    r = await admin.get(LOG, params={"outcome": "maybe"})
    assert r.status_code == 422 and r.json()["error"]["details"][0]["field"] == "outcome"
    r = await admin.get(LOG, params={"from": "yesterday"})
    assert r.status_code == 422 and r.json()["error"]["details"][0]["field"] == "from"
    r = await admin.get(LOG, params={"to": "0001-01-01T00:00:00+14:00"})
    assert r.status_code == 422 and r.json()["error"]["details"][0]["field"] == "to"
    r = await admin.get(LOG, params={"cursor": "not-a-cursor"})
    assert r.status_code == 422 and r.json()["error"]["details"][0]["field"] == "cursor"
    assert "游标" in r.json()["error"]["message"] or "游标" in r.json()["error"]["details"][0]["message"]


async def test_csv_export_neutralises_formulas_and_is_audited(stack: Stack, admin: httpx.AsyncClient) -> None:
    target = f"=HYPERLINK(\"http://evil.example/{uuid.uuid4().hex[:6]}\")"
    await append(stack, action="test.csv", actor_id="+cmd|' /C calc'!A0", target_type="thing", target_id=target,
                 details_json=json.dumps({"note": "=1+1"}))
    r = await admin.get(LOG, params={"format": "csv", "target_id": target})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    assert "audit-log.csv" in r.headers["content-disposition"]
    assert r.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0][:4] == ["序号", "时间(UTC)", "动作", "结果"]
    assert len(rows) == 2
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["对象"] == "'" + target and row["操作人"] == "'+cmd|' /C calc'!A0"
    assert row["详情"] == '{"note":"=1+1"}' and row["动作"] == "test.csv" and len(row["哈希"]) == 64
    exported = [e for e in await events(admin, action="audit.exported")
                if e["details"]["filters"] == {"target_id": target}]
    assert len(exported) == 1 and exported[0]["actor_id"] == "admin" and exported[0]["details"]["format"] == "csv"


async def test_csv_export_of_many_pages(stack: Stack, admin: httpx.AsyncClient) -> None:
    target = f"many-{uuid.uuid4().hex[:6]}"
    stub = stack.deps.stubs["audit"]
    for i in range(1005):
        await stub.Append(audit_pb2.AppendAuditRequest(event_id=f"{target}-{i}", action="test.many", actor_id="u",
                                                       target_id=target), timeout=10)
    r = await admin.get(LOG, params={"format": "csv", "target_id": target})
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert len(rows) == 1006 and len({row[0] for row in rows[1:]}) == 1005


async def test_verify(admin: httpx.AsyncClient) -> None:
    r = await admin.get(LOG + "/verify")
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["ok"] is True and out["first_broken_seq"] is None and out["checked"] >= 1
    assert out["anchor"] == {"seq": 0, "hash": "0" * 64}
    newest = (await admin.get(LOG, params={"limit": 1})).json()["items"][0]
    assert out["head"]["seq"] <= newest["seq"]


async def test_an_unreachable_registry_never_fails_the_request(stack: Stack) -> None:
    settings = Settings(registry_addr=f"127.0.0.1:{free_port()}", rpc_timeout=2.0)
    deps = await EdgeDeps.connect(settings, redis_client=stack.deps.redis)
    try:
        clients = Clients(deps=deps, locale="zh", request_id="r-unreachable", ip="10.1.2.3")
        with capture_logs() as logs:
            await audit.record(clients, "form.changed", actor_id="admin", target_type="form", target_id="f")
        failed = [e for e in logs if e["event"] == "audit.record_failed"]
        assert len(failed) == 1 and failed[0]["log_level"] == "error" and failed[0]["action"] == "form.changed"
    finally:
        for ch in deps.channels.values():
            await ch.close()


async def test_details_never_carry_secrets() -> None:
    out = json.loads(audit.details_json({"name": "x", "secrets": {"client_secret": "s"}, "nested": [{"password": "p"}],
                                         "token": "t", "at": uuid.UUID(int=0)}))
    assert out == {"name": "x", "secrets": "***", "nested": [{"password": "***"}], "token": "***",
                   "at": "00000000-0000-0000-0000-000000000000"}


async def test_large_details_are_cut_to_fit() -> None:
    big = {"user_ids": [f"user-{i:05d}" for i in range(5000)], "departments": 12}
    out = json.loads(audit.details_json(big))
    assert out["truncated"] is True and out["user_ids_total"] == 5000 and len(out["user_ids"]) == audit.LIST_KEEP
    assert out["departments"] == 12
    huge = json.loads(audit.details_json({"blob": "x" * 100_000, "n": 1}))
    assert huge["truncated"] is True and huge["keys"] == ["blob", "n"]
    assert len(audit.details_json({"blob": "x" * 100_000}).encode()) <= audit.MAX_DETAILS_BYTES


async def test_admin_reassign_and_cancel_are_recorded(admin: httpx.AsyncClient, org: Org) -> None:
    _, pid = await submitted(admin, org, amount=100)
    await todo_for(org["boss"], pid)
    r = await admin.post(f"/api/v1/projects/{pid}/approval/reassign",
                         json={"to_user_id": org.user("director"), "comment": "经理休假"})
    assert r.status_code == 200, r.text
    reassigned = await one(admin, action="approval.reassigned", target_id=pid)
    assert reassigned["target_type"] == "project" and reassigned["actor_id"] == "admin"
    assert reassigned["details"]["to_user_id"] == org.user("director")
    assert reassigned["details"]["approvers"] == [org.user("director")]
    r = await admin.post(f"/api/v1/projects/{pid}/approval/cancel", json={"comment": "重复报备"})
    assert r.status_code == 200, r.text
    cancelled = await one(admin, action="approval.cancelled", target_id=pid)
    assert cancelled["details"] == {"comment": "重复报备"}
