"""Import: upload a bank statement (CSV, OFX, QFX) or a Ledgerlens export, map the CSV's columns,
preview what will be added and what will be skipped (and why), then import it all at once.

The uploaded file stays in the browser (a dcc.Store fed by a client-side size check) and is sent with
each callback; the server keeps nothing between requests. Callbacks are thin: they decode the upload
and call dashboard.services.importer / export, which check every id against the logged-in user.
"""
from __future__ import annotations

import uuid

import dash
import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, callback, clientside_callback, ctx, dcc, html, no_update

from dashboard.components.cards import page_header
from dashboard.components.grid import date_column, ledger_grid, money_column, text_column
from dashboard.context import current_viewer, require_viewer
from dashboard.formatting import format_money, format_number
from dashboard.services import archive as archive_svc
from dashboard.services import importer as svc
from dashboard.services import progress as progress_svc
from dashboard.services.accounts import list_accounts
from dashboard.services.categories import category_frame
from dashboard.services.errors import ServiceError
from dashboard.unit_of_work import unit_of_work
from models import db

dash.register_page(__name__, path="/import", name="Import", title="Import · Ledgerlens", order=6)

P = "import"
PREVIEW_LIMIT = 1000   # rows sent to the preview grid; every row with a problem comes first
ROLE_LABELS = {"date": "Date", "amount": "Amount (signed)", "debit": "Debit (money out)",
               "credit": "Credit (money in)", "payee": "Payee", "description": "Description / memo",
               "category": "Category", "currency": "Currency (ISO code)",
               "original_amount": "Original amount (foreign)", "original_currency": "Original currency"}
STATUS_LABELS = {svc.NEW: "New", svc.DUPLICATE: "Duplicate", svc.ERROR: "Error", svc.SKIPPED: "Skipped"}
SOURCE_LABELS = {"rule": "rule", "file": "file", "history": "as before", "mapped": "your choice"}
MAPPING_IDS = ("date", "amount", "debit", "credit", "payee", "description", "category", "date-format",
               "decimal", "delimiter", "header", "skip", "invert", "mode")
HIDDEN = {"display": "none"}


def _label(text: str, html_for: str) -> dbc.Label:
    return dbc.Label(text, html_for=html_for, className="small text-muted mb-1")


def _column_select(role: str) -> dbc.Col:
    cid = f"{P}-map-{role}"
    return dbc.Col([
        _label(ROLE_LABELS[role], cid),
        dcc.Dropdown(id=cid, options=[], value=None, clearable=role not in ("date",),
                     placeholder="(none)", searchable=False),
    ], xs=12, sm=6, lg=4, id=f"{cid}-col")


def _mapping_card() -> dbc.Card:
    return dbc.Card(dbc.CardBody([
        html.H5("Match the columns", className="card-title"),
        html.P("Say which column holds what. The preview below follows every change.",
               className="text-muted small"),
        dbc.Row([
            dbc.Col([
                _label("Amounts are in", f"{P}-map-mode"),
                dbc.RadioItems(id=f"{P}-map-mode", value="signed", inline=True,
                               options=[{"label": "one signed column", "value": "signed"},
                                        {"label": "debit and credit columns", "value": "split"}]),
            ], xs=12, lg=8),
            dbc.Col(dbc.Switch(id=f"{P}-map-header", label="First row is a header", value=True,
                               class_name="mt-lg-4"), xs=12, lg=4),
        ], className="g-2 mb-2"),
        dbc.Row([_column_select(role) for role in COLUMN_ROLES], className="g-2"),
        dbc.Row([
            dbc.Col([
                _label("Date format", f"{P}-map-date-format"),
                dcc.Dropdown(id=f"{P}-map-date-format", value="iso", clearable=False, searchable=False,
                             options=[{"label": v, "value": k} for k, v in svc.DATE_FORMATS.items()]),
            ], xs=12, sm=6, lg=4),
            dbc.Col([
                _label("Decimals", f"{P}-map-decimal"),
                dcc.Dropdown(id=f"{P}-map-decimal", value=".", clearable=False, searchable=False,
                             options=[{"label": "1,234.56", "value": "."},
                                      {"label": "1.234,56", "value": ","}]),
            ], xs=6, sm=3, lg=2),
            dbc.Col([
                _label("Columns split by", f"{P}-map-delimiter"),
                dcc.Dropdown(id=f"{P}-map-delimiter", value=",", clearable=False, searchable=False,
                             options=[{"label": v, "value": k} for k, v in svc.DELIMITERS.items()]),
            ], xs=6, sm=3, lg=2),
            dbc.Col([
                _label("Skip lines at top", f"{P}-map-skip"),
                dbc.Input(id=f"{P}-map-skip", type="number", min=0, max=1000, step=1, value=0,
                          debounce=True),
            ], xs=6, sm=6, lg=2),
            dbc.Col([
                dbc.Switch(id=f"{P}-map-invert", label="Flip signs", value=False, class_name="mt-sm-4 mb-0"),
                html.Div("for cards that show spending as +", className="small text-muted lh-sm"),
            ], xs=6, sm=6, lg=2),
        ], className="g-2 mt-1"),
        html.Div(id=f"{P}-mapping-warnings", className="small text-warning-emphasis mt-2"),
    ]), className="shadow-sm h-100", id=f"{P}-mapping-card", style=HIDDEN)


