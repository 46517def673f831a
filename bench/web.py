"""Web app benchmark: bundle sizes (raw and gzipped, per file) and time to interactive of the
sign-in page and the 工作台 in Debian's Chromium on a private ``baobei dev`` (embedded defaults),
cold (new browser context) and warm (cached assets), median of ``--rounds``.

    .venv/bin/python -m bench.web [--rounds 10]

Prints a table."""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from cli.devstack import launch, stack_env
from cli.tools import bundle, chromium, web
from tests.browser import seed
from tests.browser.conftest import FLAGS, SIZES


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    web.build()
    print(bundle.table(bundle.assets(web.DIST)))
    from playwright.sync_api import sync_playwright

    stack = launch(Path(tempfile.mkdtemp(prefix="bench-web-")), stack_env())
    try:
        seed.seed(stack.base, stack.token)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium.ensure(), args=FLAGS)
            print(f"\n{'page':10} {'size':8} {'cold p50 ms':>12} {'warm p50 ms':>12}  (n={args.rounds})")
            for size in ("desktop", "phone"):
                for name, path, ready, who in (("sign-in", "/login", "#login-login", None),
                                               ("工作台", "/", "main h1", seed.REP)):
                    cold, warm = [], []
                    for _ in range(args.rounds):
                        ctx = browser.new_context(viewport=SIZES[size], base_url=stack.base)
                        if who:
                            login = {"login": who.id, "password": seed.PASSWORD}
                            ctx.request.post(f"{stack.base}/auth/login", data=login)
                        page = ctx.new_page()
                        for into in (cold, warm):
                            page.goto(path)
                            page.locator(ready).first.wait_for()
                            into.append(page.evaluate("performance.now()"))
                        ctx.close()
                    print(f"{name:10} {size:8} {statistics.median(cold):12.0f} {statistics.median(warm):12.0f}")
            browser.close()
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
