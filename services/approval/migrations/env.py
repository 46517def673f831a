"""Alembic environment of the approval service (see baobei.core.migrations)."""

from baobei.core.migrations import run_env
from services.approval.models import metadata

run_env(metadata)