def _help_card() -> dbc.Card:
    return dbc.Card(dbc.CardBody([
        html.H5("What you can import", className="card-title"),
        html.Ul([
            html.Li([html.Strong("CSV"), " from any bank: you match its columns (date, amount or debit and "
                     "credit, payee…) and choose the date format and decimal separator; the first guess is "
                     "usually right."]),
            html.Li([html.Strong("OFX / QFX"), " (Quicken, Money, most banks' “download transactions”): read as "
                     "it is, with the bank's own transaction ids."]),
            html.Li([html.Strong("A Ledgerlens export"), " (the zip from “Export all my data”): restores "
                     "accounts, categories, transactions, budgets, goals and rules."]),
        ], className="small mb-2 ps-3"),
        html.P(["Nothing is added until you press Import, and then everything or nothing is. Rows already in the "
                "account are found and skipped (you can import one anyway), so importing an overlapping "
                "statement is safe."], className="small text-muted mb-0"),
    ]), className="shadow-sm h-100", id=f"{P}-help-card")


def _preview_columns(currency: str) -> list[dict]:
    return [
        {"field": "include", "headerName": "Import", "cellDataType": "boolean", "maxWidth": 95, "minWidth": 85,
         "editable": {"function": "params.data.status !== 'Skipped'"}, "sortable": False},
        {"field": "line", "headerName": "Line", "maxWidth": 85, "minWidth": 70, "type": "rightAligned"},
        date_column("date", "Date"),
        text_column("payee", "Payee", minWidth=150),
        text_column("description", "Description", minWidth=130),
        money_column("amount_cents", "Amount", currency),
        text_column("original", "Original", minWidth=110, maxWidth=160),
        text_column("category", "Category", minWidth=200),
        text_column("status", "Status", minWidth=95, maxWidth=120, cellClassRules={
            "import-status-new": "params.value === 'New'",
            "import-status-duplicate": "params.value === 'Duplicate'",
            "import-status-error": "params.value === 'Error'",
            "import-status-skipped": "params.value === 'Skipped'"}),
        # The whole reason, wrapped: "Unknown category “Financial services”: left uncategorized." is never cut.
        text_column("reason", "Why", minWidth=260, flex=2, wrapText=True, autoHeight=True, cellClass="wrap-cell"),
    ]


def _rules_columns() -> list[dict]:
    return [
        {"field": "pattern", "headerName": "Payee…", "editable": True, "minWidth": 160},
        {"field": "match_label", "headerName": "Match", "editable": True, "minWidth": 110, "maxWidth": 140,
         "cellEditor": "agSelectCellEditor", "cellEditorParams": {"values": ["contains", "matches (regex)"]}},
        {"field": "category", "headerName": "Category", "editable": True, "minWidth": 180,
         "cellEditor": "agSelectCellEditor", "cellEditorParams": {"values": []}},
    ]


def _grid_height(rows: int, low: int, high: int) -> str:
    """A grid as tall as its rows (header 50 px, 36 px a row, room for a scroll bar), within bounds."""
    return f"{max(low, min(high, 50 + 36 * rows + 16))}px"


def _category_options(user_id: int) -> list[dict]:
    """Every category the user can pick (hidden built-ins left out), spending first, as full paths."""
    cats = category_frame(db.session, user_id)
    cats = cats[~cats["hidden"]]
    return [{"label": r.full_name, "value": int(r.id)}
            for kind in ("expense", "income") for r in cats[cats["kind"] == kind].itertuples()]


def _rules_rows(user_id: int, options: list[dict]) -> list[dict]:
    names = {o["value"]: o["label"] for o in options}
    frame = svc.list_rules(db.session, user_id)
    return [{"id": int(r.id), "pattern": r.pattern,
             "match_label": "matches (regex)" if r.match_type == "regex" else "contains",
             "category": names.get(int(r.category_id), "?")} for r in frame.itertuples()]


