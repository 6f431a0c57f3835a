"""The spending explorer's figures are plain Plotly JSON (dicts, built without go.Figure's validation
for speed): Plotly's own validation accepts every one of them, and they say what the frames say."""
from __future__ import annotations

from datetime import date

import pandas as pd
import plotly.graph_objects as go
import pytest

from dashboard.figures import spending as figs
from dashboard.figures import theme

# A three-level tree: Food > Groceries > Organic, Food > Restaurants, Home > Rent.
CATEGORIES = pd.DataFrame({
    "id": [1, 2, 3, 4, 5, 6],
    "name": ["Food", "Groceries", "Organic", "Restaurants", "Home", "Rent <b>"],
    "parent_id": pd.array([None, 1, 2, 1, None, 5], dtype="Int64"),
    "color": ["#111111", "#111111", "#111111", "#111111", "#222222", "#222222"],
})
TOP = {1: 1, 2: 1, 3: 1, 4: 1, 5: 5, 6: 5, 0: 0}
BY_CATEGORY = pd.DataFrame({"category_id": [2, 3, 4, 6, 0], "total_cents": [5000, 2500, -300, 100000, 750],
                            "row_count": [3, 1, 1, 1, 2]})
PREVIOUS = pd.DataFrame({"category_id": [2, 6], "total_cents": [4000, 100000], "row_count": [2, 1]})
OVER_TIME = pd.DataFrame({"bucket": [date(2026, 1, 1), date(2026, 1, 1), date(2026, 2, 1), date(2026, 2, 1)],
                          "category_id": [2, 6, 3, 0], "total_cents": [5000, 100000, 2500, 750],
                          "row_count": [3, 1, 1, 2]})
PAYEES = pd.DataFrame({"payee": ["Landlord", "Market", None], "total_cents": [100000, 7500, 750],
                       "row_count": [1, 4, 2]})
EMPTY = pd.DataFrame({"category_id": pd.Series(dtype="int64"), "total_cents": pd.Series(dtype="int64"),
                      "row_count": pd.Series(dtype="int64")})


def every_figure(frames_empty: bool = False) -> dict[str, dict]:
    by_category = EMPTY if frames_empty else BY_CATEGORY
    over_time = OVER_TIME.iloc[0:0] if frames_empty else OVER_TIME
    payees = PAYEES.iloc[0:0] if frames_empty else PAYEES
    return {
        "treemap": figs.category_treemap(by_category, CATEGORIES, "USD", title="t", mapping=TOP),
        "treemap_drilled": figs.category_treemap(by_category, CATEGORIES, "USD", title="t", drilled=1,
                                                 mapping={1: 1, 2: 2, 3: 2, 4: 4}),
        "bars": figs.category_bars(by_category, CATEGORIES, TOP, "USD", title="t"),
        "over_time": figs.over_time(over_time, CATEGORIES, TOP, "USD", grain="month", title="t"),
        "weekly": figs.over_time(over_time, CATEGORIES, TOP, "USD", grain="week", title="t",
                                 period=(date(2026, 1, 1), date(2026, 2, 28))),
        "payees": figs.top_payees(payees, "USD", title="t"),
        "comparison": figs.comparison(by_category, EMPTY if frames_empty else PREVIOUS, CATEGORIES, TOP, "USD",
                                      title="t"),
    }


@pytest.mark.parametrize("frames_empty", [False, True])
def test_every_figure_is_valid_plotly_json(frames_empty):
    for name, figure in every_figure(frames_empty).items():
        assert isinstance(figure, dict) and set(figure) == {"data", "layout"}, name
        go.Figure(figure)   # raises on any property Plotly does not know or a value of the wrong type
        if frames_empty:
            assert figure["data"] == [] and figure["layout"]["annotations"], name


def test_treemap_sends_the_two_levels_it_shows_and_escapes_names():
    tree = every_figure()["treemap"]["data"][0]
    boxes = dict(zip(tree["ids"], zip(tree["parents"], tree["values"], strict=True), strict=True))
    # Groceries sits under Food and holds Organic's 25 in its box; Organic, a third level, is not sent
    # (it shows once the person drills into Food or Groceries), nor is Groceries' own-spending box.
    assert boxes["c2"][0] == "c1" and boxes["c1"][0] == ""
    assert boxes["c1"][1] == 75.0 and boxes["c2"][1] == 75.0
    assert "c3" not in boxes and "c2-own" not in boxes
    assert tree["maxdepth"] == 2
    assert "c4" not in boxes      # a net refund has no box
    assert "Rent &lt;b&gt;" in tree["labels"]


