"""Pure registry rules: USCC check characters, name normalisation, org validation, manager
chains, project validation, transitions, collisions and visibility."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from baobei.core.errors import Conflict
from services.registry import domain, uscc
from services.registry.domain import (
    ConflictHit,
    Customer,
    Department,
    Project,
    ProjectInput,
    Registration,
    Status,
    User,
    Viewer,
)
from services.registry.forms import FormDef, FormField
from services.registry.names import normalise_name

# ---------- USCC ----------

# Real, published codes (Huawei, Tencent, Alibaba, Xiaomi) and the brief's example.
VALID_USCC = ["91350100M000100Y43", "914403001922038216", "91440300708461136T", "91330100799655058B",
              "91110108551385082Q"]


@pytest.mark.parametrize("code", VALID_USCC)
def test_uscc_valid_codes(code: str) -> None:
    assert uscc.is_valid(code)
    assert uscc.check_char(code[:17]) == code[17]


def test_uscc_is_trimmed_and_case_insensitive() -> None:
    assert uscc.is_valid(" 91350100m000100y43 ")


@pytest.mark.parametrize(
    "code",
    [
        "91350100M000100Y44",  # wrong check character
        "91350100M000100Y4",  # 17 characters
        "91350100M000100Y433",  # 19 characters
        "91350100M000100I43",  # I is not in the alphabet
        "91350100M000100O43",  # neither is O
        "9135010AM000100Y43",  # division code must be digits
        "",
        "91350100M00010 Y43",
    ],
)
def test_uscc_invalid_codes(code: str) -> None:
    assert not uscc.is_valid(code)


def test_uscc_check_char_weights_by_hand() -> None:
    # 17 zeros weigh nothing: sum 0 → check "0"; a single 1 in the first place weighs 1 → 31-1 = 30 → "Y".
    assert uscc.check_char("0" * 17) == "0"
    assert uscc.check_char("1" + "0" * 16) == "Y"
    # 1 in the second place has weight 3 → 31-3 = 28 → alphabet[28] = "W".
    assert uscc.check_char("01" + "0" * 15) == "W"
    with pytest.raises(ValueError):
        uscc.check_char("I" * 17)


def test_uscc_computed_codes_roundtrip() -> None:
    for body in ("91110000MA01ABCD1", "12100000400000001", "5134010055555555X"):
        code = body + uscc.check_char(body)
        assert uscc.is_valid(code)
        wrong = next(c for c in uscc.ALPHABET if c != code[17])
        assert not uscc.is_valid(code[:17] + wrong)


# ---------- names ----------


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("阿里巴巴（中国）网络技术有限公司", "阿里巴巴(中国)网络技术"),
        ("ＡＢＣ 科技股份有限公司", "abc科技"),
        ("华为集团有限公司", "华为"),
        ("星辰科技有限责任公司", "星辰 科技 公司"),
        ("Foo-Bar, Inc.", "foobar inc"),
    ],
)
def test_names_that_agree(a: str, b: str) -> None:
    assert normalise_name(a) == normalise_name(b)


def test_names_that_differ_and_bare_suffix_kept() -> None:
    assert normalise_name("星辰科技有限公司") != normalise_name("星河科技有限公司")
    assert normalise_name("公司") == "公司"
    assert normalise_name("  ") == ""


# ---------- org ----------


def test_validate_org_paths() -> None:
    existing = {"root": Department("root", "总部")}
    deps = [Department("sales", "销售部", parent_id="root"), Department("", "无名"), Department("x", parent_id="nope")]
    users = [User("u1", department_id="sales"), User("u2", department_id="ghost"), User("", department_id="root"),
             User("u4", mobile="123")]
    paths = {v.field for v in domain.validate_org(deps, users, existing)}
    assert paths == {"departments[1].id", "departments[2].parent_id", "users[1].department_id", "users[2].id",
                     "users[3].mobile"}


def test_validate_org_cycles_including_existing_departments() -> None:
    existing = {"a": Department("a", parent_id=""), "b": Department("b", parent_id="a")}
    # Re-parenting a under b closes a cycle a → b → a.
    violations = domain.validate_org([Department("a", parent_id="b")], [], existing)
    assert [v.field for v in violations] == ["departments[0].parent_id"]
    assert domain.validate_org([Department("s", parent_id="s")], [], {})[0].field == "departments[0].parent_id"
    assert domain.validate_org([Department("c", parent_id="b")], [], existing) == []


def test_validate_org_duplicates() -> None:
    paths = [v.field for v in domain.validate_org([Department("d"), Department("d")], [User("u"), User("u")], {})]
    assert paths == ["departments[1].id", "users[1].id"]


DEPTS = {
    "hq": Department("hq", manager_id="ceo"),
    "east": Department("east", parent_id="hq", manager_id=""),
    "sh": Department("sh", parent_id="east", manager_id="mgr_sh"),
    "team": Department("team", parent_id="sh", manager_id="lead"),
}


def test_manager_chain_nearest_first_skipping_empty() -> None:
    user = User("u", department_id="team")
    assert domain.manager_chain(user, DEPTS) == [("team", "lead"), ("sh", "mgr_sh"), ("hq", "ceo")]
    assert domain.manager_chain(User("x"), DEPTS) == []


def test_managed_departments_includes_descendants() -> None:
    assert domain.managed_departments("mgr_sh", DEPTS) == {"sh", "team"}
    assert domain.managed_departments("ceo", DEPTS) == set(DEPTS)
    assert domain.managed_departments("nobody", DEPTS) == set()


# ---------- projects ----------

FORM = FormDef(
    key="standard", title="标准", version=1,
    fields=(
        FormField("industry", "行业", "select", required=True, options=("制造", "金融")),
        FormField("budget", "预算", "money", min="0"),
        FormField("secret", "底价", "money", read_roles=("finance",), write_roles=("finance",)),
    ),
)


def _input(**kw: object) -> ProjectInput:
    base: dict[str, object] = dict(
        owner_id="u1", form_key="standard", name="项目", customer=Customer(name="客户"), amount="100",
        fields={"industry": "制造"},
    )
    base.update(kw)
    return ProjectInput(**base)  # type: ignore[arg-type]


def _validate(inp: ProjectInput, form: FormDef | None = FORM) -> tuple[object, list[str]]:
    valid, violations = domain.validate_project(inp, form, user_exists=lambda _: True, department_exists=lambda _: True)
    return valid, [v.field for v in violations]


def test_valid_project_is_normalised() -> None:
    valid, paths = _validate(_input(amount="1200.5", customer=Customer(name=" 客户 ", uscc="91350100m000100y43"),
                                    start_date="2026-01-01", end_date="2026-03-31"))
    assert paths == []
    assert valid is not None
    assert valid.amount == Decimal("1200.50") and str(valid.amount) == "1200.50"  # type: ignore[attr-defined]
    assert valid.customer == Customer(name="客户", uscc="91350100M000100Y43")  # type: ignore[attr-defined]
    assert valid.start_date == date(2026, 1, 1)  # type: ignore[attr-defined]


def test_all_violations_at_once() -> None:
    inp = _input(
        name=" ", customer=Customer(name="", uscc="91350100M000100Y44", phone="12345"), amount="-1",
        start_date="2026-05-01", end_date="2026-04-01", fields={"industry": "农业", "budget": "1.234", "zzz": 1},
    )
    valid, paths = _validate(inp)
    assert valid is None
    assert sorted(paths) == sorted(["name", "customer.name", "customer.uscc", "customer.phone", "amount", "end_date",
                                    "fields.industry", "fields.budget", "fields.zzz"])


@pytest.mark.parametrize(
    ("amount", "ok"),
    [("0", True), ("0.00", True), ("12.30", True), ("1.230", True), ("1.234", False), ("-0.01", False),
     ("abc", False), ("", False), ("NaN", False), ("Infinity", False), ("1e3", True), ("99999999999999999", False)],
)
def test_amount_rules(amount: str, ok: bool) -> None:
    _, paths = _validate(_input(amount=amount))
    assert (paths == []) is ok
    if not ok:
        assert paths == ["amount"]


def test_unknown_form_reported_on_form_key() -> None:
    _, paths = _validate(_input(form_key="nope"), form=None)
    assert paths == ["form_key"]
    _, paths = _validate(_input(form_key=""), form=None)
    assert paths == ["form_key"]


def test_bad_dates() -> None:
    _, paths = _validate(_input(start_date="2026-02-30", end_date="tomorrow"))
    assert paths == ["start_date", "end_date"]


def test_transitions() -> None:
    domain.check_submit(Status.DRAFT)
    domain.check_submit(Status.RETURNED)
    with pytest.raises(Conflict) as err:
        domain.check_submit(Status.ACTIVE)
    assert err.value.code == "illegal_transition"
    assert domain.check_status_change(Status.PENDING_APPROVAL, Status.ACTIVE)
    assert domain.check_status_change(Status.RETURNED, Status.CANCELLED)
    assert domain.check_status_change(Status.DRAFT, Status.CANCELLED)
    assert domain.check_status_change(Status.ACTIVE, Status.CLOSED)
    assert domain.check_status_change(Status.ACTIVE, Status.ACTIVE) is False
    for current, target in [(Status.DRAFT, Status.ACTIVE), (Status.CLOSED, Status.ACTIVE),
                            (Status.REJECTED, Status.PENDING_APPROVAL), (Status.DRAFT, Status.PENDING_APPROVAL),
                            (Status.ACTIVE, Status.CANCELLED)]:
        with pytest.raises(Conflict):
            domain.check_status_change(current, target)


def test_find_conflicts_by_uscc_and_name_only_live() -> None:
    code = "91350100M000100Y43"
    others = [
        Registration("p1", Status.PENDING_APPROVAL, code, "x"),
        Registration("p2", Status.ACTIVE, "", normalise_name("星辰科技有限公司")),
        Registration("p3", Status.DRAFT, code, normalise_name("星辰科技")),
        Registration("p4", Status.REJECTED, code, ""),
        Registration("p5", Status.CLOSED, code, normalise_name("星辰科技")),
        Registration("me", Status.ACTIVE, code, ""),
    ]
    hits = domain.find_conflicts("me", Customer(name="星辰科技（集团）", uscc=code), others)
    assert hits == [
        ConflictHit("p1", "客户统一社会信用代码相同", 100.0),
        ConflictHit("p2", "客户名称相同", 100.0),
        ConflictHit("p5", "客户统一社会信用代码相同；客户名称相同", 100.0),
    ]


def test_conflict_score_adds_similar_project_names() -> None:
    """The score ranks hits for the bounded lists workflows carry: customer similarity, plus the
    project names' similarity when it counts (a likely double registration ranks first)."""
    norm = normalise_name("星辰科技")
    others = [
        Registration("same_customer", Status.ACTIVE, "", norm, name="数据中心"),
        Registration("same_project", Status.ACTIVE, "", norm, name="智慧园区二期"),
        Registration("similar_customer", Status.ACTIVE, "", normalise_name("星辰科技开发"), name="数据中心"),
    ]
    hits = domain.find_conflicts("me", Customer(name="星辰科技"), others, project_name="智慧园区二期")
    scores = {h.project_id: h.score for h in hits}
    assert scores["same_project"] == 200.0
    assert scores["same_customer"] == 100.0
    assert 80.0 <= scores["similar_customer"] < 100.0