def _rules_card(options: list[dict], rows: list[dict]) -> dbc.Card:
    columns = _rules_columns()
    columns[2]["cellEditorParams"] = {"values": [o["label"] for o in options]}
    return dbc.Card(dbc.CardBody([
        html.H5("Categorisation rules", className="card-title"),
        html.P(["Imported rows whose payee contains a text (or matches a regular expression) get a "
                "category. The first rule that matches wins; without one, a payee you categorised before "
                "gets the same category again. Edit a rule in the grid."],
               className="text-muted small"),
        dbc.Row([
            dbc.Col([_label("Payee contains / matches", f"{P}-rule-pattern"),
                     dbc.Input(id=f"{P}-rule-pattern", maxLength=200, placeholder="e.g. starbucks")],
                    xs=12, md=4),
            dbc.Col([_label("How", f"{P}-rule-type"),
                     dcc.Dropdown(id=f"{P}-rule-type", value="contains", clearable=False, searchable=False,
                                  options=[{"label": "contains", "value": "contains"},
                                           {"label": "matches (regex)", "value": "regex"}])], xs=6, md=2),
            dbc.Col([_label("Category", f"{P}-rule-category"),
                     dcc.Dropdown(id=f"{P}-rule-category", options=options, placeholder="Choose…")],
                    xs=6, md=4),
            dbc.Col(dbc.Button("Add rule", id=f"{P}-rule-add", color="primary", class_name="w-100"),
                    xs=6, md=2, className="d-flex align-items-end"),
        ], className="g-2 mb-2"),
        html.Div(id=f"{P}-rule-message", className="small mb-2", role="alert"),
        ledger_grid(f"{P}-rules-grid", columns, row_data=rows, height=_grid_height(len(rows), 120, 300),
                    getRowId="'' + params.data.id",
                    grid_options={"rowSelection": {"mode": "multiRow", "checkboxes": True, "headerCheckbox": False,
                                                   "enableClickSelection": False},
                                  "selectionColumnDef": {"width": 48, "maxWidth": 48, "minWidth": 48,
                                                         "suppressSizeToFit": True, "resizable": False},
                                  "stopEditingWhenCellsLoseFocus": True,
                                  "localeText": {"noRowsToShow": "No rules yet: add one above."}}),
        dbc.Button("Delete selected rules", id=f"{P}-rule-delete", color="outline-danger", size="sm",
                   class_name="mt-2"),
    ]), className="shadow-sm mt-3")


def layout(**_query):
    viewer = current_viewer()
    if viewer is None:
        return html.Div(page_header("Import"))
    accounts = list_accounts(db.session, viewer.user_id, include_archived=False)
    account_options = [{"label": r.name, "value": int(r.id)} for r in accounts.itertuples()]
    options = _category_options(viewer.user_id)
    return html.Div(className="import-page", children=[
        dcc.Store(id=f"{P}-file"),
        dcc.Store(id=f"{P}-decisions", data={}),
        dcc.Store(id=f"{P}-preview-id"),
        dcc.Store(id=f"{P}-rules-version", data=0),
        dcc.Store(id=f"{P}-done", data=0),
        page_header("Import", "Bring in a bank statement (CSV, OFX or QFX), or restore a Ledgerlens export.",
                    actions=[html.A("Export all my data (zip)", href="/export/account.zip", id=f"{P}-export-all",
                                    className="btn btn-outline-primary btn-sm")]),
        dbc.Row([
            dbc.Col(dbc.Card(dbc.CardBody([
                html.H5("Choose a file", className="card-title"),
                dcc.Upload(
                    id=f"{P}-upload", multiple=False, accept=".csv,.txt,.tsv,.ofx,.qfx,.zip",
                    className="import-drop",
                    children=html.Div([
                        html.Div("⇪", className="import-drop-icon", **{"aria-hidden": "true"}),
                        html.Div([html.Span("Drop a statement here or "), html.U("choose a file")]),
                        html.Div(f"CSV, OFX, QFX or a Ledgerlens export · up to "
                                 f"{svc.MAX_UPLOAD_BYTES // (1024 * 1024)} MB", className="small text-muted"),
                    ]),
                ),
                html.Div(id=f"{P}-upload-error", className="text-danger small mt-2", role="alert"),
                html.Div(id=f"{P}-file-info", className="small mt-2"),
                html.Div([
                    _label("Into account", f"{P}-account"),
                    dcc.Dropdown(id=f"{P}-account", options=account_options, clearable=False,
                                 value=account_options[0]["value"] if account_options else None,
                                 placeholder="Choose an account"),
                    html.Div(["No accounts yet: ", dcc.Link("add one on the Accounts page", href="/accounts"),
                              " first."], className="small text-danger mt-1") if not account_options else None,
                ], id=f"{P}-account-block", className="mt-3"),
            ]), className="shadow-sm h-100"), lg=4),
            dbc.Col([_mapping_card(), _help_card()], lg=8),
        ], className="g-3 mb-3"),
        dbc.Card(dbc.CardBody([
            html.Div([
                html.H5("Preview and import", className="card-title mb-0"),
                html.Div(id=f"{P}-summary", className="d-flex flex-wrap gap-2 align-items-center"),
            ], className="d-flex justify-content-between align-items-center flex-wrap gap-2 mb-2"),
            html.Div(id=f"{P}-warnings", className="small"),
            html.Div(id=f"{P}-catmap-card"),
            html.Div(id=f"{P}-error", className="text-danger small mb-2", role="alert"),
            ledger_grid(f"{P}-grid", _preview_columns(viewer.currency), row_data=[], height="150px",
                        getRowId="'' + params.data.line",
                        grid_options={"stopEditingWhenCellsLoseFocus": True, "singleClickEdit": True,
                                      "localeText": {"noRowsToShow": "Choose a file to see what will be imported."}}),
            html.Div([
                dbc.Button("Import", id=f"{P}-run", color="primary", disabled=True, class_name="px-4"),
                html.Span("Untick a row to leave it out; tick a duplicate to import it anyway.",
                          className="text-muted small"),
                html.Span(id=f"{P}-choices", className="small fw-semibold"),
            ], className="d-flex align-items-center gap-3 mt-3 flex-wrap"),
            # While Import runs: how far it has got, asked every 400 ms of whichever worker answers
            # (the count is in the shared progress store: dashboard/services/progress.py).
            dcc.Interval(id=f"{P}-poll", interval=400, disabled=True),
            html.Div(_progress_view(None), id=f"{P}-progress-area", className="import-progress mt-3", style=HIDDEN),
            html.Div(id=f"{P}-result", className="mt-3"),
        ]), className="shadow-sm"),
        _rules_card(options, _rules_rows(viewer.user_id, options)),
    ])


