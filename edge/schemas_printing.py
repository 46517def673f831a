"""Request and response models of printed documents and their branding (company name, logo)."""

from __future__ import annotations

from pydantic import ConfigDict, Field

from edge.schemas import Model


class BrandingIn(Model):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"company_name": "华东某某科技集团", "logo_base64": "iVBORw0KGgoAAAANSUhEUgAA…"},
        {"company_name": "华东某某科技集团", "remove_logo": True}]})

    company_name: str = Field(min_length=1, max_length=100, description="Printed in every document's header")
    logo_base64: str | None = Field(
        default=None, max_length=400_000,
        description="A new logo: a PNG or JPEG of at most 256 KB, base64 (a `data:image/png;base64,` prefix is "
                    "accepted); its type is read from its bytes. Absent: keep the current logo")
    remove_logo: bool = Field(default=False, description="Remove the logo (ignored when logo_base64 is given)")


class BrandingOut(Model):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"company_name": "华东某某科技集团", "has_logo": True, "logo_url": "/api/v1/branding/logo",
         "logo_type": "image/png", "logo_width": 320, "logo_height": 96, "version": 3,
         "updated_at": "2026-11-20T06:30:00Z", "updated_by": "wangwu"}]})

    company_name: str = Field(description="The name printed (报备 Baobei until an admin sets one)")
    has_logo: bool
    logo_url: str | None = Field(default=None, description="Where the logo is served (signed-in users)")
    logo_type: str | None = None
    logo_width: int | None = None
    logo_height: int | None = None
    version: int = Field(description="0 until first set")
    updated_at: str | None = None
    updated_by: str | None = None