def _project(**kw: object) -> Project:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    base: dict[str, object] = dict(
        id="p", code="BB-2026-000001", status=Status.DRAFT, name="n", customer=Customer("c"), amount=Decimal("1"),
        region="", business_line="", start_date=None, end_date=None, fields={"industry": "制造", "secret": "9.00"},
        form_key="standard", form_version=1, owner_id="owner", department_id="team", conflicts=[], history=[],
        version=1, created_at=now, updated_at=now,
    )
    base.update(kw)
    return Project(**base)  # type: ignore[arg-type]


def test_visibility() -> None:
    p = _project()
    managed_by_sh = domain.managed_departments("mgr_sh", DEPTS)
    assert domain.can_see(None, p, set())
    assert domain.can_see(Viewer("anyone", is_admin=True), p, set())
    assert domain.can_see(Viewer("anyone", roles=frozenset({"admin"})), p, set())
    assert domain.can_see(Viewer("owner"), p, set())
    assert domain.can_see(Viewer("appr", approver_project_ids=frozenset({"p"})), p, set())
    assert domain.can_see(Viewer("mgr_sh"), p, managed_by_sh)
    assert not domain.can_see(Viewer("stranger"), p, set())
    assert not domain.can_see(Viewer(""), _project(owner_id=""), set())
    assert domain.can_see(Viewer("worker", assignee_project_ids=frozenset({"p"})), p, set())
    assert not domain.can_see(Viewer("worker", assignee_project_ids=frozenset({"other"})), p, set())


def test_relations_say_why_a_viewer_sees_a_project() -> None:
    p = _project()
    assert domain.relations(None, p, set()) == []
    assert domain.relations(Viewer("stranger"), p, set()) == []
    assert domain.relations(Viewer("owner"), p, set()) == ["owner"]
    assert domain.relations(Viewer("x", is_admin=True), p, set()) == ["admin"]
    assert domain.relations(Viewer("mgr_sh"), p, domain.managed_departments("mgr_sh", DEPTS)) == ["manager"]
    both = Viewer("w", approver_project_ids=frozenset({"p"}), assignee_project_ids=frozenset({"p"}))
    assert domain.relations(both, p, set()) == ["approver", "assignee"]


def test_read_roles_filter() -> None:
    p = _project()
    assert domain.visible_fields(Viewer("x"), p, FORM) == {"industry": "制造"}
    assert domain.visible_fields(Viewer("x", roles=frozenset({"finance"})), p, FORM) == p.fields
    assert domain.visible_fields(Viewer("owner"), p, FORM) == p.fields
    assert domain.visible_fields(Viewer("x", is_admin=True), p, FORM) == p.fields
    assert domain.visible_fields(None, p, FORM) == p.fields
