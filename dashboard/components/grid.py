"""The one AG Grid of Ledgerlens: theme, money and date columns, sizing. No callbacks here."""
from __future__ import annotations

import dash_ag_grid as dag

from dashboard.formatting import bcp47

# Rows an infinite grid asks for at a time (AG Grid's cacheBlockSize).
INFINITE_BLOCK = 100

# Light by default; the dark colours apply under [data-ag-theme-mode="dark"], which assets/theme.js sets on
# <html> together with Bootstrap's data-bs-theme, so every grid follows the page's theme.
GRID_THEME = {
    "function": "themeQuartz.withParams({accentColor: '#3459e6', fontFamily: 'Inter, system-ui, sans-serif',"
                " headerFontWeight: 600, spacing: 6, wrapperBorderRadius: 10})"
                ".withParams({backgroundColor: '#212529', foregroundColor: '#dee2e6', accentColor: '#6f8cf0',"
                " chromeBackgroundColor: '#2b3035', headerTextColor: '#dee2e6', borderColor: '#495057',"
                " browserColorScheme: 'dark'}, 'dark')"
}


def money_column(field: str, header: str, currency: str = "USD", *, currency_field: str | None = None,
                 **extra) -> dict:
    """A right-aligned money column whose values are integer cents, written in the user's locale
    (the request's, see dashboard.formatting) like every other amount. ``currency_field``: each row's
    own currency (an account's), ``currency`` when a row has none."""
    code = f"(params.data && params.data.{currency_field}) || '{currency}'" if currency_field else f"'{currency}'"
    column = {
        "field": field, "headerName": header, "type": "rightAligned", "cellClass": "money ag-right-aligned-cell",
        "valueFormatter": {"function": f"formatCents(params.value, {code}, '{bcp47()}')"},
        "filter": False, "minWidth": 110,
    }
    column.update(extra)
    return column


def date_column(field: str = "date", header: str = "Date", **extra) -> dict:
    column = {"field": field, "headerName": header, "minWidth": 120, "maxWidth": 150,
              "valueFormatter": {"function": f"formatIsoDate(params.value, '{bcp47()}')"}}
    column.update(extra)
    return column


def text_column(field: str, header: str, **extra) -> dict:
    column = {"field": field, "headerName": header, "minWidth": 120, "tooltipField": field}
    column.update(extra)
    return column


def ledger_grid(grid_id: str, column_defs: list[dict], *, row_data=None, infinite: bool = False,
                height: str = "480px", grid_options: dict | None = None, empty: str | None = None,
                **props) -> dag.AgGrid:
    """A themed grid. ``infinite=True`` pages on the server: the page answers ``getRowsRequest`` with
    ``getRowsResponse`` ({rowData, rowCount}), so the browser never holds more than it shows.
    ``empty`` is what the grid says when it has no rows: what to do next (never "No Rows To Show")."""
    options = {"theme": GRID_THEME, "animateRows": False, "tooltipShowDelay": 400,
               "suppressCellFocus": False, "domLayout": "normal",
               "localeText": {"noRowsToShow": empty or "Nothing here yet."}}
    if infinite:
        options.update({"rowModelType": "infinite", "cacheBlockSize": INFINITE_BLOCK, "maxBlocksInCache": 5,
                        "infiniteInitialRowCount": 1, "rowBuffer": 0})
    options.update(grid_options or {})
    kwargs = dict(id=grid_id, columnDefs=column_defs, defaultColDef={"sortable": True, "resizable": True},
                  dashGridOptions=options, columnSize="responsiveSizeToFit", style={"height": height},
                  className="ledger-grid")
    if infinite:
        kwargs["rowModelType"] = "infinite"
    else:
        kwargs["rowData"] = row_data or []
    kwargs.update(props)
    return dag.AgGrid(**kwargs)


def infinite_window(request) -> tuple[int, int, list] | None:
    """(start_row, end_row, sort_model) from an infinite grid's ``getRowsRequest``, or None when the
    request is not one. Whatever the client sends, a window is never more than 500 rows."""
    if not isinstance(request, dict):
        return None
    try:
        start = max(0, int(request.get("startRow") or 0))
        end = int(request.get("endRow") or start + 100)
    except (TypeError, ValueError):
        return None
    sort_model = request.get("sortModel")
    return start, max(start + 1, min(end, start + 500)), sort_model if isinstance(sort_model, list) else []


def infinite_response(rows: list[dict], start: int, end: int) -> dict:
    """The ``getRowsResponse`` for one window: the last page tells the grid where the end is, earlier
    pages leave the count open."""
    return {"rowData": rows, "rowCount": start + len(rows) if len(rows) < end - start else None}


def first_block(grid_id: str, rows: list[dict], sort_model: list[dict]) -> dict:
    """An infinite grid's first block, sent with the filter change that needs it (as a ``dcc.Store``'s
    data). The browser takes it from the callback's answer as soon as it arrives (the Dash renderer's
    ``request_post`` hook, dashboard/__init__.py), starts the grid ``grid_id`` again from the top and
    answers its first request from it when the grid asks for rows 0 to INFINITE_BLOCK in
    ``sort_model``'s order (``ledgerlensGrid``, assets/dashAgGridFunctions.js): the rows come in the same
    round trip as the charts. Any other request (a scroll, another sort) goes to the server's
    ``getRowsRequest`` callback as before."""
    return {"ledgerlensFirstBlock": grid_id, "startRow": 0, "endRow": INFINITE_BLOCK, "sortModel": sort_model,
            **infinite_response(rows, 0, INFINITE_BLOCK)}
