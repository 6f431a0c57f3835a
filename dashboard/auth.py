"""Login, registration, logout, the settings page, and the guard that keeps every page and Dash
callback behind a login.

Every form here is a plain Flask form carrying a CSRF token (dashboard/security.py checks it).
"""
from __future__ import annotations

import hashlib
import hmac
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import LoginManager, current_user, login_user, logout_user
from sqlalchemy import select, update

from dashboard.components.nav import nav_sections
from dashboard.figures.theme import use_chart_theme
from dashboard.formatting import LOCALES, use_locale
from dashboard.security import limiter
from dashboard.services import passwords
from dashboard.services import users as users_svc
from dashboard.services.passwords import hash_password, needs_rehash, verify_password
from dashboard.static_assets import asset_url
from dashboard.unit_of_work import unit_of_work
from models import User, db

bp = Blueprint("auth", __name__, template_folder="templates")
login_manager = LoginManager()
login_manager.login_view = "auth.login"

# Paths anyone may fetch: the login and registration forms and static files (no user data in them).
PUBLIC_PREFIXES = ("/login", "/register", "/logout", "/assets/", "/_dash-component-suites/",
                   "/_favicon.ico", "/static/", "/healthz")
# Dash's JSON endpoints: answer 401 instead of redirecting to a HTML page.
API_PREFIXES = ("/_dash-update-component", "/_dash-layout", "/_dash-dependencies", "/_reload-hash")

WRONG_LOGIN = "Wrong email or password."
EMAIL_UNAVAILABLE = ("We could not create an account with that email address. If you already have "
                     "one, log in instead.")
_FINGERPRINT_KEY = "_auth_fp"


def authenticate(email: str, password: str) -> User | None:
    """The user with this email and password, or None. Same work for unknown emails and wrong passwords."""
    user = db.session.scalar(select(User).where(User.email == users_svc.normalise_email(email)))
    if user is None:
        # Spend the same time as a real check, so timing does not reveal which emails exist.
        verify_password(passwords.DUMMY_HASH, password or "")
        return None
    if not verify_password(user.password_hash, password or ""):
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
        db.session.commit()
    return user




# -- sessions --------------------------------------------------------------------------------------

def _fingerprint(user: User) -> str:
    """Binds a session to the password it was opened with and to the user's session generation:
    changing the password (or deleting the user) ends every other session, including ones kept with
    "keep me logged in"; logging out bumps the generation, which ends this session on the server (a
    copied cookie stops working) and the user's other sessions with it."""
    key = str(current_app.config["SECRET_KEY"]).encode()
    message = f"{user.id}:{user.session_generation}:{user.password_hash}"
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()[:32]


def start_session(user: User, *, remember: bool = False) -> None:
    session.clear()  # nothing from before the login survives it (no session fixation)
    login_user(user, remember=False)
    # "Keep me logged in" makes the signed session cookie itself last PERMANENT_SESSION_LIFETIME;
    # there is no separate remember-me cookie that would outlive a password change.
    session.permanent = remember
    session[_FINGERPRINT_KEY] = _fingerprint(user)


@login_manager.user_loader
def _load_user(user_id: str) -> User | None:
    try:
        user = db.session.get(User, int(user_id))
    except (TypeError, ValueError):
        return None
    if user is None:
        return None  # deleted: the session stops working
    if not hmac.compare_digest(str(session.get(_FINGERPRINT_KEY, "")), _fingerprint(user)):
        return None  # the password changed since this session was opened
    return user


@login_manager.unauthorized_handler
def _unauthorized():
    if request.path.startswith(API_PREFIXES):
        abort(401)
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def apply_user_locale():
    """before_request hook: money, numbers and dates of this request in the user's locale (set on
    every request, so a worker thread never carries the previous request's locale)."""
    use_locale(getattr(current_user, "locale", None) if current_user.is_authenticated else None)
    use_chart_theme(getattr(current_user, "theme", None) if current_user.is_authenticated else None)


