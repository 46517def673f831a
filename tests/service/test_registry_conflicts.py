"""One registration's collisions (``store.conflicts.conflicts``, as create, submit, edit and the
conflict check call it) against a blocking-key bucket larger than the candidate cap: the shortlist
(ids and names of the bucket, similar names picked in C, only those and the exact matches read
whole) gives what scoring every candidate row gives — exact USCC and name matches at any age, similar
names among the newest SIMILAR_CANDIDATES live rows of the key other than the project itself,
non-live rows never, oldest first by (created_at, id)."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session

from services.registry import domain
from services.registry.domain import ConflictHit, Customer, Status
from services.registry.domain.conflicts import Registration
from services.registry.models import ProjectRow, UserRow
from services.registry.names import block_key, normalise_name
from services.registry.store import conflicts as conflict_store
from services.registry.store.conflicts import SIMILAR_CANDIDATES

USCC = "91350100M000100Y43"
BASE = datetime(2026, 3, 1, tzinfo=UTC)
# Names of the blocking key 星辰: similar to 星辰科技 or not (a random tail scores far below 80).
ALIKE = ["星辰科技", "星辰科技有限公司", "杭州星辰科技发展", "星辰科技开发", "星辰科枝", "星晨科技", "星辰网络"]
STATUSES = [Status.ACTIVE, Status.ACTIVE, Status.PENDING_APPROVAL, Status.CLOSED, Status.RETURNED,
            Status.DRAFT, Status.REJECTED, Status.CANCELLED]


def _row(pid: str, name: str, status: Status, at: datetime, *, uscc: str = "", project: str = "") -> dict[str, Any]:
    norm = normalise_name(name)
    return {"id": pid, "code": f"BB-T-{pid}", "status": status.value, "name": project or f"项目{pid[-1]}",
            "customer_name": name, "customer_name_norm": norm, "customer_name_key": block_key(norm),
            "customer_uscc": uscc, "customer_contact": "", "customer_phone": "", "amount": "1.00", "region": "",
            "business_line": "", "fields": {}, "form_key": "f", "form_version": 1, "owner_id": "u",
            "department_id": "", "conflicts": [], "version": 1, "created_at": at, "updated_at": at,
            "claim_key": "", "protection_state": "", "follow_ups": 0}


def _scored_whole(rows: list[dict[str, Any]], project_id: str, customer: Customer,
                  project_name: str) -> list[ConflictHit]:
    """The rules scored over every candidate row: live rows other than the project with the same
    USCC or normalised name, and the newest SIMILAR_CANDIDATES live rows of the blocking key."""
    norm = normalise_name(customer.name)
    live = [r for r in rows if r["id"] != project_id and Status(r["status"]) not in domain.NOT_LIVE]
    exact = [r for r in live if (customer.uscc and r["customer_uscc"] == customer.uscc)
             or (norm and r["customer_name_norm"] == norm)]
    bucket = sorted((r for r in live if len(norm) >= 4 and r["customer_name_key"] == block_key(norm)),
                    key=lambda r: (r["created_at"], r["id"]))[-SIMILAR_CANDIDATES:]
    candidates = sorted({r["id"]: r for r in exact + bucket}.values(), key=lambda r: (r["created_at"], r["id"]))
    others = [Registration(id=r["id"], status=Status(r["status"]), customer_uscc=r["customer_uscc"],
                           customer_name_norm=r["customer_name_norm"], name=r["name"]) for r in candidates]
    return domain.find_conflicts(project_id, customer, others, project_name=project_name)


@pytest.fixture()
def engine(migrated_engine: Callable[[str], Engine]) -> Engine:
    return migrated_engine("registry")


def test_shortlisted_conflicts_equal_scoring_every_candidate(engine: Engine) -> None:
    rng = random.Random(23)
    rows: list[dict[str, Any]] = []
    # A bucket of the key 星辰 well past the cap, one second apart: similar and unrelated names,
    # live and not, some with the probe's USCC, the same project names now and then.
    for i in range(3 * SIMILAR_CANDIDATES):
        name = rng.choice(ALIKE) if rng.random() < 0.3 else f"星辰{rng.getrandbits(40):010x}"
        rows.append(_row(f"b{rng.getrandbits(48):012x}", name, rng.choice(STATUSES), BASE + timedelta(seconds=i),
                         uscc=USCC if rng.random() < 0.02 else "",
                         project=rng.choice(["智慧园区二期", "机房运维", ""])))
    # Other keys: the USCC under another name, and rows created at one instant (order by id).
    tied = BASE - timedelta(days=1)
    rows += [_row(f"u{i:03d}", f"海天软件{i}", Status.ACTIVE, tied, uscc=USCC) for i in range(5)]
    rows += [_row(f"h{i:03d}", "海天软件", rng.choice(STATUSES), tied + timedelta(seconds=i % 3)) for i in range(9)]
    with Session(engine) as session:
        session.add(UserRow(id="u", name="u"))
        session.execute(sa.insert(ProjectRow), rows)
        session.commit()

    by_age = sorted(rows, key=lambda r: (r["created_at"], r["id"]))
    bucket = [r for r in by_age if Status(r["status"]) not in domain.NOT_LIVE and r["customer_name_key"] == "星辰"]
    inside = bucket[-1]["id"]  # submitting it: left out, so the cap reaches one row further
    probes = [
        ("new", Customer(name="星辰科技有限公司"), "智慧园区二期"),
        ("new", Customer(name="星辰科技", uscc=USCC), "机房运维"),
        (inside, Customer(name="星辰科技"), "智慧园区二期"),
        ("new", Customer(name="杭州星辰网络"), ""),
        ("new", Customer(name="星辰"), ""),  # under four characters: exact matches only
        ("new", Customer(name="星辰无关客户名称"), ""),
        ("new", Customer(name="海天软件"), "机房运维"),
        ("new", Customer(name="某某", uscc=USCC), ""),
        ("new", Customer(name=""), ""),
    ]
    with Session(engine) as session:
        for project_id, customer, project_name in probes:
            got = conflict_store.conflicts(session, project_id, customer, project_name)
            assert got == _scored_whole(rows, project_id, customer, project_name), (project_id, customer)

        # The cap counts: an exact name match older than the newest SIMILAR_CANDIDATES live rows
        # of the key is found, a similar (not equal) name that old is not.
        old, newest = bucket[:-SIMILAR_CANDIDATES], bucket[-SIMILAR_CANDIDATES:]
        hits = {h.project_id for h in conflict_store.conflicts(session, "new", Customer(name="星辰科技"))}
        assert any(r["id"] in hits for r in old if r["customer_name_norm"] == "星辰科技")
        assert not any(r["id"] in hits for r in old if r["customer_name_norm"] in ("星辰科技发展", "星辰科技开发"))
        assert any(r["id"] in hits for r in newest if r["customer_name_norm"] in ("星辰科技发展", "星辰科技开发"))
