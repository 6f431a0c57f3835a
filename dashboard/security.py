"""HTTP hardening: CSRF, the origin check on Dash's callback route, rate limits, the session cookie,
and the security headers (with a Content-Security-Policy that the Dash pages work under).

Why each piece is the way it is: docs/security.md.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, abort, current_app, has_request_context, render_template, request
from flask.sessions import SecureCookieSessionInterface
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFError, CSRFProtect

from settings import get_settings

csrf = CSRFProtect()
# Storage comes from RATELIMIT_STORAGE_URI (set in init_security): memory, or Redis when REDIS_URL is set.
limiter = Limiter(key_func=get_remote_address, strategy="moving-window")

# Dash's JSON endpoint for server callbacks. Its view is renamed "dash.dash.dispatch" by Dash exactly so
# that CSRFProtect can exempt it; it is protected by the origin check below instead.
DASH_CALLBACK_PATH = "/_dash-update-component"
DASH_DISPATCH_VIEW = "dash.dash.dispatch"

# Paths with no user data: long-lived caching is fine, and no "no-store" header is added.
_STATIC_PREFIXES = ("/assets/", "/_dash-component-suites/", "/_favicon.ico", "/static/")


class _SessionInterface(SecureCookieSessionInterface):
    """The signed cookie session, marked Secure whenever the request came in over HTTPS.

    SESSION_COOKIE_SECURE=True forces the flag (for a deployment that is HTTPS only). Behind a
    TLS-terminating proxy, LEDGERLENS_PROXIES makes ``request.is_secure`` see the original scheme."""

    def get_cookie_secure(self, app: Flask) -> bool:
        if app.config.get("SESSION_COOKIE_SECURE"):
            return True
        return bool(has_request_context() and request.is_secure)


def init_security(app: Flask) -> None:
    """Wire CSRF, the limiter, the cookie settings and the headers into the app (called by create_app)."""
    config = app.config
    settings = get_settings()
    config.setdefault("SESSION_COOKIE_HTTPONLY", True)
    config.setdefault("SESSION_COOKIE_SAMESITE", "Lax")
    config.setdefault("SESSION_COOKIE_SECURE", settings.session_cookie_secure)
    # A CSRF token lives as long as the session it is bound to (no separate one-hour expiry).
    config.setdefault("WTF_CSRF_TIME_LIMIT", None)
    # One count per process by default; with several workers or hosts, REDIS_URL makes the counts shared
    # (needs the ``redis`` package). Should Redis be unreachable, each process counts on its own meanwhile.
    config.setdefault("RATELIMIT_STORAGE_URI", settings.redis_url or "memory://")
    config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", bool(settings.redis_url))
    config.setdefault("RATELIMIT_STRATEGY", "moving-window")
    config.setdefault("RATELIMIT_HEADERS_ENABLED", False)
    # Login failures (docs/security.md): 5 a minute per address and account; 30 a minute per address over
    # all accounts; 100 an hour per account over all addresses, except from browsers that logged in to
    # that account before (so strangers cannot lock the owner out).
    config.setdefault("LOGIN_RATE_LIMIT", "5 per minute")
    config.setdefault("LOGIN_ADDRESS_RATE_LIMIT", "30 per minute")
    config.setdefault("LOGIN_ACCOUNT_RATE_LIMIT", "100 per hour")
    config.setdefault("REGISTER_RATE_LIMIT", "10 per hour")
    config.setdefault("PASSWORD_CHECK_RATE_LIMIT", "5 per minute")
    # Origins besides this request's own host that may call Dash callbacks (a proxy that rewrites the
    # Host header): "https://money.example.org,https://other.example.org".
    config.setdefault("TRUSTED_ORIGINS", list(settings.trusted_origins))

    # Request size limits (docs/security.md, "Limits"): 1 MiB for every request (forms, logins, pages);
    # Dash's callback route gets room for one upload (the import page sends the file, base64-encoded,
    # to its callbacks) and no more. Larger bodies get 413 before anything reads them.
    if config.get("MAX_CONTENT_LENGTH") is None:   # Flask's default is None: no limit
        config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    config.setdefault("DASH_MAX_CONTENT_LENGTH", dash_request_limit())

    if settings.proxies:
        # Behind N reverse proxies: trust their X-Forwarded-For/-Proto/-Host (client address for the
        # rate limits, https for the Secure cookie flag). Never set it when clients reach the app directly.
        from werkzeug.middleware.proxy_fix import ProxyFix
        n = settings.proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)

    app.session_interface = _SessionInterface()
    csrf.init_app(app)
    csrf.exempt(DASH_DISPATCH_VIEW)
    limiter.init_app(app)
    # First of all hooks, so nothing reads a body before its limit is set.
    app.before_request_funcs.setdefault(None, []).insert(0, _limit_request_size)
    app.before_request(_check_dash_callback_origin)
    app.after_request(_security_headers)
    app.register_error_handler(CSRFError, _csrf_error)


# -- Dash's callback route --------------------------------------------------------------------------

def dash_request_limit() -> int:
    """The largest callback request: one upload of MAX_UPLOAD_BYTES as a base64 data URL, plus 1 MiB."""
    from dashboard.services.importer import MAX_UPLOAD_BYTES
    return MAX_UPLOAD_BYTES * 4 // 3 + 1024 * 1024


def _limit_request_size():
    if request.path.endswith(DASH_CALLBACK_PATH):
        request.max_content_length = current_app.config["DASH_MAX_CONTENT_LENGTH"]
    return None


def _same_origin(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return False
    return parts.netloc == request.host or f"{parts.scheme}://{parts.netloc}" in current_app.config["TRUSTED_ORIGINS"]


def _check_dash_callback_origin():
    """CSRF defence for POST /_dash-update-component, which carries no form token.

    1. It only takes JSON: a cross-site page cannot send ``application/json`` without a CORS preflight,
       which this app never answers.
    2. A browser's Origin (or, failing that, Referer) must name this host. Requests without either
       come from scripts, not from a victim's browser, and still need the login cookie.
    3. The session cookie is SameSite=Lax, so a cross-site POST does not carry it anyway.
    """
    if request.method != "POST" or not request.path.endswith(DASH_CALLBACK_PATH):
        return None
    if not request.is_json:
        abort(415)
    origin = request.headers.get("Origin")
    if origin is not None:
        if not _same_origin(origin):
            abort(403)
        return None
    referer = request.headers.get("Referer")
    if referer is not None and not _same_origin(referer):
        abort(403)
    return None


# -- headers ----------------------------------------------------------------------------------------

def content_security_policy() -> str:
    """The policy: everything from this server only; scripts only our files plus Dash's own inline
    scripts, pinned by their hashes; styles may be inline (AG Grid and Plotly inject <style> elements)."""
    script_src = ["'self'"]
    dash_app = current_app.extensions.get("ledgerlens_dash")
    if dash_app is not None:
        # The renderer bootstrap and the clientside callbacks are inline <script>s; Dash hashes them.
        script_src += dash_app.csp_hashes()
    directives = {
        "default-src": ["'self'"],
        "script-src": script_src,
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],  # Bootstrap's CSS draws its icons as data: SVG
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())


def _security_headers(response):
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=(), usb=()")
    headers.setdefault("Content-Security-Policy", content_security_policy())
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    if not request.path.startswith(_STATIC_PREFIXES):
        # Pages and callback answers hold someone's finances: never keep them in a shared cache.
        headers["Cache-Control"] = "no-store"
    return response


# -- error pages ------------------------------------------------------------------------------------

def _csrf_error(error: CSRFError):
    if request.accept_mimetypes.accept_html and not request.is_json:
        return render_template("message.html", title="Form expired",
                               message="This form was open too long or came from another site. "
                                       "Go back, reload the page and try again."), 400
    return {"error": "csrf", "message": error.description}, 400
