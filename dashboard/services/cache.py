"""A cache for the expensive reads, correct with any number of workers and any cache backend.

How it stays correct: every user has a data version (``users.data_version``) that every commit which
changes what their pages show bumps, in the same database transaction (the before_commit hook in
dashboard/services/rollup.py, registered with this module's own listeners by
dashboard/services/hooks.py). A cached read is stored under

    <prefix><code generation>:<function>:<user id>:<data version>:<hash of the other arguments>

and looks the version up first (one primary-key read, remembered for the rest of the database
transaction). A commit therefore makes every older entry of that user unreachable, on every worker and
every host, without a message to anyone: the next request reads the new version and misses. Old
entries are never read again and simply expire (``CACHE_DEFAULT_TIMEOUT``) or are evicted.

The cache is skipped (the function runs directly) when the answer could differ from the committed
state: the session has written or holds unflushed changes in its current transaction, there is no
app context, the arguments have no stable key, or the backend fails (Redis down: log, compute).

Backends (Flask-Caching): an in-process SimpleCache by default (each worker its own, which the
version scheme keeps correct); RedisCache when ``REDIS_URL`` is set, shared by every worker;
``LEDGERLENS_CACHE=off`` (or ``CACHE_TYPE="NullCache"``) turns caching off.

No Dash imports here; the decorated functions are services: ``fn(session, user_id, ...)``.
"""
from __future__ import annotations

import functools
import hashlib
import inspect
import logging
import time
from pathlib import Path

from flask import Flask, current_app, has_app_context
from flask_caching import Cache
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import User
from settings import Settings, get_settings

log = logging.getLogger(__name__)

cache = Cache()

# session.info keys: the versions read in this database transaction, and whether it wrote anything.
VERSIONS = "ledgerlens_data_versions"
WROTE = "ledgerlens_wrote"
MEMO = "ledgerlens_transaction_memo"

_ROOT = Path(__file__).resolve().parents[2]
_HIT_MISS = {"hits": 0, "misses": 0, "bypassed": 0, "errors": 0}


def _code_generation() -> str:
    """A short hash of the code that shapes cached values (services, models) and of the migrations
    (one may change stored data). Part of every key, so a new release never reads what an older one
    stored in a shared Redis."""
    digest = hashlib.sha1()
    for folder in ("dashboard/services", "models", "migrations/versions"):
        for path in sorted((_ROOT / folder).glob("*.py")):
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:10]


def cache_config(settings: Settings | None = None) -> dict:
    """Flask-Caching settings from the settings (create_app lets a config dict override them)."""
    settings = settings or get_settings()
    timeout = settings.cache_seconds
    if settings.cache_off:
        return {"CACHE_TYPE": "NullCache", "CACHE_NO_NULL_WARNING": True}
    redis_url = settings.redis_url
    if redis_url:
        return {
            "CACHE_TYPE": "RedisCache",
            "CACHE_REDIS_URL": redis_url,
            "CACHE_DEFAULT_TIMEOUT": timeout,
            # A Redis that is down or unreachable costs at most this much per request (then: compute).
            "CACHE_OPTIONS": {"socket_timeout": 0.5, "socket_connect_timeout": 0.5,
                              "health_check_interval": 30},
        }
    return {"CACHE_TYPE": "SimpleCache", "CACHE_DEFAULT_TIMEOUT": timeout, "CACHE_THRESHOLD": 2000}


def init_cache(app: Flask) -> None:
    for key, value in cache_config().items():
        app.config.setdefault(key, value)
    app.config.setdefault("CACHE_KEY_PREFIX", "ledgerlens:")
    app.config["LEDGERLENS_CACHE_GENERATION"] = _code_generation()
    cache.init_app(app)


def stats() -> dict:
    """Hits, misses, bypasses and backend errors of this process (for benchmarks and debugging)."""
    return dict(_HIT_MISS)


# -- the data version ---------------------------------------------------------------------------------

def data_version(session: Session, user_id: int) -> int | None:
    """The user's data version as this transaction sees it (None: no such user)."""
    versions = session.info.setdefault(VERSIONS, {})
    if user_id not in versions:
        versions[user_id] = session.scalar(select(User.data_version).where(User.id == user_id))
    return versions[user_id]


