"""Calling a Dash callback the way the browser does (and an attacker could): POST /_dash-update-component."""
from __future__ import annotations

import json


def call_callback(client, outputs: list[tuple[str, str]], inputs: list[tuple[str, str, object]],
                  state: list[tuple[str, str, object]] = (), changed: list[str] | None = None):
    """POST one callback request. Returns (status_code, response dict or None).

    ``outputs`` are (id, property); ``inputs``/``state`` are (id, property, value), or a list of
    already-built {id, property, value} items for a wildcard (ALL) slot."""
    if len(outputs) == 1:
        output = f"{outputs[0][0]}.{outputs[0][1]}"
        outputs_payload = {"id": outputs[0][0], "property": outputs[0][1]}
    else:
        output = ".." + "...".join(f"{i}.{p}" for i, p in outputs) + ".."
        outputs_payload = [{"id": i, "property": p} for i, p in outputs]
    payload = {
        "output": output,
        "outputs": outputs_payload,
        "inputs": [x if isinstance(x, list) else {"id": x[0], "property": x[1], "value": x[2]} for x in inputs],
        "state": [x if isinstance(x, list) else {"id": x[0], "property": x[1], "value": x[2]} for x in state],
        "changedPropIds": changed if changed is not None else [f"{i}.{p}" for i, p, _ in inputs[:1]],
    }
    response = client.post("/_dash-update-component", data=json.dumps(payload),
                           content_type="application/json")
    body = None
    if response.status_code == 200 and response.data:
        body = json.loads(response.data).get("response")
    return response.status_code, body
