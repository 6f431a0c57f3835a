"""Issue 13 item 11: user text is inert in every Plotly figure. Plotly renders a subset of HTML in
labels, legends, hovers and annotations, so an account, category or payee named
``<a href="https://example.com">x</a>`` became a link. A user whose every name carries markup calls
every server callback of the app (the authorization matrix's plans); every figure in the answers
holds the markup only as entities (figures.theme.user_text)."""
from __future__ import annotations

import json
from datetime import date

from conftest import login
from seed_people import seed_user_data
from test_authz_matrix import World, _name, _post, layout_pattern_ids, plan, server_callbacks

from dashboard.figures.theme import user_labels, user_text

LINK = '<a href="https://example.com">x</a>'
BOLD = "<b>x</b>"


def _figures(value):
    """Every Plotly figure (a dict with "data" and "layout") inside a callback answer."""
    if isinstance(value, dict):
        if "data" in value and "layout" in value and isinstance(value["data"], list):
            yield value
        else:
            for v in value.values():
                yield from _figures(v)
    elif isinstance(value, list):
        for v in value:
            yield from _figures(v)


def test_user_text_helper():
    assert user_text(LINK) == '&lt;a href="https://example.com"&gt;x&lt;/a&gt;'
    assert user_text("R&D <b>") == "R&amp;D &lt;b&gt;"
    assert user_labels([BOLD, None]) == ["&lt;b&gt;x&lt;/b&gt;", ""]


def test_markup_in_names_is_escaped_in_every_figure(app, client, db_session, make_user):
    alice = make_user("alice@example.com")
    mallory = make_user("mallory@example.com")
    a = seed_user_data(db_session, alice, "Zqx7Alpha")
    b = seed_user_data(db_session, mallory, LINK + BOLD)
    world = World(a, b, date.today(), layout_pattern_ids(app, mallory.id))
    assert login(client, "mallory@example.com").status_code == 302
    raw, escaped, figures = [], 0, 0
    for key, spec in server_callbacks(app).items():
        if spec.get("callback") is None:
            continue
        with app.app_context(), app.test_request_context():
            payloads = plan(key, spec, world)
        for payload in payloads:
            response = _post(app, client, payload)
            if response.status_code != 200:
                continue
            for figure in _figures(json.loads(response.data).get("response")):
                figures += 1
                text = json.dumps(figure)
                if LINK.replace('"', '\\"') in text or BOLD in text:
                    raw.append(_name(spec))
                escaped += "&lt;a href" in text
    assert figures > 5
    assert escaped > 0, "no figure showed the names at all"
    assert not raw, f"raw markup in figures of: {sorted(set(raw))}"
