"""The navigation: which pages the navbar shows on its own and which sit in a menu, in one place.

The Dash navbar (:func:`nav_items`), the login/settings templates (``nav_sections`` through
dashboard/auth.py) and the keyboard shortcuts (``g`` then a letter, dashboard/components/shortcuts.py)
all read :func:`nav_sections`, so they list the same pages in the same order.

Everyday pages stand in the bar; the planning pages and the set-up pages each sit in a menu, so the bar
keeps to one line on a laptop and folds into one menu (the toggler) below 1200 px. A page registered
with Dash but named nowhere here lands in the last menu (never in the bar: it would wrap again), and
``tests/test_navigation.py`` fails until it is given its place.
"""
from __future__ import annotations

import dash
import dash_bootstrap_components as dbc

# In the bar, in this order.
MAIN = ("/", "/spending", "/transactions", "/accounts", "/budgets", "/goals", "/import")
# Menus: (id, label, pages in order).
GROUPS = (
    ("plan", "Plan", ("/recurring", "/forecast", "/cashflow")),
    ("manage", "Manage", ("/categories", "/rules", "/rates")),
)


def _nav_pages() -> dict[str, dict]:
    return {page["relative_path"]: {"name": page["name"], "path": page["relative_path"]}
            for page in sorted(dash.page_registry.values(), key=lambda p: p.get("order", 99))
            if page.get("nav", True)}


def nav_sections() -> list[dict]:
    """One entry per place in the bar: ``{"name", "path"}`` for a page, or
    ``{"group", "label", "pages": [{"name", "path"}, ...]}`` for a menu."""
    pages = _nav_pages()
    placed = set(MAIN) | {path for _, _, paths in GROUPS for path in paths}
    sections: list[dict] = [pages[path] for path in MAIN if path in pages]
    for number, (group, label, paths) in enumerate(GROUPS):
        members = [pages[path] for path in paths if path in pages]
        if number == len(GROUPS) - 1:
            members += [page for path, page in pages.items() if path not in placed]
        if members:
            sections.append({"group": group, "label": label, "pages": members})
    return sections


def nav_order() -> list[dict]:
    """Every page of the navigation, flat, in the order it is shown."""
    out = []
    for section in nav_sections():
        out += section["pages"] if "group" in section else [section]
    return out


def group_of(path: str) -> str | None:
    return next((s["group"] for s in nav_sections() if "group" in s
                 and any(p["path"] == path for p in s["pages"])), None)


def item_id(path: str) -> str:
    """The id of a page's link in the navbar (``nav-link-overview``, ``nav-link-forecast``...)."""
    return f"nav-link-{path.strip('/') or 'overview'}"


def _menu(section: dict) -> dbc.DropdownMenu:
    items = [dbc.DropdownMenuItem(page["name"], href=page["path"], id=item_id(page["path"]),
                                  class_name="nav-menu-item")
             for page in section["pages"]]
    return dbc.DropdownMenu(items, label=section["label"], nav=True, in_navbar=True, align_end=True,
                            id=f"nav-group-{section['group']}", toggle_class_name="nav-group-toggle",
                            class_name="nav-group")


def nav_items() -> list:
    """The navbar's page links and menus (dashboard/__init__.py adds search, theme, Settings, Log out)."""
    items = []
    for section in nav_sections():
        if "group" in section:
            items.append(_menu(section))
        else:
            items.append(dbc.NavItem(dbc.NavLink(section["name"], href=section["path"], active="exact",
                                                 id=item_id(section["path"]))))
    return items
