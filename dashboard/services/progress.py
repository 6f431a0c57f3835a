"""How far a long write has got (the import of a large statement, the restore of an export), where every
worker can read it.

The import runs in one request, on one worker, inside one database transaction; the page asks how far it
has got with other requests, which any worker may answer. So the count can live neither in the worker's
memory nor in the database: the import's transaction holds SQLite's write lock until it commits (another
connection could not write the count), and on PostgreSQL what it writes is invisible to other
connections until then. It lives in a small key-value store of its own (Flask-Caching, like the read
cache, but never turned off and never a per-process store):

- Redis when ``REDIS_URL`` is set: every worker on every host;
- otherwise files in the instance folder (``<instance>/progress/``): every worker of this host, which is
  every worker there is unless several hosts share one PostgreSQL, and those set ``REDIS_URL`` already
  (the rate limits need it too).

Keys are (user id, job id): a person only ever reads their own progress, and a job id is a random token
(the import preview's), checked for its shape. Writing the count is best effort: a store that fails is
logged and the import goes on. Entries expire after an hour; the page clears its own when it is done.
"""
from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from flask import Flask, current_app, has_app_context
from flask_caching import Cache

from settings import get_settings

log = logging.getLogger(__name__)

store = Cache()

JOB_ID = re.compile(r"^[0-9a-f]{32}$")   # uuid4().hex, as the import page makes them
TTL_SECONDS = 3600
CHECKING, WRITING, FINISHING = "checking", "writing", "finishing"


@dataclass(frozen=True, slots=True)
class Progress:
    """``done`` of ``total`` rows written; ``stage``: checking the file, writing rows, or finishing
    (budgets and totals after the last row)."""
    done: int
    total: int
    stage: str

    @property
    def percent(self) -> int:
        """Whole percent of the rows written, 100 only when every row is."""
        if self.total <= 0:
            return 100 if self.stage == FINISHING else 0
        if self.done >= self.total:
            return 100
        return min(99, max(0, self.done * 100 // self.total))


def store_config(instance_path: str, redis_url: str | None = None) -> dict:
    """Flask-Caching settings for the progress store (shared by every worker: see the module docstring)."""
    redis_url = get_settings().redis_url if redis_url is None else redis_url
    if redis_url:
        return {"CACHE_TYPE": "RedisCache", "CACHE_REDIS_URL": redis_url, "CACHE_DEFAULT_TIMEOUT": TTL_SECONDS,
                "CACHE_KEY_PREFIX": "ledgerlens-progress:",
                "CACHE_OPTIONS": {"socket_timeout": 0.5, "socket_connect_timeout": 0.5}}
    folder = Path(instance_path) / "progress"
    folder.mkdir(parents=True, exist_ok=True)
    return {"CACHE_TYPE": "FileSystemCache", "CACHE_DIR": str(folder), "CACHE_DEFAULT_TIMEOUT": TTL_SECONDS,
            "CACHE_THRESHOLD": 500}


def init_progress(app: Flask) -> None:
    store.init_app(app, config=app.config.get("LEDGERLENS_PROGRESS_STORE") or store_config(app.instance_path))


def _key(user_id: int, job) -> str | None:
    if not isinstance(job, str) or not JOB_ID.match(job) or not isinstance(user_id, int):
        return None
    return f"{user_id}:{job}"


def _ready() -> bool:
    return has_app_context() and store in current_app.extensions.get("cache", {})


def report(user_id: int, job, done: int, total: int, stage: str = WRITING) -> None:
    """Note that ``done`` of ``total`` rows are written (best effort: never stops the import)."""
    key = _key(user_id, job)
    if key is None or not _ready():
        return
    try:
        store.set(key, (int(done), int(total), stage))
    except Exception as exc:   # the store is down: the import matters more than its progress bar
        log.warning("progress store: write failed (%s)", exc)


def read(user_id: int, job) -> Progress | None:
    """The progress of the user's job, or None (unknown job, someone else's, finished, or no store)."""
    key = _key(user_id, job)
    if key is None or not _ready():
        return None
    try:
        found = store.get(key)
    except Exception as exc:
        log.warning("progress store: read failed (%s)", exc)
        return None
    if not (isinstance(found, tuple) and len(found) == 3):
        return None
    return Progress(*found)


def clear(user_id: int, job) -> None:
    key = _key(user_id, job)
    if key is None or not _ready():
        return
    try:
        store.delete(key)
    except Exception as exc:
        log.warning("progress store: delete failed (%s)", exc)


def reporter(user_id: int, job) -> Callable[[int, int], None]:
    """A ``progress(done, total)`` callback for :func:`importer.run_import` and
    :func:`archive.restore_archive`: when every row is written, the stage becomes "finishing"."""
    def progress(done: int, total: int) -> None:
        report(user_id, job, done, total, FINISHING if total and done >= total else WRITING)
    return progress
