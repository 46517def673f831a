"""Approval engine benchmark.

1. Chain planning: 10,000 submissions against a 20-step policy (CEL conditions over amount,
   region, business line, fields and conflicts; every approver type) in a 5,000-person org
   (in-memory directory, the approval service's own planning code). Target ≥ 2,000 plans/s.
2. Decision latency on a real ``baobei dev``: 100 approvals in flight at once; for each, the time
   from the HTTP decision on step 1 to the next approver seeing the step-2 to-do (p50/p99), and
   the HTTP decision call alone.

    .venv/bin/python -m bench.approval [--plans 10000] [--inflight 100] [--skip-http]

Prints a table."""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import random
import statistics
import tempfile
import time
import uuid
from decimal import Decimal
from pathlib import Path

import httpx

from services.approval import domain
from services.approval.domain import ApproverSpec, InMemoryDirectory, OrgUser, Policy, PolicyOptions, StepSpec

REGIONS = ("east", "south", "north", "west", "central")
LINES = ("cloud", "iot", "erp", "security")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


# ---------------------------------------------------------------- planning


def build_org(people: int = 5000, seed: int = 7) -> tuple[InMemoryDirectory, list[str]]:
    """hq → 5 regions → 10 branches each → 4 teams each (255 departments), managers at every
    level, specialists holding roles, sales reps in the teams."""
    rnd = random.Random(seed)
    users: dict[str, OrgUser] = {}
    depts: dict[str, tuple[str, str]] = {}

    def add(uid: str, dept: str, roles: tuple[str, ...], region: str) -> None:
        users[uid] = OrgUser(uid, dept, roles, region)

    add("ceo", "hq", ("exec",), "north")
    depts["hq"] = ("", "ceo")
    teams: list[tuple[str, str]] = []
    for r in REGIONS:
        rd = f"r-{r}"
        add(f"vp-{r}", rd, ("regional_vp",), r)
        depts[rd] = ("hq", f"vp-{r}")
        for b in range(10):
            bd = f"{rd}-b{b}"
            add(f"dir-{r}-{b}", bd, ("director",), r)
            add(f"fin-{r}-{b}", bd, ("finance",), r)
            add(f"legal-{r}-{b}", bd, ("legal",), r)
            depts[bd] = (rd, f"dir-{r}-{b}")
            for t in range(4):
                td = f"{bd}-t{t}"
                add(f"lead-{r}-{b}-{t}", td, ("sales", "team_lead"), r)
                depts[td] = (bd, f"lead-{r}-{b}-{t}")
                teams.append((td, r))
    reps: list[str] = []
    while len(users) < people:
        td, r = teams[rnd.randrange(len(teams))]
        uid = f"rep-{len(users)}"
        add(uid, td, ("sales",), r)
        reps.append(uid)
    return InMemoryDirectory(users=users, departments=depts), reps


def twenty_steps() -> Policy:
    u = ApproverSpec
    steps = [
        StepSpec("组长审批", u("manager_of_submitter")),
        StepSpec("撞单复核", u("role", role="legal", scope="department"), when="project.conflict_count > 0"),
        StepSpec("部门经理", u("manager_level", level=2), when="project.amount >= 50000.0"),
        StepSpec("区域财务", u("role", role="finance", scope="region"), when="project.amount >= 100000.0"),
        StepSpec("区域总监会签", u("managers_chain", until_role="director"), mode="sequential",
                 when="project.amount >= 200000.0 && project.region != 'west'"),
        StepSpec("云业务线", u("user", user_id="vp-east"), when="project.business_line == 'cloud'"),
        StepSpec("物联网业务线", u("user", user_id="vp-south"), when="project.business_line == 'iot'"),
        StepSpec("安全业务线", u("user", user_id="vp-north"), when="project.business_line == 'security'",
                 sla="8wh", on_timeout="escalate", escalate_to=u("user", user_id="ceo")),
        StepSpec("银行行业", u("department_head", department_id="r-east"), when="project.fields.industry == 'bank'"),
        StepSpec("政府行业", u("department_head", department_id="r-north"), when="project.fields.industry == 'gov'"),
        StepSpec("大客户", u("role", role="regional_vp"), mode="ratio", min_approvals=3,
                 when="project.amount >= 1000000.0"),
        StepSpec("折扣审批", u("manager_level", level=3), when="project.fields.discount > 20"),
        StepSpec("账期审批", u("role", role="finance", scope="department"), when="project.fields.payment_days > 90"),
        StepSpec("新客户", u("manager_of_submitter"), when="project.fields.new_customer == true"),
        StepSpec("华南特批", u("user", user_id="vp-south"),
                 when="project.region == 'south' && project.amount > 300000.0"),
        StepSpec("西部扶持", u("user", user_id="vp-west"), when="project.region == 'west'"),
        StepSpec("多次撞单", u("user", user_id="ceo"), when="size(project.conflicts) >= 2"),
        StepSpec("超大额", u("user", user_id="ceo"), when="project.amount >= 5000000.0", sla="2wd",
                 escalation=(domain.LadderLevel("3wd", "approve", None),)),
        StepSpec("法务复核", u("role", role="legal", scope="region"), when="has(project.fields.contract_type)"),
        StepSpec("归档抄送", u("user", user_id="ceo"), when="project.amount >= 10000000.0",
                 cc=(u("role", role="finance", scope="region"),)),
    ]
    assert len(steps) == 20
    return Policy(key="bench", form_key="bench", version=1, steps=tuple(steps),
                  options=PolicyOptions(on_no_approver="admin", approval_admin="ceo",
                                        on_submitter_is_approver="skip_to_manager"))


