"""Gunicorn settings for ``make serve``, all from the environment (read by settings.py):

    HOST, PORT        where to listen (127.0.0.1 and 8050 by default; BIND="host:port" wins over both)
    WORKERS           worker processes (default: 2 per core, at least 2, at most 8)
    THREADS           threads per worker (default 1: sync workers; Dash callbacks are CPU-bound)
    TIMEOUT           seconds a request may take before its worker is restarted (default 60)
    ACCESS_LOG        "-" logs every request to stdout (default: off)
    CONTROL_SOCKET    path of gunicorn's control socket for `gunicornc` (default: none; gunicorn's own
                      default is one path per machine user, which two servers on one host would share)

The app itself reads DATABASE_URL, REDIS_URL, SECRET_KEY (see README.md). Run as
``gunicorn -c gunicorn.conf.py 'app:create_app()'``.

The app is loaded once in the master and forked (preload_app): workers share its memory, and the
secret key file (when SECRET_KEY is unset) is made once. Nothing in it holds state between requests:
the session is a signed cookie, the data is in the database, cached answers are keyed by the user's
data version (dashboard/services/cache.py), so any worker can answer any request.
"""
import os

from settings import get_settings

_cores = os.cpu_count() or 1
_settings = get_settings()

bind = _settings.listen
workers = _settings.workers or min(8, max(2, 2 * _cores))
threads = _settings.threads
timeout = _settings.timeout
graceful_timeout = 20
keepalive = 5
preload_app = True
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
accesslog = _settings.access_log or None
errorlog = "-"
loglevel = _settings.log_level
proc_name = "ledgerlens"
control_socket_disable = not _settings.control_socket
if _settings.control_socket:
    control_socket = _settings.control_socket

def post_fork(server, worker):
    """Connections opened in the master (none normally) must not be shared with the workers."""
    app = getattr(server.app, "callable", None)
    if app is None:
        return
    from models import db

    with app.app_context():
        for engine in db.engines.values():
            engine.dispose(close=False)
