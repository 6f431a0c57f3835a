import dash
from dash import html

dash.register_page(__name__, path="/", name="Overview", order=0)


def layout(**_query):
    return html.Div("Overview")
