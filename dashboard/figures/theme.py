"""The one Plotly look of Ledgerlens: fonts, colours, margins, money hover text, and the light and dark
templates the figures switch between.

Figures are built with the template of the person's saved choice (``use_chart_theme``, set per request:
dark for "dark", light for "light" and for "auto", which only the browser can resolve). The browser swaps
it when the page's theme differs (assets/theme.js reads ``client_templates()`` from the app layout), so
a person who chose dark gets charts drawn once, dark, not drawn light and then again; the colours that differ between the
themes live only in ``TEMPLATES`` below: a figure function never names a text or grid colour itself.
"""
from __future__ import annotations

import html
from contextvars import ContextVar

import pandas as pd
import plotly.graph_objects as go

from dashboard.formatting import format_day, format_month_axis, money_ticks, separators

PRIMARY = "#3459e6"
INCOME = "#2e9d5b"
SPENDING = "#e0565b"
MUTED = "#adb5bd"
COLORWAY = ["#3459e6", "#f0a030", "#17a2b8", "#e0457b", "#8e44ad", "#d35400", "#16a085", "#7f8c8d",
            "#c0392b", "#2e7d32", "#5d6d7e", "#b7950b"]
THEME_COLORS = {
    # text, muted text, grid lines, zero line, gauge track, hover label background
    "light": {"text": "#343a40", "muted": "#5c636a", "grid": "#eef0f3", "zero": "#ced4da", "track": "#eef0f3",
              "hover": "#ffffff"},
    "dark": {"text": "#dee2e6", "muted": "#adb5bd", "grid": "#343a40", "zero": "#495057", "track": "#343a40",
             "hover": "#2b3035"},
}
FONT = "Inter, system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"


def _template(name: str) -> go.layout.Template:
    colors = THEME_COLORS[name]
    # automargin: tick labels ($2k, month names) push the plot in instead of being cut at the card's edge
    axis = dict(automargin=True, gridcolor=colors["grid"], zerolinecolor=colors["zero"], linecolor=colors["zero"],
                tickfont=dict(color=colors["text"]), title=dict(font=dict(color=colors["text"])))
    return go.layout.Template(
        layout=dict(
            font=dict(family=FONT, color=colors["text"]),
            title=dict(font=dict(color=colors["text"])),
            legend=dict(font=dict(color=colors["text"])),
            xaxis=axis, yaxis=axis,
            annotationdefaults=dict(font=dict(color=colors["muted"])),
            hoverlabel=dict(bgcolor=colors["hover"], font=dict(color=colors["text"])),
            paper_bgcolor="rgba(0,0,0,0)",
            plot_bgcolor="rgba(0,0,0,0)",
            meta={"ledgerlens_theme": name},
        ),
        data=dict(indicator=[go.Indicator(number=dict(font=dict(color=colors["text"])),
                                          gauge=dict(bgcolor=colors["track"],
                                                     axis=dict(tickcolor=colors["zero"],
                                                               tickfont=dict(color=colors["muted"]))))],
                  treemap=[go.Treemap(textfont=dict(color="#ffffff"))]),
    )


TEMPLATES = {name: _template(name) for name in THEME_COLORS}
# The same as plain JSON, built once: what a figure's layout carries (shared, never changed in place).
TEMPLATE_JSON = {name: template.to_plotly_json() for name, template in TEMPLATES.items()}


_chart_theme: ContextVar[str] = ContextVar("ledgerlens_chart_theme", default="light")


def use_chart_theme(choice: str | None):
    """Build this request's figures with the template of the person's saved theme ("dark" -> dark,
    anything else -> light: "auto" is resolved by the browser). Returns a token for ``reset``."""
    return _chart_theme.set("dark" if choice == "dark" else "light")


def chart_theme() -> str:
    return _chart_theme.get()


def client_templates() -> dict:
    """Both templates as plain JSON for the browser, which swaps them when the theme changes."""
    return {name: dict(template) for name, template in TEMPLATE_JSON.items()}


def user_text(value) -> str:
    """User text (an account, category, goal or payee name) made inert for Plotly, which renders a
    subset of HTML in every label, legend, hover and annotation (``<b>``, ``<a href>``, ``<br>``...):
    ``& < >`` become entities, which Plotly shows as the characters themselves. Every figure module
    passes user text through this (or :func:`user_labels`) and nothing else."""
    text = "" if value is None else str(value)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def user_labels(values) -> list[str]:
    """:func:`user_text` for each of ``values`` (a list or a Series)."""
    return [user_text(v) for v in values]


def base_layout(title: str | None = None, *, height: int = 340, legend: bool = True) -> dict:
    return dict(
        template=TEMPLATE_JSON[_chart_theme.get()],
        title=dict(text=title, x=0.01, xanchor="left", font=dict(size=16)) if title else None,
        font=dict(family=FONT, size=13),
        colorway=COLORWAY,
        paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="rgba(0,0,0,0)",
        margin=dict(l=10, r=10, t=48 if title else 16, b=10),
        height=height,
        showlegend=legend,
        legend=dict(orientation="h", yanchor="top", y=-0.12, xanchor="left", x=0),
        hoverlabel=dict(font=dict(family=FONT)),
        separators=separators(),  # Plotly's own numbers (hover, d3 formats) in the locale's symbols
    )