# --- helpers --------------------------------------------------------------------------------------

def _progress_view(state: progress_svc.Progress | None) -> list:
    """The bar and the sentence under it: rows written of rows to write, as a percentage."""
    if state is None or state.stage == progress_svc.CHECKING or (state.total == 0 and state.stage != progress_svc.FINISHING):
        percent, text = None, "Checking the file…"
    elif state.stage == progress_svc.FINISHING:
        percent = 100
        text = f"All {format_number(state.total)} rows written; updating budgets and totals…"
    else:
        percent = state.percent
        text = f"Imported {format_number(state.done)} of {format_number(state.total)} rows ({percent} %)"
    bar_props = {"role": "progressbar", "aria-label": "Import progress", "aria-valuemin": "0", "aria-valuemax": "100"}
    if percent is not None:
        bar_props["aria-valuenow"] = str(percent)
    return [
        html.Div(html.Div(f"{percent} %" if percent is not None else "",
                          className="progress-bar progress-bar-striped progress-bar-animated",
                          style={"width": f"{percent if percent is not None else 100}%"}, **bar_props),
                 className="progress mb-2", style={"height": "1.25rem"}, id=f"{P}-progress"),
        html.Div(text, className="small text-muted", id=f"{P}-progress-text", role="status"),
    ]


def _upload_bytes(file_data) -> tuple[bytes, str]:
    if not isinstance(file_data, dict):
        raise svc.ImportFileError("Choose a file to import.")
    name = file_data.get("name")
    name = name if isinstance(name, str) else ""
    return svc.decode_data_url(file_data.get("contents")), name[:255]


def _mapping(values: dict) -> svc.CsvMapping:
    values = dict(values)
    if values.pop("mode", "signed") == "split":
        values["amount"] = None
    else:
        values["debit"] = values["credit"] = None
    return svc.CsvMapping.from_dict(values)


def _mapping_values(args) -> dict:
    keys = (*COLUMN_ROLES, "date_format", "decimal", "delimiter", "has_header", "skip_rows", "invert", "mode")
    return dict(zip(keys, args, strict=True))


def _parse(data: bytes, name: str, mapping_values: dict) -> svc.ParseResult:
    kind = svc.detect_format(data, name)
    if kind == "ofx":
        return svc.parse_ofx(data)
    return svc.parse_csv(data, _mapping(mapping_values))


def _badge(text: str, color: str, **props) -> dbc.Badge:
    return dbc.Badge(text, color=color, pill=True, class_name="import-badge", **props)


def _preview_rows(plan: svc.ImportPlan, category_names: dict[int, str]) -> tuple[list[dict], int]:
    rows = plan.rows
    if len(rows) > PREVIEW_LIMIT:
        flagged = [r for r in rows if r.status != svc.NEW or r.reason][:PREVIEW_LIMIT]
        rest = [r for r in rows if not (r.status != svc.NEW or r.reason)][:PREVIEW_LIMIT - len(flagged)]
        rows = sorted(flagged + rest, key=lambda r: r.line)
    out = []
    for r in rows:
        category = category_names.get(r.category_id, "") if r.category_id else ""
        if category and r.category_source:
            category += f" ({SOURCE_LABELS.get(r.category_source, r.category_source)})"
        out.append({"line": r.line, "include": bool(r.include), "date": r.date.isoformat() if r.date else "",
                    "payee": r.payee, "description": r.description,
                    "amount_cents": r.cents if r.amount is not None else None,
                    "original": (f"{r.original_amount} {r.original_currency}" if r.original_amount is not None
                                 else ""),
                    "category": category, "status": STATUS_LABELS[r.status], "reason": r.reason})
    return out, len(plan.rows)


def _category_names(user_id: int) -> dict[int, str]:
    cats = category_frame(db.session, user_id)
    return {int(r.id): r.full_name for r in cats.itertuples()}


# --- callbacks ------------------------------------------------------------------------------------

