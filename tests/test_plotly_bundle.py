"""The Plotly bundle the app serves (assets/plotly-ledgerlens.min.js, tools/build_plotly_bundle.sh) holds
only some trace types. A figure of any other type would draw nothing on its page: every trace type the
code builds (``go.<Trace>(...)``, ``dict(type="...")`` / ``{"type": "..."}`` in Plotly JSON, Plotly
Express) must be registered in the bundle, and the bundle must be the plotly.js version plotly.py
writes figures for."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import plotly.graph_objects as go
from plotly.basedatatypes import BaseTraceType

ROOT = Path(__file__).resolve().parent.parent
BUNDLE = ROOT / "assets" / "plotly-ledgerlens.min.js"

# Every trace type Plotly knows, by class name (go.Scattergl -> "scattergl").
TRACE_CLASSES = {name: getattr(go, name)().type for name in dir(go)
                 if isinstance(getattr(go, name), type) and issubclass(getattr(go, name), BaseTraceType)}
TRACE_TYPES = set(TRACE_CLASSES.values())
# Plotly Express functions -> the trace type they draw (extend when a page starts using another one).
EXPRESS = {"bar": "bar", "line": "scatter", "scatter": "scatter", "area": "scatter", "pie": "pie",
           "treemap": "treemap", "sunburst": "sunburst", "histogram": "histogram", "funnel": "funnel",
           "timeline": "bar", "box": "box", "violin": "violin", "icicle": "icicle", "density_heatmap": "histogram2d",
           "imshow": "heatmap", "scatter_geo": "scattergeo", "choropleth": "choropleth"}


def bundle_trace_types(text: str) -> set[str]:
    """The trace types a plotly.js bundle registers (each trace module says moduleType "trace")."""
    return set(re.findall(r'moduleType:"trace",name:"([a-z0-9]+)"', text))


def bundle_version(text: str) -> str | None:
    match = re.search(r'\.version="(\d+\.\d+\.\d+)"', text)
    return match.group(1) if match else None


def trace_types_in(source: str, where: str = "<source>") -> dict[str, str]:
    """{trace type: where it is built} for one Python module's source."""
    found: dict[str, str] = {}
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        # go.Bar(...), plotly.graph_objects.Bar(...) (not dbc.Table)
        owner = func.value if isinstance(func, ast.Attribute) else None
        from_go = (isinstance(owner, ast.Name) and owner.id == "go") or (
            isinstance(owner, ast.Attribute) and owner.attr == "graph_objects")
        if from_go and func.attr in TRACE_CLASSES:
            found.setdefault(TRACE_CLASSES[func.attr], f"{where}:{node.lineno}")
        # px.bar(...)
        if (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "px"):
            found.setdefault(EXPRESS.get(func.attr, f"plotly.express.{func.attr} (unknown: add it to EXPRESS)"),
                             f"{where}:{node.lineno}")
        # dict(type="treemap", ...)
        for keyword in node.keywords:
            if keyword.arg == "type" and isinstance(keyword.value, ast.Constant) and keyword.value.value in TRACE_TYPES:
                found.setdefault(keyword.value.value, f"{where}:{node.lineno}")
    for node in ast.walk(ast.parse(source)):
        # {"type": "sankey", ...}
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if (isinstance(key, ast.Constant) and key.value == "type" and isinstance(value, ast.Constant)
                        and value.value in TRACE_TYPES):
                    found.setdefault(value.value, f"{where}:{node.lineno}")
    return found


def app_trace_types() -> dict[str, str]:
    found: dict[str, str] = {}
    for path in sorted((ROOT / "dashboard").rglob("*.py")):
        for kind, where in trace_types_in(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT))).items():
            found.setdefault(kind, where)
    return found


def test_the_bundle_is_the_plotly_js_version_plotly_py_writes_for():
    from plotly.offline import get_plotlyjs_version

    assert bundle_version(BUNDLE.read_text(encoding="utf-8")) == get_plotlyjs_version()


def test_every_trace_type_the_app_draws_is_in_the_served_bundle():
    served = bundle_trace_types(BUNDLE.read_text(encoding="utf-8"))
    used = app_trace_types()
    # The scan sees the figures (a sanity check of the scan itself, not a list to keep in step).
    assert {"bar", "scatter", "treemap"} <= set(used)
    missing = {kind: where for kind, where in used.items() if kind not in served}
    assert not missing, (f"trace types drawn but not in {BUNDLE.name}: {missing}; add them to "
                         "tools/build_plotly_bundle.sh and rebuild")


def test_the_check_catches_a_trace_type_the_bundle_lacks():
    served = bundle_trace_types(BUNDLE.read_text(encoding="utf-8"))
    source = ('import plotly.graph_objects as go\nimport plotly.express as px\n'
              'a = go.Scattergl(x=[1])\nb = dict(type="choropleth", z=[1])\nc = {"type": "sunburst"}\n'
              'd = px.histogram(df)\ne = dict(type="bar")\nf = dbc.Table([])\ng = dcc.Loading(type="dot")\n')
    used = trace_types_in(source)
    assert set(used) == {"scattergl", "choropleth", "sunburst", "histogram", "bar"}
    assert {kind for kind in used if kind not in served} == {"scattergl", "choropleth", "sunburst", "histogram"}
