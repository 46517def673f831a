"""Printed documents: the building blocks (branded header, key/value and record tables, footer with
page x / y and printed at/by) and the 审批单 laid out with them; text read back with ``pdf_texts``
(STSong-Light, no embedding)."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta

from PIL import Image

from baobei.printing import approval_form as af
from baobei.printing import blocks

AT = datetime(2026, 11, 25, 1, 30, tzinfo=UTC)  # 09:30 in Shanghai
PRINTED = blocks.Printed(at=AT, by="管理员甲")


def png(width: int = 120, height: int = 40) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(buf, "PNG")
    return buf.getvalue()


def pdf_texts(pdf: bytes) -> list[str]:
    """The strings shown (Tj) in an uncompressed PDF, decoded from the CID font's UCS-2 (UTF-16BE):
    as the Gantt tests' helper, with a possessive string pattern (a long escaped string that is no
    Tj operand, e.g. the document title, made the backtracking one take minutes) and image streams
    cut out first."""
    pdf = re.sub(rb"/Subtype /Image.*?endstream", b"", pdf, flags=re.S)
    escapes = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}

    def unescape(m: re.Match[bytes]) -> bytes:
        e = m.group(1)
        return bytes([int(e, 8)]) if e[:1].isdigit() else escapes.get(e, e)

    out = []
    for m in re.finditer(rb"\(((?:\\[0-7]{1,3}|\\.|[^\\)])*+)\) Tj", pdf, re.S):
        raw = re.sub(rb"\\([0-7]{1,3}|.)", unescape, m.group(1), flags=re.S)
        out.append(raw.decode("utf-16-be"))
    return out


def pages(pdf: bytes) -> list[list[str]]:
    """The shown strings page by page (each page's footer is drawn last, ending with 第 x / y 页)."""
    out: list[list[str]] = [[]]
    for t in pdf_texts(pdf):
        out[-1].append(t)
        if re.fullmatch(r"第 \d+ / \d+ 页", t):
            out.append([])
    return [p for p in out if p]


def sheet(decisions: int = 3, **kw: object) -> af.ApprovalSheet:
    record = [
        af.Entry(step=f"环节{i}", actor="审批人乙", action="approve" if i % 2 else "comment", comment=f"意见{i}",
                 at=AT + timedelta(minutes=i))
        for i in range(decisions)
    ]
    base: dict[str, object] = dict(
        code="BB-2026-0001", name="智慧园区一期",
        facts=[("项目编号", "BB-2026-0001"), ("金额", af.money("1234")), ("客户", "某某科技有限公司")],
        fields=[("招标方式", "公开招标"), ("优先级", "高")],
        record=record, cc=["抄送人丙"], result="approved",
    )
    base.update(kw)
    return af.ApprovalSheet(**base)  # type: ignore[arg-type]


def test_values_are_worded_as_people_read_them() -> None:
    assert af.money("1234") == "¥1,234.00" and af.money("1234567.891") == "¥1,234,567.89"
    assert af.money(0) == "¥0.00" and af.money("abc") == "abc"
    assert af.field_text("money", "99.5") == "¥99.50"
    assert af.field_text("date", "2026-11-25") == "2026-11-25"
    assert af.field_text("date", "2026-11-25T01:30:00Z") == "2026-11-25 09:30"
    assert af.field_text("multiselect", ["甲", "乙"]) == "甲、乙"
    assert af.field_text("text", True) == "是" and af.field_text("text", False) == "否"
    assert af.field_text("number", 3.0) == "3" and af.field_text("text", None) == ""
    assert af.field_text("user", "u1", user={"u1": "张三"}.get) == "张三"
    assert af.field_text("department", "d1", department=lambda d: "销售部") == "销售部"
    assert af.field_text("attachment", {"name": "方案.pdf", "url": "/x"}) == "方案.pdf"
    assert af.action_text(af.Entry("s", "a", "transfer", target="李四")) == "转交 → 李四"
    assert af.action_text(af.Entry("s", "a", "approve", auto=True)) == "同意（自动）"
    assert [af.ACTION_LABELS[a] for a in ("approve", "reject", "return", "add_approver", "comment")] == [
        "同意", "驳回", "退回", "加签", "评论"]
    assert blocks.local_time(AT) == "2026-11-25 09:30"


def test_the_form_shows_header_facts_fields_record_cc_result_and_footer() -> None:
    pdf = af.render(sheet(), branding=blocks.Branding("华东某某集团", png()), printed=PRINTED, compress=False)
    assert pdf.startswith(b"%PDF-") and b"/BaseFont /STSong-Light" in pdf
    assert b"/Subtype /Image" in pdf  # the logo
    shown = pdf_texts(pdf)
    for t in ("华东某某集团", "项目报备审批单", "项目信息", "¥1,234.00", "某某科技有限公司", "表单内容", "招标方式",
              "公开招标", "审批记录", "环节", "审批人", "操作", "意见", "时间", "同意", "评论", "意见1",
              "2026-11-25 09:31", "抄送", "抄送人丙", "审批结果", "审批通过", "第 1 / 1 页"):
        assert t in shown, t
    assert "打印时间：2026-11-25 09:30:00　打印人：管理员甲" in shown
    # deterministic: the same input prints the same bytes
    again = af.render(sheet(), branding=blocks.Branding("华东某某集团", png()), printed=PRINTED, compress=False)
    assert again == pdf


def test_default_branding_and_a_broken_logo_still_print() -> None:
    pdf = af.render(sheet(), branding=blocks.Branding(logo=b"\x89PNG not really"), printed=PRINTED, compress=False)
    assert blocks.DEFAULT_COMPANY in pdf_texts(pdf) and b"/Subtype /Image" not in pdf


def test_many_decisions_flow_onto_more_pages_with_the_header_repeated() -> None:
    one = pages(af.render(sheet(3), branding=blocks.Branding(), printed=PRINTED, compress=False))
    many = pages(af.render(sheet(60), branding=blocks.Branding(), printed=PRINTED, compress=False))
    assert len(one) == 1 and len(many) >= 2
    n = len(many)
    for i, page in enumerate(many, start=1):
        assert page[-1] == f"第 {i} / {n} 页"
        assert "打印人：管理员甲" in page[-2]
        if i > 1 and any(t.startswith("环节5") for t in page):  # record rows on this page → header above them
            assert page.index("环节") < page.index("审批人") < page.index("操作")
    record_pages = [p for p in many if any(re.fullmatch(r"环节\d+", t) for t in p)]
    assert len(record_pages) >= 2 and all(p.count("环节") == 1 for p in record_pages)
    everything = [t for p in many for t in p]
    assert all(f"意见{i}" in everything for i in range(60))  # no row lost at a page break


def test_long_comments_wrap_and_continue_below() -> None:
    long = "这是一段很长的审批意见，" * 200  # 2,400 characters: more than a cell holds
    s = sheet(1, record=[af.Entry("环节0", "审批人乙", "reject", long, AT)])
    shown = pages(af.render(s, branding=blocks.Branding(), printed=PRINTED, compress=False))
    alphabet = set(long)
    lines = [t for p in shown for t in p if set(t) <= alphabet and t != "意见"]  # not the header
    assert "".join(lines) == long  # every character printed, in order
    assert len(lines) > 50 and max(len(t) for t in lines) < 40  # wrapped in the comment column
    assert blocks.pieces("a" * 650) == ["a" * 300, "a" * 300, "a" * 50]
    assert blocks.pieces("x" * 200 + "\n" + "y" * 200) == ["x" * 200, "y" * 200]
    assert blocks.pieces("甲" * 200 + "，" + "乙" * 200) == ["甲" * 200 + "，", "乙" * 200]


def test_no_record_and_no_fields() -> None:
    s = sheet(0, fields=[], cc=[], result="pending")
    shown = pdf_texts(af.render(s, branding=blocks.Branding(), printed=PRINTED, compress=False))
    assert "暂无审批记录" in shown and "表单内容" not in shown and "无" in shown and "审批中" in shown