# Size check in the browser: an oversized file never leaves it.
clientside_callback(
    f"""
    function(contents, filename) {{
        if (!contents) {{ return [window.dash_clientside.no_update, ""]; }}
        var limit = {svc.MAX_UPLOAD_BYTES};
        var comma = contents.indexOf(",");
        var size = Math.floor((contents.length - comma - 1) * 3 / 4);
        if (size > limit) {{
            return [null, "“" + filename + "” is " + (size / 1048576).toFixed(1) +
                    " MB; the limit is " + (limit / 1048576) + " MB. Split it into smaller statements."];
        }}
        return [{{"name": filename, "contents": contents}}, ""];
    }}
    """,
    Output(f"{P}-file", "data"),
    Output(f"{P}-upload-error", "children"),
    Input(f"{P}-upload", "contents"),
    State(f"{P}-upload", "filename"),
    prevent_initial_call=True,
)

COLUMN_ROLES = svc.ROLES   # date, amounts, payee, description, category, currency


@callback(
    Output(f"{P}-file-info", "children"),
    Output(f"{P}-mapping-card", "style"),
    Output(f"{P}-help-card", "style"),
    Output(f"{P}-account-block", "style"),
    *[Output(f"{P}-map-{role}", "options") for role in COLUMN_ROLES],
    *[Output(f"{P}-map-{role}", "value") for role in COLUMN_ROLES],
    Output(f"{P}-map-date-format", "value"),
    Output(f"{P}-map-decimal", "value"),
    Output(f"{P}-map-delimiter", "value"),
    Output(f"{P}-map-header", "value"),
    Output(f"{P}-map-skip", "value"),
    Output(f"{P}-map-invert", "value"),
    Output(f"{P}-map-mode", "value"),
    Output(f"{P}-mapping-warnings", "children"),
    Input(f"{P}-file", "data"),
    prevent_initial_call=True,
)
def inspect_file(file_data):
    """A new file: what it is, and for a CSV the columns and the mapping that probably fits."""
    require_viewer()
    keep = [no_update] * (len(COLUMN_ROLES) * 2 + 8)
    try:
        data, name = _upload_bytes(file_data)
        kind = svc.detect_format(data, name)
        if kind == "archive":
            archive = archive_svc.read_archive(data)
            counts = archive_svc.archive_summary(archive)
            info = html.Div([html.Strong(name or "export.zip"), " · Ledgerlens export: ",
                             f"{format_number(counts['transactions'])} transactions, {counts['accounts']} accounts, "
                             f"{counts['budgets']} budgets, {counts['goals']} goals. Its accounts are matched "
                             "by name; what is already here is skipped."])
            return (info, HIDDEN, {}, HIDDEN, *keep)
        if kind == "ofx":
            parsed = svc.parse_ofx(data)
            accounts = ", ".join("…" + a[-4:] for a in parsed.info.get("accounts", []))
            info = html.Div([html.Strong(name or "statement.ofx"),
                             f" · OFX statement, {format_number(len(parsed.rows) + parsed.error_count)} transactions"
                             + (f" (account {accounts})" if accounts else "")
                             + (f" in {', '.join(parsed.info['currencies'])}" if parsed.info.get("currencies") else "")])
            return (info, HIDDEN, {}, {}, *keep)
        guess = svc.inspect_csv(data)
    except ServiceError as error:
        return (html.Span(error.message, className="text-danger"), HIDDEN, {}, {}, *keep)
    options = [{"label": f"{i + 1}: {c[:40]}", "value": i} for i, c in enumerate(guess.columns)]
    m = guess.mapping
    info = html.Div([html.Strong(name or "statement.csv"),
                     f" · CSV, {len(guess.columns)} columns, {guess.encoding}, "
                     f"separated by {svc.DELIMITERS[m.delimiter].lower()}"])
    mode = "split" if m.amount is None and (m.debit is not None or m.credit is not None) else "signed"
    return (info, {}, HIDDEN, {}, *[options] * len(COLUMN_ROLES), *[getattr(m, role) for role in COLUMN_ROLES],
            m.date_format, m.decimal, m.delimiter, m.has_header, m.skip_rows, m.invert, mode,
            html.Ul([html.Li(w) for w in guess.warnings], className="mb-0 ps-3") if guess.warnings else "")


MAPPING_STATES = [
    *[(f"{P}-map-{role}", "value") for role in COLUMN_ROLES],
    (f"{P}-map-date-format", "value"), (f"{P}-map-decimal", "value"), (f"{P}-map-delimiter", "value"),
    (f"{P}-map-header", "value"), (f"{P}-map-skip", "value"), (f"{P}-map-invert", "value"),
    (f"{P}-map-mode", "value"),
]


