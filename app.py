"""Ledgerlens: the Flask server, its database, the login, and the Dash app on the same server.

``python app.py`` serves the embedded default (SQLite in ./instance) on http://127.0.0.1:8050.
"""
from __future__ import annotations

import os
import secrets
import time
from datetime import timedelta
from pathlib import Path

import click
from flask import Flask

from settings import get_settings

ROOT = Path(__file__).resolve().parent


def _secret_key(instance_path: str) -> str:
    """SECRET_KEY from the environment, else a random key kept in the instance folder."""
    key = get_settings().secret_key
    if key:
        return key
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written whole under a temporary name, then linked into place: several workers starting at
        # once all end up with the one key that got there first, never with a half-written file.
        tmp = path.with_name(f".secret_key.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_text().strip()


def create_app(config: dict | None = None) -> Flask:
    from dashboard import init_dashboard
    from dashboard.auth import apply_user_locale, login_manager, require_login, reset_user_locale
    from dashboard.auth import bp as auth_bp
    from dashboard.downloads import bp as downloads_bp
    from dashboard.security import init_security
    from dashboard.services.cache import init_cache
    from dashboard.services.hooks import install_session_hooks
    from dashboard.services.progress import init_progress
    from models import database_url, db
    from models.db import default_instance_path

    settings = get_settings()
    app = Flask(__name__, instance_path=default_instance_path(),
                template_folder=str(ROOT / "dashboard" / "templates"))
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.update(
        SQLALCHEMY_DATABASE_URI=database_url(app.instance_path),
        SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": True},
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        # Secure is added per request over HTTPS (dashboard/security.py); SESSION_COOKIE_SECURE=1 forces it.
        SESSION_COOKIE_SECURE=settings.session_cookie_secure,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=timedelta(days=settings.session_days),
        REGISTRATION_OPEN=settings.registration_open,
        DEMO_LOGIN_HINT=settings.demo_login_hint,
    )
    if config:
        app.config.update(config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _secret_key(app.instance_path)

    install_session_hooks()  # roll-up, data version, cache bookkeeping on every session (explicit)
    db.init_app(app)
    init_cache(app)  # Flask-Caching: in-process by default, Redis when REDIS_URL is set
    init_progress(app)  # how far an import has got, for every worker: Redis, or files in the instance folder
    init_security(app)  # CSRF, rate limits, cookie flags, security headers
    login_manager.init_app(app)
    app.register_blueprint(auth_bp)
    app.register_blueprint(downloads_bp)
    app.before_request(require_login)
    app.before_request(apply_user_locale)
    app.teardown_request(reset_user_locale)
    init_dashboard(app)
    _register_cli(app)
    return app


def migrate_to_head(app: Flask, say=None) -> None:
    """Bring the app's database to the newest Alembic revision.

    ``say`` (the migrate command's ``click.echo``) is told which migrations are pending before they
    run and each one as it finishes, with its time: on a large SQLite database a migration that
    rebuilds a table takes minutes, and a silent one looks hung."""
    from alembic import command
    from alembic.config import Config
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from models import db

    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    with app.app_context():
        if say is not None:
            with db.engine.connect() as connection:
                current = MigrationContext.configure(connection).get_current_heads()
            script = ScriptDirectory.from_config(cfg)
            pending = [rev.revision for rev in script.iterate_revisions("heads", current or "base")]
            if pending:
                say(f"Applying {len(pending)} migration(s): {', '.join(reversed(pending))}. A large "
                    "database can take a few minutes; let it finish (nothing is saved until all are done).")
            started = [time.perf_counter()]

            def step_done(step, **_):
                now = time.perf_counter()
                say(f"  {step.up_revision_id or 'base'}: done in {now - started[0]:.1f} s")
                started[0] = now

            cfg.attributes["on_version_apply"] = step_done
        # The engine, not a connection: migrations/env.py opens its own (SQLite: foreign keys off first).
        cfg.attributes["connection"] = db.engine
        command.upgrade(cfg, "head")


def _register_cli(app: Flask) -> None:
    @app.cli.command("migrate")
    def migrate_command():
        """Upgrade the database to the newest migration."""
        migrate_to_head(app, say=click.echo)
        click.echo("Database is at the newest migration.")

    @app.cli.command("demo")
    @click.option("--transactions", type=int, default=None,
                  help="Total number of transactions (default: about 24 months of normal activity).")
    @click.option("--seed", type=int, default=42, show_default=True)
    @click.option("--end-date", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
                  help="Last day of demo activity (default: today).")
    @click.option("--email", default=None, help="Email of the demo user.")
    @click.option("--if-empty", is_flag=True, help="Only load when the database has no users.")
    @click.option("--replace", is_flag=True, help="Delete an existing user with this email first.")
    def demo_command(transactions, seed, end_date, email, if_empty, replace):
        """Load a deterministic demo user."""
        from dashboard.demo import load_demo
        from dashboard.demo_account import DEMO_EMAIL, DEMO_PASSWORD
        from models import User, db

        with app.app_context():
            if if_empty and db.session.query(User.id).first() is not None:
                click.echo("Database already has users; demo not loaded.")
                return
            try:
                stats = load_demo(db.session, seed=seed, end=end_date.date() if end_date else None,
                                  email=email or DEMO_EMAIL, n_transactions=transactions, replace=replace,
                                  progress=click.echo)
                db.session.commit()
            except ValueError as error:
                db.session.rollback()
                raise click.ClickException(str(error)) from None
        click.echo(f"Demo loaded: {stats['transactions']:,} transactions, "
                   f"{stats['budgets']} budgets, {stats['goals']} goals "
                   f"in {stats['seconds']:.1f} s.")
        click.echo(f"Log in as {email or DEMO_EMAIL} / {DEMO_PASSWORD}")


    @app.cli.command("create-user")
    @click.option("--email", prompt=True)
    @click.option("--name", default="", help="Display name (default: the part of the email before @).")
    @click.option("--currency", default="USD", show_default=True)
    @click.password_option()
    def create_user_command(email, name, currency, password):
        """Make an account (for a server whose open registration is off)."""
        from dashboard.services.errors import ServiceError
        from dashboard.services.users import register_user
        from models import db

        with app.app_context():
            try:
                user = register_user(db.session, email=email, password=password, currency=currency,
                                     display_name=name)
                db.session.commit()
            except ServiceError as exc:
                db.session.rollback()
                raise click.ClickException(exc.message) from None
            click.echo(f"Created {user.email}.")


def main() -> None:
    from dashboard.demo_account import DEMO_EMAIL, DEMO_PASSWORD

    app = create_app()
    settings = get_settings()
    host, port = settings.host, settings.port
    print(f"Ledgerlens is running on http://{host}:{port}")
    print(f"Demo login: {DEMO_EMAIL} / {DEMO_PASSWORD}")
    app.run(host=host, port=port, debug=settings.flask_debug)


if __name__ == "__main__":
    main()
