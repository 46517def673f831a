"""The web app (web/, built by Vite into web/dist) served under ``/``.

Hashed files under ``/assets`` are immutable and cached for a year; every other GET that no route
matched gets (from the 404 handler, ``spa_fallback``) ``index.html`` (history-mode routing happens in the browser),
never cached so a new release is picked up at the next load. Paths under the API's, links' and
sign-in prefixes stay JSON 404s. The app's own Content-Security-Policy allows this origin only:
no CDN, no inline script."""

from __future__ import annotations

import mimetypes
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, Response

from baobei.core.errors import NotFound

ROOT = Path(__file__).resolve().parents[1]
RESERVED = ("api/", "a/", "auth/", "docs", "redoc", "openapi.json", "healthz", "docs-assets/")
WEB_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "font-src 'self' data:; connect-src 'self'; frame-src 'self' blob:; object-src 'none'; "
    "frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)
PAGE_HEADERS = {"Content-Security-Policy": WEB_CSP, "Cache-Control": "no-cache"}
NOT_BUILT = """<!doctype html><html lang="zh-CN"><meta charset="utf-8"><title>报备 Baobei</title>
<p>网页应用尚未构建：运行 <code>./bb web build</code>（<code>./bb dev</code> 会自动构建）。</p>
<p lang="en">The web app is not built: run <code>./bb web build</code> (<code>./bb dev</code> builds it).</p></html>"""

router = APIRouter(include_in_schema=False)


def dist_dir(request: Request) -> Path:
    configured = getattr(request.app.state.settings, "web_dist", "")
    return Path(configured) if configured else ROOT / "web" / "dist"


@router.get("/assets/{name:path}")
async def asset(name: str, request: Request) -> Response:
    base = (dist_dir(request) / "assets").resolve()
    path = (base / name).resolve()
    if not path.is_relative_to(base) or not path.is_file():
        raise NotFound("文件不存在", "no such file")
    media = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return FileResponse(path, media_type=media, headers={
        "Cache-Control": "public, max-age=31536000, immutable", "Content-Security-Policy": WEB_CSP})


def spa_fallback(request: Request) -> Response | None:
    """``index.html`` for a GET/HEAD that no route matched, outside the reserved prefixes (None:
    answer the usual JSON 404). Called by the 404 handler, so the API's 404/405 stay as they were."""
    page = request.url.path.lstrip("/")
    if request.method not in ("GET", "HEAD") or request.scope.get("endpoint") is not None:
        return None
    if page.startswith(RESERVED) or page in ("api", "a", "auth", "assets") or page.startswith("assets/"):
        return None
    index = dist_dir(request) / "index.html"
    if not index.is_file():
        return HTMLResponse(NOT_BUILT, status_code=503, headers=PAGE_HEADERS)
    return FileResponse(index, media_type="text/html; charset=utf-8", headers=PAGE_HEADERS)
