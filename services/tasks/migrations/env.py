"""Alembic environment of the tasks service (see baobei.core.migrations)."""

from baobei.core.migrations import run_env
from services.tasks.models import metadata

run_env(metadata)