def test_a_drilled_treemap_shows_the_next_two_levels():
    groceries = BY_CATEGORY[BY_CATEGORY["category_id"].isin([2, 3])]   # the service reads the drilled subtree
    tree = figs.category_treemap(groceries, CATEGORIES, "USD", title="t", drilled=2, mapping={2: 2, 3: 3})["data"][0]
    boxes = dict(zip(tree["ids"], zip(tree["parents"], tree["values"], strict=True), strict=True))
    assert boxes == {"c2": ("", 75.0), "c2-own": ("c2", 50.0), "c3": ("c2", 25.0)}


def test_treemap_boxes_show_their_amount_only_where_it_fits():
    tree = every_figure()["treemap"]["data"][0]
    text = dict(zip(tree["ids"], tree["text"], strict=True))
    # Rent is 92% of the total, Groceries 7%: both big enough; Uncategorized is 0.7%: its name only.
    assert text["c6"] == "<b>Rent &lt;b&gt;</b><br>$1,000.00 · 92%"
    assert text["c2"].startswith("<b>Groceries</b><br>$75.00")
    assert text["c0"] == "<b>Uncategorized</b>"
    assert all(len(row) == 2 and "$" in row[1] for row in tree["customdata"])    # the hover has every amount


def test_over_time_stacks_top_categories_and_totals():
    fig = every_figure()["over_time"]
    names = [trace["name"] for trace in fig["data"]]
    assert names == ["Home", "Food", "Uncategorized"]     # largest first
    food = fig["data"][1]
    assert food["x"] == ["2026-01-01", "2026-02-01"] and food["y"] == [50.0, 25.0]
    assert food["customdata"][0][1:3] == ["$50.00", "$1,050.00"]    # its value, of the bucket's total
    assert fig["layout"]["barmode"] == "relative"


def test_comparison_and_bars_at_the_display_level():
    bars = every_figure()["bars"]["data"][0]
    assert bars["y"] == ["Uncategorized", "Food", "Home"]
    assert bars["x"] == [7.5, 72.0, 1000.0]
    change = every_figure()["comparison"]["data"][0]
    assert dict(zip(change["y"], change["x"], strict=True)) == {"Food": 32.0, "Uncategorized": 7.5}
    assert "new" in [row[2] for row in change["customdata"]]


def test_payees_largest_on_top():
    payees = every_figure()["payees"]["data"][0]
    assert payees["y"] == ["(no payee)", "Market", "Landlord"]   # a missing payee (None, or NaN from pandas)
    assert payees["customdata"][-1] == "1 transaction"


def test_bar_charts_size_their_margins_and_shorten_only_the_axis_labels():
    long_name = "AMAZON MARKETPLACE EU SARL & Co PAYMENT REF 1234567890"
    payees = pd.DataFrame({"payee": [long_name, "Market"], "total_cents": [900000, 7500], "row_count": [3, 4]})
    fig = figs.top_payees(payees, "USD", title="t")
    layout, bars = fig["layout"], fig["data"][0]
    # Plotly's automargin (a measurement of every label in the page, often a second drawing) is off for
    # the names; the money ticks below keep it (on a phone they turn on their side and need the room).
    assert layout["yaxis"]["automargin"] is False and layout["xaxis"]["automargin"] is True
    escaped = "AMAZON MARKETPLACE EU SARL &amp; Co PAYMENT REF 1234567890"
    assert bars["y"] == ["Market", escaped]           # the bars (hover, data table) keep the whole name
    shown = dict(zip(layout["yaxis"]["tickvals"], layout["yaxis"]["ticktext"], strict=True))
    assert shown["Market"] == "Market"
    assert shown[escaped].endswith("…") and shown[escaped].startswith("AMAZON MARKET")
    assert "&amp;" not in shown[escaped][-6:]            # never cut inside an entity
    # The left margin holds the widest label shown (Inter at 13 px, 8% spare), within the room allowed.
    assert theme.text_width("AMAZON") < layout["margin"]["l"] <= theme.LABEL_ROOM + 12


def test_short_labels_fit_their_room():
    assert theme.short_label("Food") == "Food"
    cut = theme.short_label("x" * 80)
    assert cut.endswith("…") and theme.text_width(cut) <= theme.LABEL_ROOM
    assert theme.short_label("Caf&eacute; &lt;b&gt; " * 10).count("&") == theme.short_label("Caf&eacute; &lt;b&gt; " * 10).count(";")
