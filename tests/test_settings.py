"""settings.py is the one reader of the environment."""
from __future__ import annotations

import re
from pathlib import Path

from settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def test_defaults_and_values_from_the_environment():
    default = Settings.from_environ({})
    assert (default.database_url, default.redis_url, default.cache_off, default.session_days) == ("", "", False, 30)
    assert default.registration_open and default.demo_login_hint and default.listen == "127.0.0.1:8050"
    told = Settings.from_environ({
        "DATABASE_URL": " postgresql://db/x ", "LEDGERLENS_CACHE": "OFF", "LEDGERLENS_SESSION_DAYS": "7",
        "LEDGERLENS_OPEN_REGISTRATION": "0", "LEDGERLENS_DEMO_HINT": "0", "SESSION_COOKIE_SECURE": "1",
        "LEDGERLENS_TRUSTED_ORIGINS": "https://a.example/, ,https://b.example", "LEDGERLENS_PROXIES": "2",
        "HOST": "0.0.0.0", "PORT": "9000", "WORKERS": "3"})
    assert told.database_url == "postgresql://db/x" and told.cache_off and told.session_days == 7
    assert not told.registration_open and not told.demo_login_hint and told.session_cookie_secure
    assert told.trusted_origins == ("https://a.example", "https://b.example") and told.proxies == 2
    assert (told.listen, told.workers) == ("0.0.0.0:9000", 3)
    assert Settings.from_environ({"BIND": "unix:/tmp/x.sock", "PORT": "1"}).listen == "unix:/tmp/x.sock"


def test_no_other_module_reads_the_environment():
    readers = []
    for path in [ROOT / "app.py", ROOT / "gunicorn.conf.py", *(ROOT / "dashboard").rglob("*.py"),
                 *(ROOT / "models").rglob("*.py")]:
        if re.search(r"os\.environ|os\.getenv|getenv\(", path.read_text()):
            readers.append(str(path.relative_to(ROOT)))
    assert readers == []
