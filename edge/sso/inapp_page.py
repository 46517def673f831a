"""The DingTalk in-app sign-in page (``GET /auth/sso/<key>/inapp``): opened as the app's homepage
inside the DingTalk client, it asks the client's JS bridge for a 免登 code
(``dd.requestAuthCode`` / ``dd.runtime.permission.requestAuthCode``), posts it to
``/auth/sso/<key>/code`` and goes on to ``next``. Nothing is loaded from a CDN: the bridge is the
one the DingTalk client provides, or the script at the provider's ``jsapi_url`` when set. Without
a bridge (an old client, another browser) the page falls back to the OAuth page, which signs in
inside the client too.

The page's only script is inline with a per-response nonce; its data sits in ``data-``
attributes (HTML-escaped), and the Content-Security-Policy allows that script, the ``jsapi_url``
origin and fetches to this site only."""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from jinja2 import Environment, select_autoescape

_PAGE = """<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<meta name="robots" content="noindex, nofollow">
<title>正在登录 · 报备 Baobei</title>
<style>
body{font-family:-apple-system,"PingFang SC","Microsoft YaHei",sans-serif;margin:0;background:#f5f6f8;color:#222}
main{max-width:480px;margin:48px auto;background:#fff;border-radius:8px;padding:24px;text-align:center}
.en{color:#888;font-size:13px}.error{color:#c00}a{color:#1677ff}
</style>
{% if jsapi_url %}<script src="{{ jsapi_url }}"></script>{% endif %}
</head>
<body><main id="bb-sso" data-code-url="{{ code_url }}" data-start-url="{{ start_url }}" data-next="{{ next }}"
 data-corp-id="{{ corp_id }}" data-client-id="{{ client_id }}">
<p id="bb-msg">正在通过{{ name }}登录… <span class="en">Signing in with {{ name_en }}…</span></p>
<p><a href="{{ start_url }}">没有自动登录？点此重试 <span class="en">Not signed in? Retry</span></a></p>
</main>
<script nonce="{{ nonce }}">
(function () {
  var box = document.getElementById("bb-sso"), d = box.dataset;
  function fallback() { window.location.replace(d.startUrl); }
  function fail(text) { var m = document.getElementById("bb-msg"); m.className = "error"; m.textContent = text; }
  function signIn(code) {
    fetch(d.codeUrl, {method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "Accept": "application/json"},
      body: JSON.stringify({code: code, next: d.next})})
      .then(function (r) { return r.json().then(function (b) { return {ok: r.ok, body: b}; }); })
      .then(function (x) {
        if (x.ok) { window.location.replace(x.body.next || "/"); }
        else { fail((x.body.error && x.body.error.message) || "登录失败 Sign-in failed"); }
      }, function () { fail("网络错误，请重试 Network error, retry"); });
  }
  var dd = window.dd;
  if (!dd || !d.corpId) { fallback(); return; }
  var ok = function (r) { signIn(r.code || r.authCode); };
  var ask = function () {
    if (dd.requestAuthCode) {
      dd.requestAuthCode({corpId: d.corpId, clientId: d.clientId, success: ok, fail: fallback});
    } else if (dd.runtime && dd.runtime.permission) {
      dd.runtime.permission.requestAuthCode({corpId: d.corpId, onSuccess: ok, onFail: fallback});
    } else { fallback(); }
  };
  if (dd.ready) { dd.ready(ask); } else { ask(); }
  if (dd.error) { dd.error(fallback); }
})();
</script>
</body>
</html>
"""

_ENV = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
_TEMPLATE = _ENV.from_string(_PAGE)


def render(*, name: str, name_en: str, code_url: str, start_url: str, next_path: str, corp_id: str,
           client_id: str, jsapi_url: str) -> tuple[str, str]:
    """(html, Content-Security-Policy) of one page view."""
    nonce = secrets.token_urlsafe(16)
    html = _TEMPLATE.render(name=name, name_en=name_en, code_url=code_url, start_url=start_url, next=next_path,
                            corp_id=corp_id, client_id=client_id, jsapi_url=jsapi_url, nonce=nonce)
    script_src = f"'nonce-{nonce}'"
    if jsapi_url:
        parts = urlsplit(jsapi_url)
        script_src += f" {parts.scheme}://{parts.netloc}"
    csp = (f"default-src 'none'; script-src {script_src}; style-src 'unsafe-inline'; connect-src 'self'; "
           "img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
    return html, csp
