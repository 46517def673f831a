"""Alembic environment of the reporting service (see baobei.core.migrations)."""

from baobei.core.migrations import run_env
from services.reporting.models import metadata

run_env(metadata)
