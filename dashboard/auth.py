"""Login, logout and the guard that keeps every page and Dash callback behind a login."""
from __future__ import annotations

from urllib.parse import urlsplit

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import (Blueprint, abort, current_app, flash, redirect, render_template, request,
                   session, url_for)
from flask_login import LoginManager, current_user, login_user, logout_user
from sqlalchemy import select

from models import User, db

bp = Blueprint("auth", __name__, template_folder="templates")
login_manager = LoginManager()
login_manager.login_view = "auth.login"
_hasher = PasswordHasher()  # Argon2id with the library's current recommended parameters

# Paths anyone may fetch: the login form itself and static files (no user data in them).
PUBLIC_PREFIXES = ("/login", "/assets/", "/_dash-component-suites/", "/_favicon.ico", "/static/",
                   "/healthz")
# Dash's JSON endpoints: answer 401 instead of redirecting to a HTML page.
API_PREFIXES = ("/_dash-update-component", "/_dash-layout", "/_dash-dependencies", "/_reload-hash")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    try:
        return _hasher.check_needs_rehash(stored_hash)
    except InvalidHashError:
        return True


def authenticate(email: str, password: str) -> User | None:
    """The user with this email and password, or None. Same work for unknown emails and wrong passwords."""
    user = db.session.scalar(select(User).where(User.email == (email or "").strip().lower()))
    if user is None:
        # Spend the same time as a real check, so timing does not reveal which emails exist.
        verify_password(_DUMMY_HASH, password or "")
        return None
    if not verify_password(user.password_hash, password or ""):
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
        db.session.commit()
    return user


_DUMMY_HASH = _hasher.hash("not a real password")


@login_manager.user_loader
def _load_user(user_id: str) -> User | None:
    try:
        return db.session.get(User, int(user_id))
    except (TypeError, ValueError):
        return None


@login_manager.unauthorized_handler
def _unauthorized():
    if request.path.startswith(API_PREFIXES):
        abort(401)
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def require_login():
    """before_request hook: everything but the public prefixes needs a logged-in user."""
    if request.path.startswith(PUBLIC_PREFIXES) or request.endpoint == "static":
        return None
    if current_user.is_authenticated:
        return None
    return _unauthorized()


def _safe_next(target: str | None) -> str:
    """Only same-site relative paths are followed after login."""
    if not target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect("/")
    error = None
    email = ""
    if request.method == "POST":
        email = request.form.get("email", "")
        user = authenticate(email, request.form.get("password", ""))
        if user is None:
            error = "Wrong email or password."
        else:
            session.clear()
            login_user(user, remember=bool(request.form.get("remember")))
            return redirect(_safe_next(request.args.get("next")))
    status = 401 if error else 200
    return render_template("login.html", error=error, email=email,
                           demo=current_app.config.get("DEMO_LOGIN_HINT") and _demo_hint()), status


def _demo_hint() -> dict | None:
    from dashboard.demo import DEMO_EMAIL, DEMO_PASSWORD
    exists = db.session.scalar(select(User.id).where(User.email == DEMO_EMAIL))
    return {"email": DEMO_EMAIL, "password": DEMO_PASSWORD} if exists else None


@bp.route("/logout", methods=["GET", "POST"])
def logout():
    logout_user()
    session.clear()
    flash("You are logged out.")
    return redirect(url_for("auth.login"))


@bp.route("/healthz")
def healthz():
    return {"status": "ok"}
