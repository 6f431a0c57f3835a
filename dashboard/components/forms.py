"""Form pieces shared by the pages' modals (no callbacks here)."""
from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import html


def form_field(label: str, control, field_id: str, help_text: str | None = None, *,
               label_for: bool = True) -> html.Div:
    """A labelled control with a slot (``<field_id>-feedback``) for the message about bad input."""
    return html.Div([
        dbc.Label(label, html_for=field_id if label_for else None),
        control,
        html.Div(id=f"{field_id}-feedback", className="invalid-feedback d-block"),
        dbc.FormText(help_text) if help_text else None,
    ], className="mb-3")
