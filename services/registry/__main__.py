"""``python -m services.registry``: run the registry gRPC service with settings from the environment."""

from __future__ import annotations

from baobei.core.logging import configure_logging
from baobei.core.settings import Settings
from baobei.core.telemetry import setup_tracing
from services.registry.server import serve


def main() -> None:
    settings = Settings()
    configure_logging(fmt=settings.log_format, level=settings.log_level, component="registry")
    setup_tracing(settings, "registry")
    serve(settings)


if __name__ == "__main__":
    main()
