"""Where `campusmon report` reads its points: the local store, or a central VictoriaMetrics /
Prometheus through the standard query API (`GET /api/v1/query` with a range selector returns
the raw samples of the window, on both servers).

Influx line protocol `M f=…` is stored centrally as `M_f` (VictoriaMetrics' mapping; a
Prometheus that scraped our exporter has `M_f_total` for counters and `M` for `*_info`), so
each measurement of `inputs.MEASUREMENTS` is fetched with a regex of its own field names and
split back into (measurement, field) without ambiguity (`snmp_ip_traffic` vs
`snmp_ip_if_traffic`).
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.parse
import urllib.request
from collections import defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path

from agent.core.errors import CampusmonError
from agent.core.model import FieldValue, Metric
from agent.framework.localstore import LocalStore
from agent.processors.audit.inputs import MEASUREMENTS

# labels the central store or its scraper adds that are not part of a series' identity here
_DROP_LABELS = frozenset({"__name__", "db", "job", "instance"})


class SourceError(CampusmonError):
    pass


def local_points(store_path: Path, start_ns: int, end_ns: int) -> list[Metric]:
    if not store_path.exists():
        raise SourceError(f"no local store at {store_path} (has the agent run with this "
                          "config, with local_store enabled?)")
    store = LocalStore.open_readonly(store_path)
    try:
        out: list[Metric] = []
        for m in MEASUREMENTS:
            # counters only of egress devices (what the audits read): the store then opens
            # only their blocks, not a day of every port of the campus
            flt = _egress_series if m in EGRESS_COUNTERS else None
            out.extend(store.query(m, None, start_ns, end_ns, series_filter=flt))
        return out
    finally:
        store.close()


def _egress_series(_name: str, tags: Mapping[str, str]) -> bool:
    return "egress" in tags.get("roles", "").split(",")


def merge_fields(samples: Iterable[tuple[str, dict[str, str], str, int, float]]) -> list[Metric]:
    """(measurement, tags, field, ts_ns, value) rows → one Metric per series and timestamp."""
    grouped: dict[tuple[str, tuple[tuple[str, str], ...], int], dict[str, FieldValue]] = \
        defaultdict(dict)
    for meas, tags, fld, ts, value in samples:
        grouped[(meas, tuple(sorted(tags.items())), ts)][fld] = value
    return [Metric(meas, dict(tags), fields, ts) for (meas, tags, ts), fields in grouped.items()]


class PromClient:
    """A minimal Prometheus HTTP API client (stdlib only: one GET per measurement)."""

    def __init__(self, url: str, timeout_s: float = 30.0) -> None:
        self.url = url.rstrip("/")
        self.timeout_s = timeout_s

    def _get(self, path: str, params: dict[str, str]) -> dict[str, object]:
        full = f"{self.url}{path}?{urllib.parse.urlencode(params)}"
        try:
            with urllib.request.urlopen(full, timeout=self.timeout_s) as resp:
                body: dict[str, object] = json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            detail = exc.read()[:300].decode(errors="replace")
            raise SourceError(f"{self.url}: HTTP {exc.code}: {detail}") from None
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise SourceError(f"cannot reach {self.url}: {exc}") from None
        except json.JSONDecodeError:
            raise SourceError(f"{self.url}: the answer is not JSON (is this a "
                              "VictoriaMetrics or Prometheus query API?)") from None
        if body.get("status") != "success":
            raise SourceError(f"{self.url}: query failed: {body.get('error', body)}")
        return body

    def range_samples(self, selector: str, start_ns: int, end_ns: int
                      ) -> list[tuple[dict[str, str], list[tuple[int, float]]]]:
        window_s = max(1, (end_ns - start_ns) // 10**9)
        body = self._get("/api/v1/query", {"query": f"{selector}[{window_s}s]",
                                           "time": f"{end_ns / 1e9:.3f}"})
        data = body.get("data")
        if not isinstance(data, dict):
            return []
        out = []
        for r in data.get("result", []):
            labels = {str(k): str(v) for k, v in r.get("metric", {}).items()}
            values = [(round(float(t) * 1000) * 10**6, float(v))
                      for t, v in r.get("values", [])]
            out.append((labels, values))
        return out

    def points(self, start_ns: int, end_ns: int, campuses: Iterable[str] = ()) -> list[Metric]:
        """Every point the audits read, fetched measurement by measurement.

        The inventory series come first: they name the egress devices, so the counter
        histories (the bulk of a day of data) are fetched for those devices only, and the
        neighbour table for its IPv6 rows only."""
        campus_sel = _regex_matcher("campus", sorted(campuses))
        rows: list[tuple[str, dict[str, str], str, int, float]] = []
        order = sorted(MEASUREMENTS, key=lambda m: not m.startswith("audit_"))
        egress: set[str] | None = None
        for meas in order:
            if egress is None and not meas.startswith("audit_"):
                egress = _egress_devices(merge_fields(rows))
            extra = campus_sel
            if meas in EGRESS_COUNTERS and egress is not None:
                if not egress:
                    continue  # no egress device declared: no counter history is read
                extra += _regex_matcher("device", sorted(egress))
            elif meas == "snmp_fdb":
                extra += ',ip=~".*:.*"'  # only IPv6 neighbours matter (IoT IPv6 audit)
            names = "|".join(n for f in MEASUREMENTS[meas] for n in _stored_names(meas, f))
            for labels, values in self.range_samples(f'{{__name__=~"{names}"{extra}}}',
                                                     start_ns, end_ns):
                field = _field_of(meas, labels.get("__name__", ""))
                tags = {k: v for k, v in labels.items() if k not in _DROP_LABELS}
                for ts, v in values:
                    rows.append((meas, tags, field, ts, v))
        return merge_fields(rows)


def _stored_names(meas: str, field: str) -> list[str]:
    """The names a field may have centrally: `M_f` (VictoriaMetrics' Influx mapping), and as a
    Prometheus server scraped it from our exporter (exporters/prometheus/naming.py): counters
    end in `_total`, an `*_info` measurement's `info` field is the measurement itself."""
    names = [f"{meas}_{field}", f"{meas}_{field}_total"]
    if field == "info" and meas.endswith("_info"):
        names.append(meas)
    return names


def _field_of(meas: str, name: str) -> str:
    if name == meas:
        return "info"
    return name[len(meas) + 1:].removesuffix("_total")


EGRESS_COUNTERS = frozenset({"snmp_interface", "snmp_ip_traffic", "snmp_ip_if_traffic"})


def _regex_matcher(label: str, values: list[str]) -> str:
    """`,label=~"a|b"` for exact values; a regex inside a PromQL string literal has its
    backslashes escaped again."""
    if not values:
        return ""
    alts = "|".join(re.escape(v).replace("\\", "\\\\").replace('"', '\\"')
                    for v in values)
    return f',{label}=~"{alts}"'


def _egress_devices(info: list[Metric]) -> set[str] | None:
    """Egress devices named by `audit_device_info`; None when no inventory was published
    (then nothing is filtered)."""
    devices = [m for m in info if m.name == "audit_device_info"]
    if not devices:
        return None
    return {m.tags["device"] for m in devices if "device" in m.tags
            and "egress" in m.tags.get("roles", "").split(",")}
