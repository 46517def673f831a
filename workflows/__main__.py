"""``python -m workflows``: run the Temporal worker with settings from the environment."""

from __future__ import annotations

import asyncio


def main() -> None:
    from baobei.core.logging import configure_logging
    from baobei.core.settings import Settings
    from workflows.worker import run_worker

    settings = Settings()
    configure_logging(fmt=settings.log_format, level=settings.log_level, component="worker")
    asyncio.run(run_worker(settings))


if __name__ == "__main__":
    main()