def submissions(n: int, reps: list[str], seed: int = 11) -> list[tuple[domain.ProjectFacts, str]]:
    rnd = random.Random(seed)
    out = []
    for i in range(n):
        fields: dict[str, object] = {
            "industry": rnd.choice(("bank", "gov", "retail", "manufacturing")),
            "discount": rnd.randrange(0, 40),
            "payment_days": rnd.choice((30, 60, 90, 120)),
            "new_customer": rnd.random() < 0.3,
        }
        if rnd.random() < 0.4:
            fields["contract_type"] = "framework"
        clashes = rnd.choice((0, 0, 0, 1, 2))
        conflicts = tuple({"project_id": f"p{j}", "reason": "same_customer"} for j in range(clashes))
        facts = domain.ProjectFacts(
            project_id=f"p-{i}", form_key="bench", name=f"项目{i}",
            amount=Decimal(rnd.choice((8000, 60000, 150000, 400000, 1500000, 6000000, 12000000))),
            region=rnd.choice(REGIONS), business_line=rnd.choice(LINES), fields=fields, conflicts=conflicts,
        )
        out.append((facts, rnd.choice(reps)))
    return out


def bench_planning(n: int) -> dict[str, float]:
    t0 = time.perf_counter()
    directory, reps = build_org()
    policy = twenty_steps()
    work = submissions(n, reps)
    setup = time.perf_counter() - t0
    for facts, submitter in work[:50]:  # warm the CEL caches
        domain.plan_steps(policy, facts, submitter, directory)
    lat: list[float] = []
    steps = 0
    started = time.perf_counter()
    for facts, submitter in work:
        t = time.perf_counter()
        steps += len(domain.plan_steps(policy, facts, submitter, directory))
        lat.append((time.perf_counter() - t) * 1e6)
    elapsed = time.perf_counter() - started
    return {"people": len(directory.users), "setup_s": setup, "plans_per_s": n / elapsed,
            "avg_steps": steps / n, "p50_us": statistics.median(lat), "p99_us": pct(lat, 0.99)}


# ---------------------------------------------------------------- decision latency over HTTP


