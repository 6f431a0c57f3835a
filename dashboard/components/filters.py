"""The spending explorer's filter bar: controls only, their callbacks live in the page."""
from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard.formatting import moment_date_format
from dashboard.services.spending import PRESETS, SpendingFilters


def _label(text: str, html_for: str) -> dbc.Label:
    return dbc.Label(text, html_for=html_for, className="small text-muted mb-1")


def filter_bar(prefix: str, filters: SpendingFilters, account_options: list[dict],
               category_options: list[dict], tag_options: list[dict] = ()) -> dbc.Card:
    f = filters
    return dbc.Card(dbc.CardBody([
        dbc.Row([
            dbc.Col([
                _label("Period", f"{prefix}-preset"),
                dcc.Dropdown(id=f"{prefix}-preset", options=[{"label": v, "value": k} for k, v in PRESETS.items()],
                             value=f.preset, clearable=False, searchable=False),
            ], xs=12, sm=6, lg=2),
            dbc.Col([
                _label("Dates", f"{prefix}-dates"),
                dcc.DatePickerRange(id=f"{prefix}-dates", start_date=f.start.isoformat(),
                                    end_date=f.end.isoformat(), display_format=moment_date_format(),
                                    first_day_of_week=1, minimum_nights=0, className="w-100"),
            ], xs=12, sm=6, lg=3),
            dbc.Col([
                _label("Accounts", f"{prefix}-accounts"),
                dcc.Dropdown(id=f"{prefix}-accounts", options=account_options, value=list(f.account_ids),
                             multi=True, placeholder="All accounts"),
            ], xs=12, sm=6, lg=2),
            dbc.Col([
                _label("Categories", f"{prefix}-categories"),
                dcc.Dropdown(id=f"{prefix}-categories", options=category_options, value=list(f.category_ids),
                             multi=True, placeholder="All categories"),
            ], xs=12, sm=6, lg=3),
            dbc.Col([
                _label("Tags", f"{prefix}-tags"),
                dcc.Dropdown(id=f"{prefix}-tags", options=list(tag_options), value=list(f.tag_ids),
                             multi=True, placeholder="Any tags"),
            ], xs=12, sm=6, lg=2),
        ], className="g-2"),
        dbc.Row([
            dbc.Col([
                _label("Search payee or description", f"{prefix}-text"),
                dbc.Input(id=f"{prefix}-text", type="search", value=f.text, debounce=True,
                          placeholder="e.g. coffee", maxLength=100),
            ], xs=12, sm=6, lg=3),
            dbc.Col([
                _label("Amount from", f"{prefix}-min"),
                dbc.Input(id=f"{prefix}-min", type="text", inputMode="decimal", debounce=True,
                          value="" if f.min_amount is None else str(f.min_amount), placeholder="min"),
            ], xs=6, sm=3, lg=2),
            dbc.Col([
                _label("to", f"{prefix}-max"),
                dbc.Input(id=f"{prefix}-max", type="text", inputMode="decimal", debounce=True,
                          value="" if f.max_amount is None else str(f.max_amount), placeholder="max"),
            ], xs=6, sm=3, lg=2),
            dbc.Col([
                _label("Show", f"{prefix}-flow"),
                dbc.RadioItems(id=f"{prefix}-flow", value=f.flow, inline=True, className="btn-group w-100",
                               inputClassName="btn-check", labelClassName="btn btn-outline-primary btn-sm",
                               labelCheckedClassName="active",
                               options=[{"label": "Spending", "value": "spending"},
                                        {"label": "Income", "value": "income"}]),
            ], xs=12, sm=6, lg=3),
            dbc.Col([
                _label("Over time by", f"{prefix}-grain"),
                dcc.Dropdown(id=f"{prefix}-grain", value=f.grain, clearable=False, searchable=False,
                             options=[{"label": "Auto", "value": "auto"}, {"label": "Month", "value": "month"},
                                      {"label": "Week", "value": "week"}]),
            ], xs=12, sm=6, lg=2),
        ], className="g-2 mt-1 align-items-end"),
        html.Div(id=f"{prefix}-filter-error", className="text-danger small mt-2", role="alert"),
    ]), className="shadow-sm mb-3 filter-bar")
