"""Form pieces shared by the pages' modals (no callbacks here)."""
from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import Output, html


def form_field(label: str, control, field_id: str, help_text: str | None = None, *,
               label_for: bool = True) -> html.Div:
    """A labelled control with a slot (``<field_id>-feedback``) for the message about bad input."""
    return html.Div([
        dbc.Label(label, html_for=field_id if label_for else None),
        control,
        html.Div(id=f"{field_id}-feedback", className="invalid-feedback d-block"),
        dbc.FormText(help_text) if help_text else None,
    ], className="mb-3")


def busy(button_id: str, label: str, working: str = "Working…") -> list:
    """``running=`` of a callback whose button starts slow work (a bulk edit, a merge: seconds on a large
    ledger): until the answer comes the button is disabled, so a second click cannot send it again, and
    shows a spinner instead of its label."""
    return [(Output(button_id, "disabled"), True, False),
            (Output(button_id, "children"),
             [html.Span(className="spinner-border spinner-border-sm me-1", **{"aria-hidden": "true"}),
              html.Span(working, role="status")], label)]
