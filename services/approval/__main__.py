"""python -m services.approval"""

from baobei.core.logging import configure_logging
from baobei.core.settings import Settings
from baobei.core.telemetry import setup_tracing
from services.approval.server import serve

if __name__ == "__main__":
    settings = Settings()
    configure_logging(fmt=settings.log_format, level=settings.log_level, component="approval")
    setup_tracing(settings, "approval")
    serve(settings)
