"""Budgets of the web app: the largest file under 1 MB gzipped (checked), and how fast the first
page is interactive on ``baobei dev`` (measured in Chromium and recorded in
artifacts/web-performance.txt, never asserted: the wall clock is not a test's business)."""

from __future__ import annotations

import statistics

from cli.tools import bundle, web
from tests.browser import seed
from tests.browser.conftest import SHOTS, UI


def test_largest_bundle_is_under_one_megabyte_gzipped(ui: UI) -> None:
    items = bundle.assets(web.DIST)
    assert items, "web/dist has no assets"
    largest = items[0]
    assert largest.gzipped < bundle.BUDGET_GZIP, bundle.table(items)
    # ECharts loads only with the pages that draw charts, not with the first page.
    index = (web.DIST / "index.html").read_text()
    assert "echarts" not in index


def _interactive_ms(page: object, path: str, ready: str) -> float:
    page.goto(path)  # type: ignore[attr-defined]
    page.locator(ready).first.wait_for()  # type: ignore[attr-defined]
    return float(page.evaluate("performance.now()"))  # type: ignore[attr-defined]


def test_first_page_interactive_is_measured(ui: UI) -> None:
    rows = []
    for size in ("desktop", "phone"):
        cold = ui.page(size=size)
        signin = [_interactive_ms(cold, "/login", "#login-login:not([disabled])")]
        signin += [_interactive_ms(cold, "/login", "#login-login:not([disabled])") for _ in range(4)]
        home = ui.page(seed.REP, size=size)
        work = [_interactive_ms(home, "/", "main h1") for _ in range(5)]
        rows.append((size, signin[0], statistics.median(signin[1:]), work[0], statistics.median(work[1:])))
    report = ["size      sign-in cold ms  sign-in warm ms  工作台 cold ms  工作台 warm ms"]
    report += [f"{r[0]:9} {r[1]:15.0f} {r[2]:16.0f} {r[3]:14.0f} {r[4]:14.0f}" for r in rows]
    text = "\n".join(report) + "\n\n" + bundle.table(bundle.assets(web.DIST)) + "\n"
    SHOTS.parent.mkdir(parents=True, exist_ok=True)
    (SHOTS.parent / "web-performance.txt").write_text(text)
    print(text)
    assert all(r[1] > 0 and r[3] > 0 for r in rows)