def reset_user_locale(_error=None):
    """teardown_request hook: back to the default, so nothing after the request (a test, a CLI
    command in the same thread) inherits the user's locale or chart theme."""
    use_locale(None)
    use_chart_theme(None)


def require_login():
    """before_request hook: everything but the public prefixes needs a logged-in user."""
    if request.path.startswith(PUBLIC_PREFIXES) or request.endpoint == "static":
        return None
    if current_user.is_authenticated:
        return None
    return _unauthorized()


def _safe_next(target: str | None) -> str:
    """Only same-site relative paths are followed after login."""
    if not target or not isinstance(target, str) or len(target) > 2000 \
            or any(ord(c) < 32 or ord(c) == 127 for c in target):   # CR/LF would split the header
        return "/"
    try:
        parts = urlsplit(target)
    except ValueError:
        return "/"
    if (parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//")
            or "\\" in target):
        return "/"
    return target


def registration_open() -> bool:
    """Open registration is an instance setting (LEDGERLENS_OPEN_REGISTRATION=0 turns it off). With it
    off, the very first account can still be made, so a new server is never locked out."""
    if current_app.config.get("REGISTRATION_OPEN", True):
        return True
    return users_svc.count_users(db.session) == 0


@bp.app_context_processor
def _template_globals():
    return {"nav_sections": nav_sections, "registration_open": registration_open, "ll_theme": _theme,
            "asset_url": asset_url}


def _theme() -> str:
    return users_svc.theme_of(current_user) if current_user.is_authenticated else "system"


# -- rate-limit keys -------------------------------------------------------------------------------

def _address_key() -> str:
    return "addr:" + (request.remote_addr or "unknown")


def _login_email() -> str:
    return users_svc.normalise_email(request.form.get("email"))[:254]


def _email_key() -> str:
    return "email:" + _login_email()


def _address_email_key() -> str:
    return f"addr-email:{request.remote_addr or 'unknown'}:{_login_email()}"


# A browser that logged in to an account before carries a signed "known device" cookie naming it; the
# slow per-account ceiling does not apply to it, so strangers failing from many addresses cannot lock
# the owner out of the devices she uses (OWASP's "device cookie" idea).
DEVICE_COOKIE = "ll_device"
_DEVICE_SALT = "ledgerlens.known-device"
_DEVICE_DAYS = 365


def _device_serializer():
    from itsdangerous import URLSafeTimedSerializer
    return URLSafeTimedSerializer(current_app.secret_key, salt=_DEVICE_SALT)


def _email_digest(email: str) -> str:
    key = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, email.encode(), hashlib.sha256).hexdigest()[:20]


def _known_emails() -> list[str]:
    raw = request.cookies.get(DEVICE_COOKIE)
    if not raw or len(raw) > 4096:
        return []
    try:
        value = _device_serializer().loads(raw, max_age=_DEVICE_DAYS * 86400)
    except Exception:   # BadSignature, expired, malformed: an unknown device
        return []
    return [v for v in value if isinstance(v, str)][:10] if isinstance(value, list) else []


def _known_device() -> bool:
    """The login form names an account this browser logged in to before."""
    return _email_digest(_login_email()) in _known_emails()


def _remember_device(response, email: str):
    digests = [d for d in _known_emails() if d != _email_digest(email)]
    value = _device_serializer().dumps([_email_digest(email), *digests][:10])
    response.set_cookie(DEVICE_COOKIE, value, max_age=_DEVICE_DAYS * 86400, httponly=True, samesite="Lax",
                        secure=request.is_secure or bool(current_app.config.get("SESSION_COOKIE_SECURE")),
                        path="/login")
    return response


def _user_key() -> str:
    return f"user:{current_user.get_id()}"


def _refused(response) -> bool:
    """A failed attempt (wrong password): only failures count toward the limit."""
    return response.status_code in (400, 401)


