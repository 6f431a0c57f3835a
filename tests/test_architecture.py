"""Architecture rules that import-linter cannot see (it follows modules, not names): services and
figures never touch Flask's per-request objects. The layer and cycle rules are in pyproject.toml
([tool.importlinter]) and run by `make lint`; this test runs them too."""
from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
REQUEST_OBJECTS = {"request", "session", "g", "has_request_context"}


def _flask_request_uses(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.ImportFrom) and node.module in ("flask", "flask.globals"):
            found += [f"{path.name}:{node.lineno} {a.name}" for a in node.names if a.name in REQUEST_OBJECTS]
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "flask" \
                and node.attr in REQUEST_OBJECTS:
            found.append(f"{path.name}:{node.lineno} flask.{node.attr}")
    return found


def test_services_and_figures_use_no_flask_request_objects():
    files = [*(ROOT / "dashboard" / "services").glob("*.py"), *(ROOT / "dashboard" / "figures").glob("*.py")]
    assert files
    assert [use for path in files for use in _flask_request_uses(path)] == []


def test_the_checker_sees_a_request_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from flask import current_app, request\nimport flask\nflask.g.x = 1\n")
    assert _flask_request_uses(bad) == ["bad.py:1 request", "bad.py:3 flask.g"]


def test_import_contracts_hold():
    lint = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    if lint is None:
        pytest.skip("import-linter is not installed")
    done = subprocess.run([lint, "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]


def test_readme_and_docs_link_only_inside_the_repository():
    import re
    for doc in [ROOT / "README.md", *(ROOT / "docs").glob("*.md")]:
        for target in re.findall(r"\]\(([^)#\s]+)", doc.read_text()):
            if re.match(r"^[a-z][a-z0-9+.-]*:", target):   # a URL scheme (https:, mailto:, an example in prose)
                continue
            resolved = (doc.parent / target).resolve()
            assert resolved.is_relative_to(ROOT) and resolved.exists(), f"{doc.name}: {target}"
