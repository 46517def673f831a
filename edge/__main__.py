"""``python -m edge``: the HTTP edge alone (services, worker and Temporal run elsewhere)."""

from __future__ import annotations

from baobei.core.logging import configure_logging
from baobei.core.settings import Settings
from baobei.core.telemetry import setup_tracing
from edge.server import serve


def main() -> None:
    settings = Settings()
    configure_logging(fmt=settings.log_format, level=settings.log_level, component="edge")
    setup_tracing(settings, "edge")
    serve(settings)


if __name__ == "__main__":
    main()
