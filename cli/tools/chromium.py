"""Chromium for the browser tests: Debian's ``chromium`` (Playwright drives it; its own browser
download cannot reach the internet here). ``ensure`` installs it (and a CJK font, so screenshots
show Chinese) with apt-get when missing and we are root; ``path`` prints the executable."""

from __future__ import annotations

import os
import shutil
import sys

from cli.tools import debian

CANDIDATES = ("chromium", "chromium-browser", "google-chrome")
PACKAGES = ("chromium", "fonts-wqy-microhei")


def find() -> str | None:
    env = os.environ.get("BAOBEI_CHROMIUM")
    if env and os.path.exists(env):
        return env
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


def ensure() -> str:
    found = find()
    if found:
        return found
    debian.install(PACKAGES, why="Chromium is needed for the browser tests: install Debian's chromium "
                                 "(or set BAOBEI_CHROMIUM)")
    found = find()
    if not found:
        raise SystemExit("apt-get installed chromium but no executable was found")
    return found


def main(argv: list[str]) -> int:
    action = argv[0] if argv else "ensure"
    if action == "path":
        found = find()
        print(found or "")
        return 0 if found else 1
    print(ensure())
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
