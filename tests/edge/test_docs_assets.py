"""Issue 12 item 15: /docs (Swagger UI) and /redoc load their JavaScript, CSS and icon from the edge
itself, so they work on a private network: the pages reference no external host (no CDN, no
Google Fonts, no Swagger validator) and the assets are served."""

from __future__ import annotations

import re

from tests.edge.conftest import Stack

URLS = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']|url:\s*'([^']+)'""")


async def test_docs_pages_reference_no_external_host(stack: Stack) -> None:
    async with stack.client(token=None) as anon:
        for page in ("/docs", "/redoc"):
            r = await anon.get(page)
            assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
            html = r.text
            assert "//" not in re.sub(r"window\.location\.origin[^,]*", "", html.replace("<!DOCTYPE html>", "")), page
            refs = [a or b for a, b in URLS.findall(html)]
            assert refs, page
            for ref in refs:
                assert ref.startswith("/") and not ref.startswith("//"), (page, ref)
                if ref != "/openapi.json":
                    asset = await anon.get(ref)
                    assert asset.status_code == 200, ref
                    assert len(asset.content) > 1000, ref
            # The page's CSP allows only this origin and the page's own inline script (by hash).
            csp = r.headers["content-security-policy"]
            script_src = csp.split("script-src")[1].split(";")[0]
            assert "'unsafe-inline'" not in script_src and "http" not in csp
            assert "frame-ancestors 'none'" in csp
        swagger = (await anon.get("/docs")).text
        assert '"validatorUrl": null' in swagger  # Swagger UI would call validator.swagger.io
        assert "'sha256-" in (await anon.get("/docs")).headers["content-security-policy"]
        js = await anon.get("/docs-assets/swagger-ui-bundle.js")
        assert "javascript" in js.headers["content-type"] and "SwaggerUIBundle" in js.text[:2000]
        assert (await anon.get("/docs-assets/redoc.standalone.js")).status_code == 200
        assert (await anon.get("/docs-assets/swagger-ui.css")).headers["content-type"].startswith("text/css")
