"""python -m services.notify"""

from baobei.core.logging import configure_logging
from baobei.core.settings import Settings
from baobei.core.telemetry import setup_tracing
from services.notify.server import serve

if __name__ == "__main__":
    settings = Settings()
    configure_logging(fmt=settings.log_format, level=settings.log_level, component="notify")
    setup_tracing(settings, "notify")
    serve(settings)