@callback(
    Output(f"{P}-grid", "rowData"),
    Output(f"{P}-grid", "style"),
    Output(f"{P}-summary", "children"),
    Output(f"{P}-warnings", "children"),
    Output(f"{P}-error", "children"),
    Output(f"{P}-run", "disabled"),
    Output(f"{P}-preview-id", "data"),
    Output(f"{P}-map-debit-col", "style"),
    Output(f"{P}-map-credit-col", "style"),
    Output(f"{P}-map-amount-col", "style"),
    Input(f"{P}-file", "data"),
    Input(f"{P}-account", "value"),
    *[Input(cid, prop) for cid, prop in MAPPING_STATES],
    Input(f"{P}-rules-version", "data"),
    Input(f"{P}-done", "data"),
    prevent_initial_call=True,
)
def preview(file_data, account_id, *args):
    """Parse with the current mapping and show, row by row, what the import would do."""
    viewer = require_viewer()
    values = _mapping_values(args[:len(MAPPING_STATES)])
    split = values.get("mode") == "split"
    styles = ({} if split else HIDDEN, {} if split else HIDDEN, HIDDEN if split else {})
    token = uuid.uuid4().hex   # the user's ticks belong to this preview only
    small = {"height": _grid_height(0, 150, 480)}
    empty = ([], small, "", "", "", True, None, *styles)
    if not file_data:
        return empty
    try:
        data, name = _upload_bytes(file_data)
        if svc.detect_format(data, name) == "archive":
            archive = archive_svc.read_archive(data)
            counts = archive_svc.archive_summary(archive)
            summary = [_badge(f"{format_number(n)} {k.replace('_', ' ')}", "light", text_color="dark")
                       for k, n in counts.items() if n]
            # An export to restore: say what it holds and what Import will do (no row grid for a zip).
            about = html.P([html.Strong("A Ledgerlens export. "),
                            "Import restores its accounts (matched by name), transactions, budgets and goals; "
                            "whatever is already here is skipped, nothing is overwritten."],
                           className="mb-2", id=f"{P}-archive-info")
            return ([], HIDDEN, summary, about, "", not any(counts.values()), token, *styles)
        parsed = _parse(data, name, values)
        if account_id is None:
            return ([], small, "", "", "Choose the account to import into.", True, None, *styles)
        plan = svc.plan_import(db.session, viewer.user_id, account_id, parsed)
    except ServiceError as error:
        return ([], small, "", "", error.message, True, None, *styles)
    rows, total = _preview_rows(plan, _category_names(viewer.user_id))
    new = sum(1 for r in plan.rows if r.include and r.status == svc.NEW)
    summary = [
        _badge(f"{format_number(new)} to import", "primary", id=f"{P}-count-new"),
        _badge(f"{format_number(plan.count(svc.DUPLICATE))} duplicates", "warning", text_color="dark", id=f"{P}-count-dup"),
        _badge(f"{format_number(plan.error_count)} errors", "danger", id=f"{P}-count-error") if plan.error_count else None,
        _badge(f"{format_number(plan.count(svc.SKIPPED))} skipped", "secondary") if plan.count(svc.SKIPPED) else None,
    ]
    warnings = list(plan.warnings)
    if total > len(rows):
        warnings.append(f"Showing {format_number(len(rows))} of {format_number(total)} rows: every row with a problem first.")
    if plan.error_count:
        warnings.append("Rows with an error stop the import: fix the mapping, or untick them to leave them out.")
    # Nothing to import (every row a duplicate, skipped or left out): the button waits until a row is
    # ticked back in (the clientside callback below).
    nothing = not any(r.include for r in plan.rows) and not plan.error_count
    return (rows, {"height": _grid_height(len(rows), 150, 480)}, [b for b in summary if b is not None],
            html.Ul([html.Li(w) for w in warnings], className="mb-2 ps-3") if warnings else "",
            "", nothing, token, *styles)


@callback(
    Output(f"{P}-decisions", "data"),
    Input(f"{P}-grid", "cellValueChanged"),
    State(f"{P}-decisions", "data"),
    State(f"{P}-preview-id", "data"),
    prevent_initial_call=True,
)
def remember_choice(changes, decisions, preview_id):
    """A ticked or unticked row: remembered by its line number, for the preview it was made in."""
    require_viewer()
    if not isinstance(decisions, dict) or decisions.get("for") != preview_id:
        decisions = {"for": preview_id, "lines": {}}
    lines = dict(decisions.get("lines") or {})
    for change in changes if isinstance(changes, list) else [changes]:
        if not isinstance(change, dict) or change.get("colId") != "include":
            continue
        row = change.get("data") or {}
        line, value = row.get("line"), change.get("value")
        if isinstance(line, int) and isinstance(value, bool):
            lines[str(line)] = value
    return {"for": preview_id, "lines": lines}


# What the user has ticked or unticked in this preview, said next to the Import button.
clientside_callback(
    """
    function(decisions, previewId) {
        if (!decisions || !previewId || decisions["for"] !== previewId) { return ""; }
        var values = Object.values(decisions.lines || {});
        var out = values.filter(function(v) { return v === false; }).length;
        var back = values.filter(function(v) { return v === true; }).length;
        var parts = [];
        if (out) { parts.push(out + (out === 1 ? " row" : " rows") + " left out"); }
        if (back) { parts.push(back + (back === 1 ? " row" : " rows") + " ticked back in"); }
        return parts.length ? "Your choices: " + parts.join(", ") + "." : "";
    }
    """,
    Output(f"{P}-choices", "children"),
    Input(f"{P}-decisions", "data"),
    Input(f"{P}-preview-id", "data"),
)