def transaction_memo(session: Session) -> dict | None:
    """A dict for remembering reads until the database transaction ends (emptied then, like the data
    versions), or None when the transaction has written: what it would remember may be changing."""
    if has_written(session):
        return None
    return session.info.setdefault(MEMO, {})


def has_written(session: Session) -> bool:
    """True when the session's current transaction wrote, or is about to write, something."""
    return bool(session.info.get(WROTE) or session.new or session.dirty or session.deleted)


def _mark_flush(session: Session, _flush_context) -> None:
    session.info[WROTE] = True


def _mark_dml(state) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        state.session.info[WROTE] = True


def _forget(session: Session, transaction) -> None:
    if transaction.parent is None:  # the outermost transaction: committed or rolled back
        session.info.pop(VERSIONS, None)
        session.info.pop(MEMO, None)
        session.info.pop(WROTE, None)


# -- the decorator ------------------------------------------------------------------------------------

def _argument_key(signature: inspect.Signature, args, kwargs) -> str:
    """A stable text for the arguments after (session, user_id): repr of each, defaults filled in.
    Only types whose repr is their value are accepted; anything else has no key (TypeError)."""
    bound = signature.bind(*args, **kwargs)
    bound.apply_defaults()
    parts = []
    for name, value in list(bound.arguments.items())[2:]:
        _check_keyable(value)
        parts.append(f"{name}={value!r}")
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]


_SCALARS = (type(None), bool, int, str, float)


def _check_keyable(value) -> None:
    import dataclasses
    from datetime import date, datetime
    from decimal import Decimal

    if isinstance(value, _SCALARS + (date, datetime, Decimal)):
        return
    if isinstance(value, (tuple, list, frozenset)):
        for item in value:
            _check_keyable(item)
        return
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for item in dataclasses.fields(value):
            _check_keyable(getattr(value, item.name))
        return
    raise TypeError(f"no stable cache key for {type(value).__name__}")


def cached(fn):
    """Cache ``fn(session, user_id, ...)`` per (user, data version, arguments). The value must pickle."""
    signature = inspect.signature(fn)
    name = f"{fn.__module__.rsplit('.', 1)[-1]}.{fn.__qualname__}"

    @functools.wraps(fn)
    def wrapper(session, user_id, *args, **kwargs):
        if not has_app_context() or cache not in current_app.extensions.get("cache", {}) \
                or has_written(session):
            _HIT_MISS["bypassed"] += 1
            return fn(session, user_id, *args, **kwargs)
        try:
            arguments = _argument_key(signature, (session, user_id, *args), kwargs)
        except TypeError:
            _HIT_MISS["bypassed"] += 1
            return fn(session, user_id, *args, **kwargs)
        version = data_version(session, user_id)
        if version is None:
            return fn(session, user_id, *args, **kwargs)
        key = (f"{current_app.config['LEDGERLENS_CACHE_GENERATION']}:{name}:{int(user_id)}:"
               f"{version}:{arguments}")
        try:
            found = cache.get(key)
        except Exception as exc:  # the backend is down or the entry is unreadable: compute
            _backend_failed("read", exc)
            found = None
        if isinstance(found, tuple) and len(found) == 1:
            _HIT_MISS["hits"] += 1
            return found[0]
        _HIT_MISS["misses"] += 1
        value = fn(session, user_id, *args, **kwargs)
        if not has_written(session):  # the function itself did not write (none of ours do)
            try:
                cache.set(key, (value,))
            except Exception as exc:
                _backend_failed("write", exc)
        return value

    wrapper.uncached = fn
    return wrapper


_last_warning = [0.0]


def _backend_failed(what: str, exc: Exception) -> None:
    _HIT_MISS["errors"] += 1
    now = time.monotonic()
    if now - _last_warning[0] > 60:  # at most one line a minute per process
        _last_warning[0] = now
        log.warning("cache %s failed (%s: %s); answering without the cache", what, type(exc).__name__, exc)
