"""The forecast's figures (band, drivers, Sankey) are plain Plotly JSON, built without go.Figure's validation
for speed: Plotly's own validation accepts every one of them, and they say what the frames say."""
from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import plotly.graph_objects as go

from dashboard.figures.forecast import Series, drivers_figure, forecast_figure, sankey_figure

DAYS = [date(2027, 1, 1) + timedelta(days=i) for i in range(90)]


def _frame(shift: int = 0) -> pd.DataFrame:
    return pd.DataFrame({"day": DAYS, "p10": [100_000 - 2_000 * i + shift for i in range(90)],
                         "p50": [100_000 + shift] * 90, "p90": [110_000 + 1_000 * i + shift for i in range(90)]})


def test_the_band_with_a_scenario_is_valid_plotly_json_with_its_breach():
    breach = DAYS[50]
    fig = forecast_figure([Series("Forecast", _frame(), None), Series("New car <b>", _frame(-50_000), breach)],
                          "USD", threshold_cents=0, title="t")
    assert isinstance(fig, dict) and set(fig) == {"data", "layout"}
    checked = go.Figure(fig)   # raises on any property Plotly does not know or a value of the wrong type
    names = [t.name for t in checked.data]
    assert names[:3] == ["Forecast 90th percentile", "Forecast: 10–90 % band", "Forecast: median"]
    assert "New car &lt;b&gt;: 10–90 % band" in names        # user text is made inert
    assert names[-1] == "Threshold $0.00"
    band = checked.data[4]                                   # the scenario's 10th percentile, filled to its 90th
    assert band.fill == "tonexty" and list(band.y[:2]) == [500.0, 480.0] and band.x[0] == "2027-01-01"
    marker = next(t for t in checked.data if t.mode == "markers")
    assert marker.x == ("2027-02-20",) and marker.y == ((100_000 - 50_000 - 2_000 * 50) / 100,)
    assert fig["layout"]["annotations"][0]["x"] == "2027-02-20"
    assert fig["layout"]["hovermode"] == "x unified" and fig["layout"]["xaxis"]["ticktext"][0] == "Jan<br>2027"


def test_an_empty_forecast_says_so():
    fig = forecast_figure([Series("Forecast", _frame().iloc[0:0], None)], "USD")
    go.Figure(fig)
    assert fig["data"] == [] and "Nothing to forecast" in fig["layout"]["annotations"][0]["text"]


def test_drivers_and_sankey_are_valid_plotly_json():
    drivers = pd.DataFrame({"label": ["Rent", "Food"], "cents": [-120_000, -45_050],
                            "source": ["scheduled", "typical spending"]})
    fig = drivers_figure(drivers, "USD", until_label="Mar 1, 2027")
    bar = go.Figure(fig).data[0]
    assert list(bar.y) == ["Food", "Rent"] and list(bar.x) == [450.5, 1200.0] and bar.text == ("$450.50", "$1,200.00")
    go.Figure(drivers_figure(drivers.iloc[0:0], "USD", until_label="x"))
    fig = sankey_figure(["Salary", "Income", "Food", "Saved"], ["#2e9d5b", None, "#3459e6", None], [0, 1, 1],
                        [1, 2, 3], [300_000, 100_000, 200_000], "USD", title="t")
    sankey = go.Figure(fig).data[0]
    assert sankey.type == "sankey" and list(sankey.link.value) == [3000.0, 1000.0, 2000.0]
    assert sankey.node.label[0] == "Salary  $3,000.00"
    empty = sankey_figure([], [], [], [], [], "USD", title="t")
    go.Figure(empty)
    assert empty["data"] == []