@callback(
    Output(f"{P}-result", "children"),
    Output(f"{P}-done", "data"),
    Input(f"{P}-run", "n_clicks"),
    State(f"{P}-file", "data"),
    State(f"{P}-account", "value"),
    *[State(cid, prop) for cid, prop in MAPPING_STATES],
    State(f"{P}-decisions", "data"),
    State(f"{P}-preview-id", "data"),
    State(f"{P}-done", "data"),
    State({"type": f"{P}-catmap", "index": ALL}, "value"),
    running=[(Output(f"{P}-poll", "disabled"), False, True),
             (Output(f"{P}-progress-area", "style"), {}, HIDDEN),
             (Output(f"{P}-run", "disabled"), True, False)],
    prevent_initial_call=True,
)
def run_import(n_clicks, file_data, account_id, *args):
    """Import everything accepted, or nothing; say what happened."""
    viewer = require_viewer()
    if not n_clicks:
        return no_update, no_update
    values = _mapping_values(args[:len(MAPPING_STATES)])
    decisions, preview_id, done, _catmap = args[len(MAPPING_STATES):]
    choices = (decisions.get("lines") if isinstance(decisions, dict) and preview_id
               and decisions.get("for") == preview_id else None)
    done = done + 1 if isinstance(done, int) else 1
    # The preview's token names this import in the progress store (any worker answers the polls).
    progress = progress_svc.reporter(viewer.user_id, preview_id)

    def work():
        data, name = _upload_bytes(file_data)
        if svc.detect_format(data, name) == "archive":
            return archive_svc.restore_archive(db.session, viewer.user_id, archive_svc.read_archive(data),
                                               progress=progress)
        return svc.run_import(db.session, viewer.user_id, account_id, _parse(data, name, values), choices,
                              category_choices=category_choices, progress=progress)

    category_choices = _category_choices()
    progress_svc.report(viewer.user_id, preview_id, 0, 0, progress_svc.CHECKING)
    try:
        outcome = unit_of_work(work)
    finally:
        progress_svc.clear(viewer.user_id, preview_id)
    if not outcome.ok:
        return dbc.Alert(["Nothing was imported. ", outcome.message], color="danger",
                         id=f"{P}-result-alert"), no_update
    result = outcome.value
    if isinstance(result, archive_svc.RestoreResult):
        return dbc.Alert(result.message, color="success", id=f"{P}-result-alert"), done
    if not result.added:
        return dbc.Alert(result.message, color="info", id=f"{P}-result-alert"), done
    cur = viewer.currency
    first, last = result.months[0], result.months[-1]
    link = f"/spending?preset=custom&from={first.isoformat()}&to={_month_end(last).isoformat()}"
    return dbc.Alert([
        html.Strong(result.message), " ",
        f"Spending {format_money(result.spending_cents, cur, cents=True)}, "
        f"income {format_money(result.income_cents, cur, cents=True)}. ",
        dcc.Link("See them in the spending explorer →", href=link, id=f"{P}-result-link"),
    ], color="success", id=f"{P}-result-alert"), done


@callback(
    Output(f"{P}-progress-area", "children"),
    Input(f"{P}-poll", "n_intervals"),
    State(f"{P}-preview-id", "data"),
    prevent_initial_call=True,
)
def import_progress(_tick, preview_id):
    """How far the running import has got, from the shared progress store (the person's own only)."""
    viewer = require_viewer()
    return _progress_view(progress_svc.read(viewer.user_id, preview_id))


def _category_choices() -> dict:
    """{file category name: "create" | "none" | category id} from the per-name pickers (the names are
    the pickers' ids; the service ignores names the file does not carry and checks every id)."""
    out = {}
    for group in ctx.states_list or []:
        if not isinstance(group, list):
            continue
        for item in group:
            cid = item.get("id") if isinstance(item, dict) else None
            if isinstance(cid, dict) and cid.get("type") == f"{P}-catmap" and isinstance(cid.get("index"), str):
                out[cid["index"]] = item.get("value")
    return out