# Advance widths of Inter (regular, assets/fonts), in ems, of the printable ASCII characters: measured in
# Chromium (canvas ``measureText`` at 100 px). Lets a figure size its margins for its tick labels itself:
# Plotly's ``automargin`` measures every label in the page and may draw the figure twice, which was a
# fifth of the explorer's drawing time on each filter change (docs/benchmarks.md, "The browser meets its
# targets"). The x axes keep automargin: their few ticks turn on their side on a phone.
_INTER_EMS = dict(zip(
    " !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~",
    (0.281, 0.288, 0.466, 0.633, 0.642, 0.982, 0.644, 0.300, 0.365, 0.365, 0.501, 0.662, 0.288, 0.460, 0.288,
     0.360, 0.631, 0.407, 0.610, 0.618, 0.646, 0.593, 0.620, 0.566, 0.619, 0.620, 0.288, 0.302, 0.662, 0.662,
     0.662, 0.511, 0.966, 0.690, 0.654, 0.730, 0.722, 0.601, 0.590, 0.746, 0.743, 0.269, 0.571, 0.672, 0.565,
     0.903, 0.753, 0.765, 0.639, 0.765, 0.644, 0.642, 0.646, 0.744, 0.690, 0.985, 0.682, 0.679, 0.629, 0.365,
     0.360, 0.365, 0.471, 0.456, 0.323, 0.562, 0.612, 0.571, 0.612, 0.583, 0.370, 0.613, 0.591, 0.242, 0.242,
     0.549, 0.242, 0.876, 0.591, 0.600, 0.612, 0.612, 0.376, 0.528, 0.327, 0.591, 0.562, 0.818, 0.546, 0.562,
     0.552, 0.426, 0.333, 0.426, 0.662), strict=True))
TICK_SIZE = 13          # the figures' font size (base_layout), which tick labels inherit
LABEL_ROOM = 170        # px at most for a bar chart's category or payee labels; longer ones end in "…"


def _em(char: str) -> float:
    width = _INTER_EMS.get(char)
    if width is not None:
        return width
    if "\u2e80" <= char <= "\ufaff" or "\uff00" <= char <= "\uffef":
        return 1.0          # CJK and full-width forms: a whole em
    return 0.8              # other letters, symbols (€ is 0.67): wider than most, so never cut


def text_width(text: str, size: float = TICK_SIZE) -> float:
    """Pixels the plain ``text`` takes in Inter at ``size``, with 8% to spare for a fallback font (the
    page shows Inter once it has loaded; a system font is a little wider)."""
    return 1.08 * size * sum(_em(c) for c in text)


def short_label(label: str, room: float = LABEL_ROOM, size: float = TICK_SIZE) -> str:
    """``label`` (as :func:`user_text` made it: entities, not markup) cut with "…" to fit ``room`` pixels."""
    plain = html.unescape(label)
    if text_width(plain, size) <= room:
        return label
    budget = room - text_width("…", size)
    kept, used = [], 0.0
    for char in plain:
        used += text_width(char, size)
        if used > budget:
            break
        kept.append(char)
    return user_text("".join(kept).rstrip() + "…")


def fixed_margins(layout: dict, *, left: list[str]) -> dict:
    """The left margin sized by the figure for its y tick labels (``left``, as shown), instead of Plotly's
    ``automargin`` on the y axis, which measures every label in the page and draws again when the margin
    moves. The x axis keeps ``automargin``: its few ticks turn on their side on a phone and need the
    room below. Changes ``layout``."""
    widest = max((text_width(html.unescape(t)) for t in left), default=0.0)
    layout["margin"] = {**(layout.get("margin") or {}), "l": int(widest) + 12}
    layout["yaxis"] = {**layout.get("yaxis", {}), "automargin": False}
    return layout


def bar_labels(labels: list[str]) -> dict:
    """The y axis of a horizontal bar chart whose bars are named ``labels`` (user text): names too long
    for :data:`LABEL_ROOM` are shortened on the axis only (the hover and the data table keep them whole)."""
    shown = [short_label(label) for label in labels]
    if shown == labels:
        return {}
    return dict(tickmode="array", tickvals=labels, ticktext=shown)


def money_axis(currency: str, values=None, *, low: float | None = None, high: float | None = None) -> dict:
    """A money axis whose tick labels are written by dashboard.formatting (``-$5K``, ``-5.000 €``),
    like every label beside the bars. ``values`` (currency units, e.g. stacked totals) or
    ``low``/``high`` give the extent the ticks must cover."""
    if values is not None:
        numbers = [float(v) for v in values if v == v]
        low = min(numbers + [0.0]) if low is None else low
        high = max(numbers + [0.0]) if high is None else high
    if low is None and high is None:
        return {}
    tickvals, ticktext = money_ticks(low or 0.0, high or 0.0, currency)
    return dict(tickmode="array", tickvals=tickvals, ticktext=ticktext, automargin=True)


def date_ticks(days, grain: str, *, most: int = 7) -> dict:
    """x-axis ticks for monthly or weekly buckets, written by dashboard.formatting (``Dec 2026``,
    ``Dec 1``), at most ``most`` of them."""
    days = list(days)
    if not days:
        return {}
    every = max(1, -(-len(days) // most))
    shown = days[::every]
    label = format_day if grain in ("week", "day") else format_month_axis
    return dict(tickmode="array", tickvals=shown, ticktext=[label(d) for d in shown], automargin=True)


def to_units(cents: pd.Series) -> pd.Series:
    """Cents to currency units as floats: for drawing only, never for sums that are shown."""
    return cents.astype("float64") / 100.0


def empty_figure(message: str, *, title: str | None = None, height: int = 300, plain: bool = False):
    """A figure with a message and no axes: a ``go.Figure``, or with ``plain`` the same as Plotly JSON
    (a dict, as the spending explorer's figures are)."""
    layout = base_layout(title, height=height, legend=False)
    layout.update(xaxis=dict(visible=False), yaxis=dict(visible=False),
                  annotations=[dict(text=message, x=0.5, y=0.5, xref="paper", yref="paper", showarrow=False,
                                    font=dict(size=14))])
    return {"data": [], "layout": layout} if plain else go.Figure(layout=layout)
