"""Render the dashboard specs with grafana-foundation-sdk and write dashboards/json/.

Run `python -m dashboards.build` (or `--check` to fail when the committed JSON is stale).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from grafana_foundation_sdk.builders import (
    bargauge,
    common,
    gauge,
    prometheus,
    stat,
    table,
    timeseries,
)
from grafana_foundation_sdk.builders import dashboard as db
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.common import (
    LegendDisplayMode,
    LegendPlacement,
    SortOrder,
    TooltipDisplayMode,
)
from grafana_foundation_sdk.models.dashboard import (
    DataSourceRef,
    GridPos,
    ThresholdsMode,
    VariableRefresh,
    VariableSort,
)
from grafana_foundation_sdk.models.dashboard import Threshold as SdkThreshold

from dashboards.catalog import DASHBOARDS
from dashboards.spec import DATASOURCE_UID, DashboardSpec, PanelKind, PanelSpec

OUT = Path(__file__).resolve().parent / "json"
DATASOURCE = DataSourceRef(type_val="prometheus", uid=DATASOURCE_UID)
_PANELS: dict[PanelKind, Any] = {
    PanelKind.TIMESERIES: timeseries.Panel, PanelKind.STAT: stat.Panel,
    PanelKind.TABLE: table.Panel, PanelKind.BARGAUGE: bargauge.Panel,
    PanelKind.GAUGE: gauge.Panel,
}
_VARIABLES = {
    "campus": ("校区 Campus", "label_values(agent_poll_up, campus)"),
    "building": ("楼宇 Building", 'label_values(agent_poll_up{campus=~"$campus"}, building)'),
    "kind": ("设备类型 Device kind", 'label_values(agent_poll_up{campus=~"$campus"}, kind)'),
}


def _variable(name: str) -> db.QueryVariable:
    label, query = _VARIABLES[name]
    return (db.QueryVariable(name).label(label).datasource(DATASOURCE).query(query)
            .multi(True).include_all(True).all_value(".*")
            .refresh(VariableRefresh.ON_TIME_RANGE_CHANGED).sort(VariableSort.ALPHABETICAL_ASC))


def _with_options(kind: PanelKind, builder: Any) -> Any:
    """Explicit options per panel type, so Grafana never falls back to undefined defaults."""
    last = common.ReduceDataOptions().calcs(["lastNotNull"]).values(False)
    if kind is PanelKind.TIMESERIES:
        return (builder.legend(common.VizLegendOptions().display_mode(LegendDisplayMode.LIST)
                               .placement(LegendPlacement.BOTTOM).show_legend(True))
                .tooltip(common.VizTooltipOptions().mode(TooltipDisplayMode.MULTI)
                         .sort(SortOrder.DESCENDING))
                .line_width(1).fill_opacity(10))
    if kind is PanelKind.TABLE:
        return builder.show_header(True)
    return builder.reduce_options(last)


def _panel(spec: PanelSpec, pos: GridPos) -> Any:
    builder = (_PANELS[spec.kind]().title(spec.title).description(spec.description)
               .datasource(DATASOURCE).unit(spec.unit).grid_pos(pos)
               .thresholds(db.ThresholdsConfig().mode(ThresholdsMode.ABSOLUTE).steps(
                   [SdkThreshold(value=t.value, color=t.color) for t in spec.thresholds])))
    builder = _with_options(spec.kind, builder)
    if spec.min is not None:
        builder = builder.min(spec.min)
    if spec.max is not None:
        builder = builder.max(spec.max)
    for i, q in enumerate(spec.queries):
        target = (prometheus.Dataquery().expr(q.expr).ref_id(chr(ord("A") + i))
                  .legend_format(q.legend or "__auto"))
        target = target.instant() if q.instant else target.range()
        builder = builder.with_target(target)
    return builder


def _layout(panels: tuple[PanelSpec, ...]) -> list[GridPos]:
    """Left to right, wrapping at Grafana's 24 columns."""
    out, x, y, row_h = [], 0, 0, 0
    for p in panels:
        if x + p.width > 24:
            x, y, row_h = 0, y + row_h, 0
        out.append(GridPos(h=p.height, w=p.width, x=x, y=y))
        x += p.width
        row_h = max(row_h, p.height)
    return out


def render(spec: DashboardSpec) -> dict[str, Any]:
    builder = (db.Dashboard(spec.title).uid(spec.uid).description(
        f"{spec.description} (Audience: {spec.audience}.)").tags(list(spec.tags))
        .refresh("1m").time("now-6h", "now").timezone("browser").editable())
    for name in spec.variables:
        builder = builder.with_variable(_variable(name))
    for panel, pos in zip(spec.panels, _layout(spec.panels), strict=True):
        builder = builder.with_panel(_panel(panel, pos))
    out: dict[str, Any] = json.loads(json.dumps(builder.build(), cls=JSONEncoder))
    return out


def render_all() -> dict[str, dict[str, Any]]:
    return {f"{spec.uid}.json": render(spec) for spec in DASHBOARDS}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--check", action="store_true", help="fail if dashboards/json is stale")
    args = p.parse_args(argv)
    stale = []
    OUT.mkdir(exist_ok=True)
    for name, model in render_all().items():
        text = json.dumps(model, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
        path = OUT / name
        if args.check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(name)
        else:
            path.write_text(text, encoding="utf-8")
            print(path)
    if stale:
        print(f"stale: {', '.join(stale)} (run python -m dashboards.build)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