def _limit(name: str):
    return lambda: current_app.config[name]


# -- login and logout ------------------------------------------------------------------------------

def render_login(*, error: str | None = None, email: str = "", status: int = 200):
    demo = current_app.config.get("DEMO_LOGIN_HINT") and _demo_hint()
    return render_template("login.html", error=error, email=email, demo=demo), status


@bp.route("/login", methods=["GET", "POST"])
# Three limits on failed logins (successes never count): per address and account (fast), per address
# over all accounts (one address spraying many accounts), and a slow ceiling per account over all
# addresses that does not apply to browsers that logged in to that account before (see DEVICE_COOKIE).
@limiter.limit(_limit("LOGIN_RATE_LIMIT"), key_func=_address_email_key, methods=["POST"],
               deduct_when=_refused, scope="login-address-email")
@limiter.limit(_limit("LOGIN_ADDRESS_RATE_LIMIT"), key_func=_address_key, methods=["POST"],
               deduct_when=_refused, scope="login-address")
@limiter.limit(_limit("LOGIN_ACCOUNT_RATE_LIMIT"), key_func=_email_key, methods=["POST"],
               deduct_when=_refused, scope="login-email", exempt_when=lambda: _known_device())
def login():
    if current_user.is_authenticated:
        return redirect("/")
    if request.method == "POST":
        email = request.form.get("email", "")
        user = authenticate(email, request.form.get("password", ""))
        if user is None:
            # One message for an unknown email and a wrong password.
            return render_login(error=WRONG_LOGIN, email=email, status=401)
        start_session(user, remember=bool(request.form.get("remember")))
        return _remember_device(redirect(_safe_next(request.args.get("next"))), user.email)
    return render_login()


def _demo_hint() -> dict | None:
    from dashboard.demo_account import DEMO_EMAIL, DEMO_PASSWORD
    exists = db.session.scalar(select(User.id).where(User.email == DEMO_EMAIL))
    return {"email": DEMO_EMAIL, "password": DEMO_PASSWORD} if exists else None


def end_session(*, revoke: bool = False) -> None:
    """Forget the login in this browser; ``revoke`` also bumps the user's session generation, so that
    this session's cookie (wherever it was copied) and every other session of the user stop working."""
    if revoke and current_user.is_authenticated:
        db.session.execute(update(User).where(User.id == current_user.id)
                           .values(session_generation=User.session_generation + 1))
        db.session.commit()
    logout_user()
    session.clear()


@bp.route("/logout", methods=["GET", "POST"])
def logout():
    # POST only (with the form's CSRF token, checked by CSRFProtect): a GET, from a link on this app's
    # pages or from anywhere else, shows the button that posts.
    if request.method == "GET":
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login"))
        return render_template("logout.html")
    end_session(revoke=True)
    flash("You are logged out.")
    return redirect(url_for("auth.login"))


# -- registration ----------------------------------------------------------------------------------

@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(_limit("REGISTER_RATE_LIMIT"), key_func=_address_key, methods=["POST"],
               scope="register-address")
def register():
    if current_user.is_authenticated:
        return redirect("/")
    if not registration_open():
        return render_template("register.html", closed=True, form={}, errors={},
                               currencies=users_svc.CURRENCIES), 403
    form = {"email": "", "display_name": "", "currency": "USD"}
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        form = {key: request.form.get(key, "") for key in ("email", "display_name", "currency")}
        done = unit_of_work(users_svc.register_user, db.session, email=form["email"],
                            password=request.form.get("password", ""),
                            password_confirm=request.form.get("password_confirm", ""), currency=form["currency"],
                            display_name=form["display_name"])
        if isinstance(done.error, users_svc.EmailTaken):
            errors, status = {"form": EMAIL_UNAVAILABLE}, 400
        elif not done.ok:
            errors, status = {done.field or "form": done.message}, 400
        else:
            user = done.value
            start_session(user)
            flash(f"Welcome to Ledgerlens, {user.display_name}.")
            return redirect("/")
    return render_template("register.html", closed=False, form=form, errors=errors,
                           currencies=users_svc.CURRENCIES, password_min=users_svc.PASSWORD_MIN), status


