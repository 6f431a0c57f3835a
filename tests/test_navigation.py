"""The navigation (dashboard/components/nav.py): every page has its place (in the bar or in the Plan or
Manage menu), the Dash navbar, the login/settings templates and the ``g`` shortcuts list the same pages
in the same order, and the bar stays one line on a laptop."""
from __future__ import annotations

import dash
from conftest import login

from dashboard.components import nav
from dashboard.components.shortcuts import goto_targets


def _nav_paths() -> set[str]:
    return {p["relative_path"] for p in dash.page_registry.values() if p.get("nav", True)}


def test_every_page_has_its_place_in_the_bar_or_a_menu(app):
    placed = set(nav.MAIN) | {path for _, _, paths in nav.GROUPS for path in paths}
    assert _nav_paths() <= placed, f"give these pages a place in nav.MAIN or nav.GROUPS: {_nav_paths() - placed}"
    assert [p["path"] for p in nav.nav_order()] == [p for p in nav.MAIN if p in _nav_paths()] + \
        [p for _, _, paths in nav.GROUPS for p in paths if p in _nav_paths()]
    # the bar itself holds few enough to stay on one line; the rest sit in menus
    bar = [s for s in nav.nav_sections() if "group" not in s]
    assert len(bar) <= 7 and {s["label"] for s in nav.nav_sections() if "group" in s} == {"Plan", "Manage"}
    assert nav.group_of("/forecast") == "plan" and nav.group_of("/rates") == "manage" and nav.group_of("/") is None


def test_shortcuts_follow_the_navigation_order(app):
    targets = goto_targets()
    assert [t["path"] for t in targets] == [p["path"] for p in nav.nav_order()] + ["/settings"]


def test_dash_navbar_and_settings_page_list_the_same_pages(client, make_user):
    make_user("alice@example.com")
    login(client, "alice@example.com")
    layout = client.get("/_dash-layout").get_data(as_text=True)
    settings = client.get("/settings").get_data(as_text=True)
    for page in nav.nav_order():
        assert f'"{nav.item_id(page["path"])}"' in layout, page
        assert f'href="{page["path"]}"' in settings, page
    for group in ("plan", "manage"):
        assert f"nav-group-{group}" in layout and f'id="nav-group-{group}"' in settings
