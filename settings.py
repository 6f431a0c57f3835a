"""Every setting Ledgerlens takes from the environment, read here and nowhere else.

:func:`get_settings` reads the environment when called (so a test or a script that sets a variable
first sees it) and returns a frozen :class:`Settings`. The app (app.py), gunicorn (gunicorn.conf.py),
the database URL (models/db.py), the security setup (dashboard/security.py) and the cache
(dashboard/services/cache.py) all take their values from it. A config dict given to
``create_app(config)`` still wins over what is derived from these.

    DATABASE_URL                    the database (default: SQLite in the instance folder)
    LEDGERLENS_INSTANCE             the instance folder (default: ./instance beside app.py)
    SECRET_KEY                      the session signing key (default: a random key kept in the instance folder)
    REDIS_URL                       shared cache and rate-limit counts for several workers / hosts
    LEDGERLENS_CACHE                "off" turns the read cache off
    LEDGERLENS_CACHE_SECONDS        how long a cached read is kept (default 600)
    SESSION_COOKIE_SECURE           "1": the session cookie is always Secure (else: per request over HTTPS)
    LEDGERLENS_SESSION_DAYS         how long a login lasts (default 30)
    LEDGERLENS_OPEN_REGISTRATION    "0" closes the registration form
    LEDGERLENS_DEMO_HINT            "1" (default) shows the demo login on the login page when the demo user exists
    LEDGERLENS_TRUSTED_ORIGINS      other origins allowed to call Dash callbacks (comma-separated)
    LEDGERLENS_PROXIES              number of reverse proxies in front whose X-Forwarded-* headers are trusted
    HOST, PORT, BIND                where to listen (BIND="host:port" wins; gunicorn)
    WORKERS, THREADS, TIMEOUT       gunicorn's workers, threads per worker, request timeout (seconds)
    ACCESS_LOG, LOG_LEVEL           gunicorn's access log ("-": stdout) and log level
    CONTROL_SOCKET                  gunicorn's control socket path (default: none)
    FLASK_DEBUG                     "1": the development server's debugger (``python app.py`` only)
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Settings:
    database_url: str = ""
    instance_path: str = str(ROOT / "instance")
    secret_key: str = ""
    redis_url: str = ""
    cache_off: bool = False
    cache_seconds: int = 600
    session_cookie_secure: bool = False
    session_days: int = 30
    registration_open: bool = True
    demo_login_hint: bool = True
    trusted_origins: tuple[str, ...] = ()
    proxies: int = 0
    host: str = "127.0.0.1"
    port: int = 8050
    bind: str = ""
    workers: int = 0           # 0: gunicorn.conf.py picks from the number of cores
    threads: int = 1
    timeout: int = 60
    access_log: str = ""
    log_level: str = "info"
    control_socket: str = ""
    flask_debug: bool = False

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Settings:
        get = environ.get
        return cls(
            database_url=get("DATABASE_URL", "").strip(),
            instance_path=get("LEDGERLENS_INSTANCE") or str(ROOT / "instance"),
            secret_key=get("SECRET_KEY", ""),
            redis_url=get("REDIS_URL", "").strip(),
            cache_off=get("LEDGERLENS_CACHE", "").strip().lower() in ("off", "0", "none", "null"),
            cache_seconds=int(get("LEDGERLENS_CACHE_SECONDS") or 600),
            session_cookie_secure=get("SESSION_COOKIE_SECURE") == "1",
            session_days=int(get("LEDGERLENS_SESSION_DAYS") or 30),
            registration_open=get("LEDGERLENS_OPEN_REGISTRATION", "1") != "0",
            demo_login_hint=get("LEDGERLENS_DEMO_HINT", "1") == "1",
            trusted_origins=tuple(o.strip().rstrip("/") for o in get("LEDGERLENS_TRUSTED_ORIGINS", "").split(",")
                                  if o.strip()),
            proxies=int(get("LEDGERLENS_PROXIES", "").strip() or 0),
            host=get("HOST") or "127.0.0.1",
            port=int(get("PORT") or 8050),
            bind=get("BIND", ""),
            workers=int(get("WORKERS") or 0),
            threads=int(get("THREADS") or 1),
            timeout=int(get("TIMEOUT") or 60),
            access_log=get("ACCESS_LOG", ""),
            log_level=get("LOG_LEVEL") or "info",
            control_socket=get("CONTROL_SOCKET", ""),
            flask_debug=get("FLASK_DEBUG") == "1",
        )

    @property
    def listen(self) -> str:
        """host:port to bind (BIND wins)."""
        return self.bind or f"{self.host}:{self.port}"


def get_settings() -> Settings:
    """The settings as the environment says now."""
    return Settings.from_environ(os.environ)
