"""Dashboards: up to date, valid against Grafana's dashboard model (grafana-foundation-sdk's
types), sound structure, provisioning files in Grafana's format, every query accepted by a
real VictoriaMetrics."""

from __future__ import annotations

import json
import re
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.cog.plugins import register_default_plugins
from grafana_foundation_sdk.models import bargauge, gauge, prometheus, stat, table, timeseries
from grafana_foundation_sdk.models.dashboard import Dashboard, Panel

from dashboards import build
from dashboards.spec import DATASOURCE_UID
from tests.servers import VictoriaMetrics

ROOT = Path(build.__file__).resolve().parent
FILES = sorted((ROOT / "json").glob("*.json"))
OPTION_TYPES = {"stat": stat.Options, "bargauge": bargauge.Options, "table": table.Options,
                "timeseries": timeseries.Options, "gauge": gauge.Options}
BUILTIN_VARS = {"__range", "__interval", "__rate_interval"}


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def substitute(expr: str) -> str:
    """Grafana's substitution for 'All' on every variable, and a concrete range."""
    return expr.replace("$__range", "1h").replace("$campus", ".*").replace(
        "$building", ".*").replace("$kind", ".*")


def test_committed_json_is_up_to_date() -> None:
    assert build.main(["--check"]) == 0
    assert len(FILES) == 8


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_round_trips_through_the_sdk_model(path: Path) -> None:
    register_default_plugins()
    data = load(path)
    model = Dashboard.from_json(data)
    assert model.panels, "no panels"
    for panel in model.panels:
        assert isinstance(panel, Panel), "no row panels are generated"
        assert isinstance(panel.options, OPTION_TYPES[panel.type_val]), panel.type_val
        for target in panel.targets or []:
            assert isinstance(target, prometheus.Dataquery), type(target)
    again = json.loads(json.dumps(model, cls=JSONEncoder))
    assert again == data


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_structure(path: Path) -> None:
    data = load(path)
    variables = {v["name"] for v in data["templating"]["list"]}
    assert {"campus", "building", "kind"} <= variables
    assert re.search(r"[\u4e00-\u9fff]", data["title"]) and re.search(r"[A-Za-z]", data["title"])
    cells: set[tuple[int, int]] = set()
    for p in data["panels"]:
        title = p["title"]
        assert re.search(r"[\u4e00-\u9fff]", title) and re.search(r"[A-Za-z]", title), title
        assert p["description"].strip(), title
        assert p["fieldConfig"]["defaults"].get("unit"), title
        assert p["fieldConfig"]["defaults"]["thresholds"]["steps"], title
        assert p["datasource"] == {"type": "prometheus", "uid": DATASOURCE_UID}
        refs = [t["refId"] for t in p["targets"]]
        assert refs and len(refs) == len(set(refs)), title
        for t in p["targets"]:
            used = set(re.findall(r"\$(\w+)", t["expr"]))
            assert used <= variables | BUILTIN_VARS, (title, used)
        g = p["gridPos"]
        assert g["x"] + g["w"] <= 24
        for x in range(g["x"], g["x"] + g["w"]):
            for y in range(g["y"], g["y"] + g["h"]):
                assert (x, y) not in cells, f"{title} overlaps another panel"
                cells.add((x, y))
    assert len({load(f)["uid"] for f in FILES}) == len(FILES)


DATASOURCES_SCHEMA = {
    "type": "object", "required": ["apiVersion", "datasources"],
    "additionalProperties": False,
    "properties": {
        "apiVersion": {"const": 1},
        "deleteDatasources": {"type": "array"},
        "datasources": {"type": "array", "minItems": 1, "items": {
            "type": "object", "required": ["name", "type", "access", "url"],
            "additionalProperties": False,
            "properties": {
                "name": {"type": "string"}, "uid": {"type": "string"},
                "type": {"type": "string"}, "access": {"enum": ["proxy", "direct"]},
                "url": {"type": "string", "pattern": "^https?://"},
                "orgId": {"type": "integer"}, "isDefault": {"type": "boolean"},
                "editable": {"type": "boolean"}, "basicAuth": {"type": "boolean"},
                "basicAuthUser": {"type": "string"}, "user": {"type": "string"},
                "version": {"type": "integer"},
                "jsonData": {"type": "object"}, "secureJsonData": {"type": "object"}}}}},
}
DASHBOARDS_SCHEMA = {
    "type": "object", "required": ["apiVersion", "providers"], "additionalProperties": False,
    "properties": {
        "apiVersion": {"const": 1},
        "providers": {"type": "array", "minItems": 1, "items": {
            "type": "object", "required": ["name", "type", "options"],
            "additionalProperties": False,
            "properties": {
                "name": {"type": "string"}, "orgId": {"type": "integer"},
                "folder": {"type": "string"}, "folderUid": {"type": "string"},
                "type": {"const": "file"}, "disableDeletion": {"type": "boolean"},
                "allowUiUpdates": {"type": "boolean"},
                "updateIntervalSeconds": {"type": "integer"},
                "options": {"type": "object", "required": ["path"],
                            "additionalProperties": False,
                            "properties": {"path": {"type": "string"},
                                           "foldersFromFilesStructure": {"type": "boolean"}}}}}}},
}


def test_provisioning_files_follow_grafanas_format() -> None:
    ds = yaml.safe_load((ROOT / "provisioning/datasources/campusmon.yaml").read_text())
    jsonschema.validate(ds, DATASOURCES_SCHEMA)
    assert ds["datasources"][0]["uid"] == DATASOURCE_UID
    assert ds["datasources"][0]["type"] == "prometheus"
    dash = yaml.safe_load((ROOT / "provisioning/dashboards/campusmon.yaml").read_text())
    jsonschema.validate(dash, DASHBOARDS_SCHEMA)


def all_exprs() -> list[tuple[str, str, str]]:
    out: list[tuple[str, str, str]] = []
    for f in FILES:
        d = load(f)
        for p in d["panels"]:
            out.extend((f.stem, p["title"], t["expr"]) for t in p["targets"])
        for v in d["templating"]["list"]:
            out.append((f.stem, f"variable {v['name']}", v["query"]))
    return out


def vm_query(vm_url: str, expr: str) -> tuple[int, dict[str, Any]]:
    if expr.startswith("label_values("):
        m = re.match(r"label_values\((?:(.*),\s*)?(\w+)\)$", expr)
        assert m, expr
        sel, label = m.group(1), m.group(2)
        q = urllib.parse.urlencode({"match[]": substitute(sel)} if sel else {})
        url = f"{vm_url}/api/v1/label/{label}/values?{q}"
    else:
        url = f"{vm_url}/api/v1/query?" + urllib.parse.urlencode({"query": substitute(expr)})
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def test_every_query_is_accepted_by_victoria_metrics(victoria_metrics: VictoriaMetrics) -> None:
    bad = []
    for dash, title, expr in all_exprs():
        code, body = vm_query(victoria_metrics.url, expr)
        if code != 200 or body.get("status") != "success":
            bad.append(f"{dash} / {title}: {code} {body.get('error', '')}")
    assert not bad, "\n".join(bad)
