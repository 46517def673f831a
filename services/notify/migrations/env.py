"""Alembic environment of the notify service (see baobei.core.migrations)."""

from baobei.core.migrations import run_env
from services.notify.models import metadata

run_env(metadata)
