"""What a viewer may see, per request: managed departments, form versions, and the SQL that keeps
filters and searches off values the viewer may not read."""

from __future__ import annotations

from dataclasses import replace

import sqlalchemy as sa
from sqlmodel import Session, col, select

from services.registry import domain
from services.registry.domain import Project, Viewer
from services.registry.forms import FormDef, FormSettings
from services.registry.models import FormVersionRow, ProjectRow, ProjectTeamRow
from services.registry.store.forms import find_form
from services.registry.store.org import departments


def with_teams(session: Session, viewer: Viewer) -> Viewer:
    """``viewer`` with the project teams they are on (项目团队: the registry owns them)."""
    rows = session.exec(
        select(ProjectTeamRow.project_id, ProjectTeamRow.role).where(ProjectTeamRow.user_id == viewer.user_id)
    ).all()
    if not rows:
        return viewer
    return replace(
        viewer, team_project_ids=frozenset(p for p, _ in rows),
        pm_project_ids=frozenset(p for p, r in rows if r == "pm"),
        observer_project_ids=frozenset(p for p, r in rows if r == "observer"),
    )


def team_clause(user_id: str) -> sa.ColumnElement[bool]:
    """SQL: the project's team includes ``user_id``."""
    return col(ProjectRow.id).in_(select(ProjectTeamRow.project_id).where(ProjectTeamRow.user_id == user_id))


class Visibility:
    """Per-request cache of what a viewer may see (managed departments, form versions)."""

    def __init__(self, session: Session, viewer: Viewer | None) -> None:
        self.session, self.viewer = session, viewer
        self._forms: dict[tuple[str, int], FormDef | None] = {}
        self._core_hidden: list[tuple[str, int, set[str]]] | None = None
        self.managed: set[str] = set()
        if viewer is not None and not viewer.admin:
            self.managed = domain.managed_departments(viewer.user_id, departments(session=session))
            if viewer.user_id:
                self.viewer = viewer = with_teams(session, viewer)

    def can_see(self, project: Project) -> bool:
        return domain.can_see(self.viewer, project, self.managed)

    def readable_clause(self, path: str) -> sa.ColumnElement[bool] | None:
        """SQL: the viewer may read core ``path`` of the row (None when they may everywhere), so
        a filter or search on a value they may not read never matches (no guessing by query)."""
        if self.viewer is None or self.viewer.admin:
            return None
        if self._core_hidden is None:  # (form key, version, hidden core paths), read once per request
            roles = set(self.viewer.roles)
            self._core_hidden = [(row.key, row.version, FormSettings.from_json(row.settings).core_hidden(roles))
                                 for row in self.session.exec(select(FormVersionRow)).all()
                                 if (row.settings or {}).get("core_fields")]
        restricted: dict[str, list[int]] = {}
        for key, version, hidden in self._core_hidden:
            if path in hidden:
                restricted.setdefault(key, []).append(version)
        if not restricted:
            return None
        return sa.or_(
            col(ProjectRow.owner_id) == self.viewer.user_id,
            sa.not_(sa.or_(*(sa.and_(col(ProjectRow.form_key) == k, col(ProjectRow.form_version).in_(vs))
                             for k, vs in restricted.items()))),
        )

    def readable(self, clause: sa.ColumnElement[bool], path: str) -> sa.ColumnElement[bool]:
        """``clause``, matching only rows where the viewer may read core ``path``."""
        may = self.readable_clause(path)
        return clause if may is None else sa.and_(clause, may)

    def form(self, key: str, version: int) -> FormDef | None:
        if (key, version) not in self._forms:
            self._forms[(key, version)] = find_form(session=self.session, key=key, version=version)
        return self._forms[(key, version)]

    def hidden(self, project: Project) -> set[str]:
        """The paths of ``project`` this viewer may not read (the form says what is restricted)."""
        form = self.form(project.form_key, project.form_version) if self.viewer is not None else None
        return domain.hidden_paths(self.viewer, project, form)

    def shape(self, project: Project) -> Project:
        """The project as this viewer may read it: restricted fields and core values withheld,
        also from history (a cleared value stays hidden). Changes ``project`` in place."""
        return domain.redact(project, self.hidden(project))
