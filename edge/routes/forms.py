"""Form definitions: versioned on every change."""

from __future__ import annotations

import uuid
from typing import Any

from baobei.registry.v1 import registry_service_pb2 as registry_pb2
from edge import audit, mapping
from edge.deps import AdminUser, Clients, CurrentUser
from edge.routes import area_router
from edge.schemas import FormIn, FormOut, KeyVersion

router = area_router("forms")


@router.put("/forms/{form_key}", response_model=KeyVersion)
async def put_form(form_key: str, body: FormIn, admin: AdminUser, clients: Clients) -> dict[str, Any]:
    """Create or change a form; a changed definition gets a new version."""
    resp = await clients.registry.PutForm(
        registry_pb2.PutFormRequest(
            request_id=uuid.uuid4().hex,
            key=form_key,
            title=body.title,
            fields=[mapping.form_field_in(f) for f in body.fields],
            settings=mapping.form_settings_in(body.settings, body.core_fields),
            rules=[mapping.form_rule_in(r) for r in body.rules],
        )
    )
    await audit.record(clients, "form.changed", actor_id=admin.id, target_type="form", target_id=form_key,
                       details={"version": resp.version, "title": body.title, "fields": [f.key for f in body.fields],
                                "rules": len(body.rules)})
    return {"key": resp.key, "version": resp.version}


@router.get("/forms/{form_key}", response_model=FormOut, response_model_exclude_unset=True)
async def get_form(form_key: str, user: CurrentUser, clients: Clients) -> dict[str, Any]:
    """The latest definition with its version: per field its conditions (`required_when`,
    `visible_when`, CEL), `default`, and for attachments `accept` / `max_size` (each absent when
    unset), the form's `settings` and cross-field `rules`."""
    resp = await clients.registry.GetForm(registry_pb2.GetFormRequest(key=form_key))
    return mapping.form_out(resp.form)
