"""No merge leftovers: a line that starts a git conflict marker in a tracked text file fails the build.

Found twice in one session (a merge committed with markers in a figure module and in models/db.py); this
is the check that would have caught it."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MARKERS = ("<" * 7 + " ", ">" * 7 + " ", "=" * 7 + "\n")
TEXT = {".py", ".js", ".css", ".md", ".html", ".txt", ".toml", ".ini", ".cfg", ".yml", ".yaml", ""}


def tracked_files() -> list[Path]:
    try:
        out = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    return [ROOT / name for name in out.splitlines() if Path(name).suffix in TEXT]


def test_no_tracked_file_holds_a_conflict_marker():
    found = []
    for path in tracked_files():
        if not path.is_file():
            continue
        try:
            lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        except UnicodeDecodeError:
            continue
        found += [f"{path.relative_to(ROOT)}:{n}" for n, line in enumerate(lines, 1) if line.startswith(MARKERS)]
    assert not found, "conflict markers left by a merge: " + ", ".join(found[:20])
