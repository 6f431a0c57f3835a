"""Addresses of the files in assets/ with a version in them, so a browser never keeps using an old copy
after a deploy: ``/assets/theme.js?v=<hash of its content>``.

Dash adds ``?m=<modification time>`` to the assets it lists itself; the pages it does not build (the
login, registration and settings templates) and the theme script Dash's page loads in <head> use this.
The hash is of the content, not the file's time: a deploy that keeps times (rsync -t, an image layer)
still changes the address when the file changed, and an unchanged file keeps its cached copy.
"""
from __future__ import annotations

import functools
import hashlib
from pathlib import Path

ASSETS = Path(__file__).resolve().parent.parent / "assets"


@functools.cache
def _version(name: str) -> str:
    path = (ASSETS / name).resolve()
    if ASSETS not in path.parents or not path.is_file():
        return "0"
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def asset_url(name: str) -> str:
    """``/assets/<name>?v=<content hash>`` (computed once per process: a deploy restarts the workers)."""
    return f"/assets/{name}?v={_version(name)}"
