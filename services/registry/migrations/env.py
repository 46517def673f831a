"""Alembic environment of the registry service (see baobei.core.migrations)."""

from baobei.core.migrations import run_env
from services.registry import sealing as _sealing  # noqa: F401 - tables on the metadata
from services.registry.acceptance import models as _acceptance_models  # noqa: F401 - tables on the metadata
from services.registry.accounts import models as _account_models  # noqa: F401 - tables on the metadata
from services.registry.audit import models as _audit_models  # noqa: F401 - tables on the metadata
from services.registry.changes import models as _change_models  # noqa: F401 - tables on the metadata
from services.registry.comments import models as _comment_models  # noqa: F401 - tables on the metadata
from services.registry.directory import models as _directory_models  # noqa: F401 - tables on the metadata
from services.registry.identity import models as _identity_models  # noqa: F401 - tables on the metadata
from services.registry.models import metadata

run_env(metadata)
