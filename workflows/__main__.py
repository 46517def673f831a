"""``python -m workflows [--role all|lifecycle|delivery]``: run the Temporal worker with settings
from the environment (roles: see :func:`workflows.worker.run_worker`)."""

from __future__ import annotations

import argparse
import asyncio


def main() -> None:
    from baobei.core.logging import configure_logging
    from baobei.core.settings import Settings
    from baobei.core.telemetry import setup_tracing
    from workflows.worker import ROLES, run_worker

    parser = argparse.ArgumentParser(prog="python -m workflows")
    parser.add_argument("--role", choices=ROLES, default="all")
    args = parser.parse_args()
    settings = Settings()
    configure_logging(fmt=settings.log_format, level=settings.log_level, component="worker")
    setup_tracing(settings, "worker")
    asyncio.run(run_worker(settings, role=args.role))


if __name__ == "__main__":
    main()