async def bench_decisions(
    base: str, token: str, inflight: int, concurrency: int = 0
) -> tuple[list[float], list[float], float]:
    """``inflight`` projects waiting on step 1; their approvals sent ``concurrency`` at a time
    (0 = all at once)."""
    run = uuid.uuid4().hex[:6]
    h = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base, headers=h, timeout=120) as admin:
        org = {
            "departments": [{"id": f"d-{run}", "name": "销售部", "manager_id": f"boss-{run}"}],
            "users": [
                {"id": f"rep-{run}", "name": "销售", "department_id": f"d-{run}", "roles": ["sales"]},
                {"id": f"boss-{run}", "name": "经理", "department_id": f"d-{run}", "roles": ["manager"]},
                {"id": f"dir-{run}", "name": "总监", "department_id": f"d-{run}", "roles": [f"director-{run}"]},
            ],
        }
        (await admin.put("/api/v1/org", json=org)).raise_for_status()
        tokens = {
            u: (await admin.post(f"/api/v1/users/{u}-{run}/tokens")).json()["token"] for u in ("rep", "boss", "dir")
        }
        form = f"bench-{run}"
        fields = [{"key": "phone", "label": "电话", "type": "phone"}]
        (await admin.put(f"/api/v1/forms/{form}", json={"title": "报备", "fields": fields})).raise_for_status()
        policy = {"form_key": form, "steps": [
            {"name": "经理审批", "approvers": {"type": "manager_of_submitter"}, "sla": "8wh", "remind_at": 0.5,
             "on_timeout": "escalate", "escalate_to": {"type": "user", "user_id": f"dir-{run}"}},
            {"name": "总监审批", "approvers": {"type": "role", "role": f"director-{run}"}},
        ]}
        (await admin.put(f"/api/v1/approval-policies/{form}", json=policy)).raise_for_status()

    def client(user: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {tokens[user]}"}, timeout=120)

    rep, boss, director = client("rep"), client("boss"), client("dir")
    gate = asyncio.Semaphore(20)

    async def create(i: int) -> str:
        async with gate:
            tag = hashlib.sha256(f"{run}-{i}".encode()).hexdigest()  # unrelated names: no 撞单 among them
            body = {"form_key": form, "name": f"审批压测{tag[:16]}", "customer": {"name": f"压测客户{tag[16:32]}"},
                    "amount": "10000.00", "fields": {"phone": "13800138000"}, "submit": True}
            r = await rep.post("/api/v1/projects", json=body)
            r.raise_for_status()
            return str(r.json()["id"])

    pids = await asyncio.gather(*(create(i) for i in range(inflight)))
    wanted = set(pids)
    for _ in range(600):
        todos = {t["project_id"]: t["id"] for t in (await boss.get("/api/v1/me/todos")).json()["items"]}
        if wanted <= set(todos):
            break
        await asyncio.sleep(0.1)
    else:
        raise RuntimeError("step-1 to-dos did not all appear")

    http_ms: list[float] = []
    todo_ms: list[float] = []

    async def approve(pid: str) -> None:
        t = time.perf_counter()
        r = await boss.post(f"/api/v1/approval-tasks/{todos[pid]}/decision", json={"action": "approve"})
        http_ms.append((time.perf_counter() - t) * 1000)
        r.raise_for_status()
        while True:  # the next approver's to-do (already there when the decision returns)
            items = (await director.get("/api/v1/me/todos")).json()["items"]
            if any(i["project_id"] == pid for i in items):
                todo_ms.append((time.perf_counter() - t) * 1000)
                return
            await asyncio.sleep(0.02)

    limit = asyncio.Semaphore(concurrency or inflight)

    async def limited(pid: str) -> None:
        async with limit:
            await approve(pid)

    started = time.perf_counter()
    await asyncio.gather(*(limited(p) for p in pids))
    wall = time.perf_counter() - started
    for c in (rep, boss, director):
        await c.aclose()
    return http_ms, todo_ms, wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--plans", type=int, default=10000)
    parser.add_argument("--inflight", type=int, default=100)
    parser.add_argument("--skip-http", action="store_true")
    args = parser.parse_args()
    plan = bench_planning(args.plans)
    rows: list[tuple[str, str, str]] = [
        ("org size (people)", f"{plan['people']:.0f}", ""),
        ("policy steps", "20", ""),
        ("submissions planned", str(args.plans), ""),
        ("chain planning throughput", f"{plan['plans_per_s']:.0f}", "plans/s (target ≥ 2000)"),
        ("planned steps per chain (avg)", f"{plan['avg_steps']:.1f}", ""),
        ("plan latency p50 / p99", f"{plan['p50_us']:.0f} / {plan['p99_us']:.0f}", "µs"),
    ]
    if not args.skip_http:
        from cli.devstack import launch, stack_env

        with tempfile.TemporaryDirectory() as tmp:
            stack = launch(Path(tmp), stack_env())
            try:
                http_ms, todo_ms, wall = asyncio.run(bench_decisions(stack.base, stack.token, args.inflight))
                one_http, one_todo, _ = asyncio.run(bench_decisions(stack.base, stack.token, 20, concurrency=1))
            finally:
                stack.stop()
        rows += [
            ("approvals in flight", str(args.inflight), ""),
            ("decision HTTP p50 / p99", f"{statistics.median(http_ms):.0f} / {pct(http_ms, 0.99):.0f}", "ms"),
            ("HTTP → next approver's to-do p50 / p99",
             f"{statistics.median(todo_ms):.0f} / {pct(todo_ms, 0.99):.0f}", "ms"),
            ("decisions/s (all in flight)", f"{args.inflight / wall:.1f}", "/s"),
            ("one at a time: HTTP → next to-do p50 / p99",
             f"{statistics.median(one_todo):.0f} / {pct(one_todo, 0.99):.0f}", "ms"),
        ]
    width = max(len(r[0]) for r in rows)
    print(f"{'metric'.ljust(width)}  value")
    print(f"{'-' * width}  ------")
    for name, value, unit in rows:
        print(f"{name.ljust(width)}  {value} {unit}".rstrip())


if __name__ == "__main__":
    main()