@callback(
    Output(f"{P}-catmap-card", "children"),
    Input(f"{P}-file", "data"),
    Input(f"{P}-account", "value"),
    *[Input(cid, prop) for cid, prop in MAPPING_STATES],
    Input(f"{P}-done", "data"),
    prevent_initial_call=True,
)
def unknown_categories(file_data, account_id, *args):
    """Every category name of the file that is not known yet, with its rows and money, and a choice
    each: create it (keeping the file's hierarchy), map it to an existing category, or leave it."""
    viewer = require_viewer()
    if not file_data:
        return None
    try:
        data, name = _upload_bytes(file_data)
        if svc.detect_format(data, name) == "archive":
            return None
        parsed = _parse(data, name, _mapping_values(args[:len(MAPPING_STATES)]))
        unknown = svc.unknown_categories(db.session, viewer.user_id, parsed)
    except ServiceError:
        return None
    if not unknown:
        return None
    options = _category_options(viewer.user_id)
    rows = []
    for entry in unknown:
        create_label = "Create “" + " › ".join(entry["path"]) + "”"
        choices = [{"label": create_label, "value": svc.CREATE},
                   {"label": "Leave uncategorized", "value": svc.LEAVE}] + \
            [{"label": "→ " + o["label"], "value": o["value"]} for o in options]
        rows.append(html.Tr([
            html.Td(entry["name"], className="fw-semibold"),
            html.Td(f"{entry['rows']:,}", className="text-end"),
            html.Td(format_money(entry["cents"], viewer.currency, cents=True), className="text-end"),
            html.Td(dcc.Dropdown(id={"type": f"{P}-catmap", "index": entry["name"]}, options=choices,
                                 value=svc.CREATE, clearable=False, style={"minWidth": "16rem"})),
        ]))
    return dbc.Alert([
        html.Div([html.Strong(f"{len(unknown)} categor{'ies' if len(unknown) != 1 else 'y'} of this file "
                              "are new to Ledgerlens."),
                  " Choose what each becomes; your choice is remembered for the next file."], className="mb-2"),
        dbc.Table([html.Thead(html.Tr([html.Th("In the file"), html.Th("Rows", className="text-end"),
                                       html.Th("Money", className="text-end"), html.Th("Becomes")])),
                   html.Tbody(rows)], size="sm", class_name="mb-0 import-catmap", responsive=True),
    ], color="info", class_name="py-2", id=f"{P}-catmap-alert")


def _month_end(day):
    from dashboard.services.periods import month_end
    return month_end(day)


@callback(
    Output(f"{P}-rules-grid", "rowData"),
    Output(f"{P}-rules-grid", "style"),
    Output(f"{P}-rule-message", "children"),
    Output(f"{P}-rules-version", "data"),
    Output(f"{P}-rule-pattern", "value"),
    Input(f"{P}-rule-add", "n_clicks"),
    Input(f"{P}-rule-delete", "n_clicks"),
    Input(f"{P}-rules-grid", "cellValueChanged"),
    State(f"{P}-rule-pattern", "value"),
    State(f"{P}-rule-type", "value"),
    State(f"{P}-rule-category", "value"),
    State(f"{P}-rules-grid", "selectedRows"),
    State(f"{P}-rules-version", "data"),
    prevent_initial_call=True,
)
def edit_rules(_add, _delete, changes, pattern, match_type, category_id, selected, version):
    """Add, change or delete rules; the preview follows (rules-version)."""
    viewer = require_viewer()
    trigger = ctx.triggered_id
    options = _category_options(viewer.user_id)
    by_label = {o["label"]: o["value"] for o in options}

    def work():
        if trigger == f"{P}-rule-add":
            if category_id is None:
                raise ServiceError("Choose the category the rule gives.", "category")
            svc.create_rule(db.session, viewer.user_id, pattern=pattern, match_type=match_type or "contains",
                            category_id=category_id)
            return html.Span("Rule added.", className="text-success"), ""
        elif trigger == f"{P}-rule-delete":
            ids = [row.get("id") for row in (selected or []) if isinstance(row, dict)]
            if not ids:
                raise ServiceError("Tick the rules to delete first.")
            for rule_id in ids:
                svc.delete_rule(db.session, viewer.user_id, rule_id)
            return (html.Span(f"Deleted {len(ids)} rule{'s' if len(ids) != 1 else ''}.", className="text-success"),
                    no_update)
        else:
            for change in changes if isinstance(changes, list) else [changes]:
                if not isinstance(change, dict):
                    continue
                row, col, value = change.get("data") or {}, change.get("colId"), change.get("value")
                if col == "pattern":
                    svc.update_rule(db.session, viewer.user_id, row.get("id"), pattern=value)
                elif col == "match_label":
                    svc.update_rule(db.session, viewer.user_id, row.get("id"),
                                    match_type="regex" if value == "matches (regex)" else "contains")
                elif col == "category":
                    if value not in by_label:
                        raise ServiceError("Choose a category from the list.", "category")
                    svc.update_rule(db.session, viewer.user_id, row.get("id"), category_id=by_label[value])
            return html.Span("Rule saved.", className="text-success"), no_update

    done = unit_of_work(work)
    if not done.ok:
        rows = _rules_rows(viewer.user_id, options)
        return rows, {"height": _grid_height(len(rows), 120, 300)}, \
            html.Span(done.message, className="text-danger"), no_update, no_update
    message, clear_pattern = done.value
    rows = _rules_rows(viewer.user_id, options)
    return (rows, {"height": _grid_height(len(rows), 120, 300)}, message,
            (version or 0) + 1 if isinstance(version, int) else 1, clear_pattern)


# A preview with nothing to import keeps the Import button disabled until a row is ticked back in.
clientside_callback(
    """
    function(decisions, previewId) {
        if (!decisions || !previewId || decisions["for"] !== previewId) { return window.dash_clientside.no_update; }
        var back = Object.values(decisions.lines || {}).some(function(v) { return v === true; });
        return back ? false : window.dash_clientside.no_update;
    }
    """,
    Output(f"{P}-run", "disabled", allow_duplicate=True),
    Input(f"{P}-decisions", "data"),
    State(f"{P}-preview-id", "data"),
    prevent_initial_call=True,
)