# -- settings --------------------------------------------------------------------------------------

def _settings_page(errors: dict | None = None, section: str | None = None, status: int = 200,
                   form: dict | None = None):
    shown = {"display_name": current_user.display_name, "currency": current_user.currency,
             "theme": users_svc.theme_of(current_user), "locale": getattr(current_user, "locale", None)}
    shown.update({k: v for k, v in (form or {}).items() if v is not None})
    return render_template("settings.html", errors=errors or {}, section=section, form=shown,
                           currencies=users_svc.CURRENCIES, password_min=users_svc.PASSWORD_MIN,
                           themes=THEME_LABELS, locales=LOCALES), status


THEME_LABELS = {"system": "Same as this device", "light": "Light", "dark": "Dark"}


def _password_check_failed(response) -> bool:
    return response.status_code == 400 and request.form.get("action") in ("password", "delete")


@bp.route("/settings", methods=["GET", "POST"])
@limiter.limit(_limit("PASSWORD_CHECK_RATE_LIMIT"), key_func=_user_key, methods=["POST"],
               deduct_when=_password_check_failed, scope="settings-password")
def settings():
    if request.method == "GET":
        return _settings_page()
    action = request.form.get("action")
    user_id = current_user.id
    if action == "profile":
        done = unit_of_work(users_svc.update_profile, db.session, user_id,
                            display_name=request.form.get("display_name"), currency=request.form.get("currency"),
                            locale=request.form.get("locale"))
    elif action == "theme":
        done = unit_of_work(users_svc.set_theme, db.session, user_id, request.form.get("theme"))
    elif action == "password":
        done = unit_of_work(users_svc.change_password, db.session, user_id,
                            current=request.form.get("current_password", ""),
                            new=request.form.get("new_password", ""), confirm=request.form.get("confirm_password", ""))
    elif action == "delete":
        return _delete_account(user_id)
    else:
        abort(400)
    if not done.ok:
        form = {key: request.form.get(key) for key in ("display_name", "currency", "locale")}
        return _settings_page({done.field or "form": done.message}, section=action, status=400,
                              form=form if action == "profile" else None)
    if action == "profile":
        flash("Profile saved.")
    elif action == "theme":
        flash("Appearance saved.")
    else:
        # This session goes on; every other session of this user ends (see _fingerprint).
        session[_FINGERPRINT_KEY] = _fingerprint(done.value)
        flash("Password changed. Other devices will have to log in again.")
    return redirect(url_for("auth.settings"))


def _delete_account(user_id: int):
    user = db.session.get(User, user_id)
    errors = {}
    if users_svc.normalise_email(request.form.get("confirm_email")) != user.email:
        errors["confirm_email"] = "Type your email address exactly to confirm."
    if not verify_password(user.password_hash, request.form.get("delete_password", "")):
        errors["delete_password"] = "That is not your password."
    if errors:
        return _settings_page(errors, section="delete", status=400)
    users_svc.delete_user(db.session, user_id)
    db.session.commit()
    end_session()
    flash("Your account and all its data were deleted.")
    return redirect(url_for("auth.login"))


@bp.app_errorhandler(429)
def too_many_requests(_error):
    """Every rate limit's answer (the limits are set up in dashboard/security.py)."""
    if request.path.startswith("/login"):
        return render_login(error="Too many attempts. Wait a minute, then try again.", status=429)
    if request.accept_mimetypes.accept_html and not request.is_json:
        return render_template("message.html", title="Too many attempts",
                               message="Too many attempts. Wait a little, then try again."), 429
    return {"error": "rate_limited"}, 429


@bp.route("/healthz")
def healthz():
    return {"status": "ok"}
