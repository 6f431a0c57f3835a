"""The keyboard shortcuts: one list, shown by the ``?`` overlay and handed to assets/keyboard.js (which
reads the go-to letters from the overlay's data attribute), so the overlay and the keys never disagree."""
from __future__ import annotations

import json

import dash_bootstrap_components as dbc
from dash import html

from dashboard.components.nav import nav_order

SHORTCUTS = [
    ("n", "New transaction"),
    ("/", "Search all transactions"),
    ("?", "Show this list"),
    ("Esc", "Close a dialog or this list"),
]


def goto_targets() -> list[dict]:
    """``g`` then a letter: every page of the navigation (the bar and its menus, in their order), plus Settings. A page gets the first letter of its
    name not yet taken (Overview o, Accounts a, Transactions t, Spending s, ...), else a spare letter."""
    pages = [(page["name"], page["path"]) for page in nav_order()] + [("Settings", "/settings")]
    taken: set[str] = set()
    targets = []
    for name, path in pages:
        spare = [ch for ch in "abcdefghijklmnopqrstuvwxyz" if ch not in taken]
        letter = next((ch for ch in name.lower() if ch.isalpha() and ch not in taken), spare[0] if spare else None)
        if letter is None:
            continue
        taken.add(letter)
        targets.append({"key": letter, "name": name, "path": path})
    return targets


def _kbd(text: str) -> html.Kbd:
    return html.Kbd(text, className="me-1")


def shortcuts_modal() -> html.Div:
    targets = goto_targets()
    rows = [html.Tr([html.Td(_kbd(key)), html.Td(what)]) for key, what in SHORTCUTS]
    rows += [html.Tr([html.Td([_kbd("g"), _kbd(t["key"])]), html.Td(f"Go to {t['name']}")]) for t in targets]
    return html.Div([dbc.Modal([
        dbc.ModalHeader(dbc.ModalTitle("Keyboard shortcuts", id="shortcuts-title")),
        dbc.ModalBody([
            html.P("Anywhere outside a text field:", className="text-muted small"),
            dbc.Table([html.Thead(html.Tr([html.Th("Keys", scope="col"), html.Th("Does", scope="col")])),
                       html.Tbody(rows)], size="sm", className="mb-0 shortcuts-table", id="shortcuts-table"),
        ]),
    ], id="shortcuts-modal", is_open=False, centered=True, scrollable=True, labelledby="shortcuts-title"),
        html.Div(id="ll-goto", hidden=True, **{"data-goto": json.dumps(targets)})])
