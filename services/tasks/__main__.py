"""python -m services.tasks"""

from baobei.core.logging import configure_logging
from baobei.core.settings import Settings
from baobei.core.telemetry import setup_tracing
from services.tasks.server import serve

if __name__ == "__main__":
    settings = Settings()
    configure_logging(fmt=settings.log_format, level=settings.log_level, component="tasks")
    setup_tracing(settings, "tasks")
    serve(settings)
