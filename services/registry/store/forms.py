"""Form definitions, versioned: a PUT that changes the definition stores a new version."""

from __future__ import annotations

import threading
from collections import OrderedDict

import sqlalchemy as sa
import structlog
from sqlmodel import Session

from baobei.core.errors import NotFound, ValidationFailed
from services.registry import forms
from services.registry.forms import FormDef, FormField, FormRule, FormSettings
from services.registry.models import FormVersionRow, ProjectRow
from services.registry.store.rows import form_of
from services.registry.store.rows import now as _now

log = structlog.get_logger(__name__)


# A stored version never changes (a changed definition is a new version, none is deleted), so a
# version read once is kept per database: every project read, submit and redaction asks for its
# form version, and reading and parsing it was ~7% of the registry's CPU per project.
_VERSIONS: OrderedDict[tuple[str, str, int], FormDef] = OrderedDict()
_VERSIONS_MAX = 512
_versions_lock = threading.Lock()


def find_form(*, session: Session, key: str, version: int = 0) -> FormDef | None:
    """The form version (0: the latest), None when there is none."""
    if not key:
        return None
    if version:
        cache_key = (str(session.get_bind().engine.url), key, version)
        with _versions_lock:
            cached = _VERSIONS.get(cache_key)
            if cached is not None:
                _VERSIONS.move_to_end(cache_key)
                return cached
        row = session.get(FormVersionRow, (key, version))
        if row is None:
            return None
        form = form_of(row)
        # Only PutForm adds versions, and it reads the latest (never kept): what is kept here was
        # read as stored. A row still pending in this session is left out all the same.
        if row not in session.new:
            with _versions_lock:
                _VERSIONS[cache_key] = form
                while len(_VERSIONS) > _VERSIONS_MAX:
                    _VERSIONS.popitem(last=False)
        return form
    # The latest version's number, then that version (kept as above): only PutForm adds versions
    # and it reads the latest before adding one, so what is read here was committed.
    latest = session.connection().execute(_LATEST_VERSION, {"key": key}).scalar()
    return find_form(session=session, key=key, version=int(latest)) if latest is not None else None


_FORM: sa.Table = FormVersionRow.__table__  # type: ignore[attr-defined]
_LATEST_VERSION = sa.select(sa.func.max(_FORM.c.version)).where(_FORM.c.key == sa.bindparam("key"))


def get_form(*, session: Session, key: str, version: int = 0) -> FormDef:
    form = find_form(session=session, key=key, version=version)
    if form is None:
        if version:
            raise NotFound(f"表单 {key} 版本 {version} 不存在", f"form {key} version {version} not found",
                           "form_not_found")
        raise NotFound(f"表单 {key} 不存在", f"form {key} not found", "form_not_found")
    return form


def settings_of(session: Session, row: ProjectRow) -> FormSettings:
    """The settings of the form version a project was filed with."""
    form = find_form(session=session, key=row.form_key, version=row.form_version)
    return form.settings if form else FormSettings()


def put_form(
    *, session: Session, key: str, title: str, fields: list[FormField], settings: FormSettings | None = None,
    rules: list[FormRule] | None = None,
) -> tuple[FormDef, bool]:
    """Store a new version when the definition differs from the latest; (form, created)."""
    settings = settings or FormSettings()
    violations = forms.validate_form(key, title, fields, settings, rules or [])
    if violations:
        raise ValidationFailed(violations)
    new = FormDef(key=key, title=title.strip(), fields=tuple(fields), settings=settings, rules=tuple(rules or []))
    if session.get_bind().dialect.name == "postgresql":
        # Serialise concurrent PUTs of one form (SQLite already holds the database write lock).
        session.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": f"registry.form:{key}"})
    latest = find_form(session=session, key=key)
    if latest is not None and latest.definition() == new.definition():
        return latest, False
    version = (latest.version if latest else 0) + 1
    row = FormVersionRow(
        key=key, version=version, title=new.title, fields=[f.as_json() for f in fields], created_at=_now(),
        settings=settings.as_json(), rules=[r.as_json() for r in new.rules],
    )
    session.add(row)
    session.flush()
    log.info("form.versioned", form_key=key, version=version)
    return form_of(row), True
