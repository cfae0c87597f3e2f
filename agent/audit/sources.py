"""Where `campusmon report` reads its points: the local store, or a central VictoriaMetrics /
Prometheus through the standard query API (`GET /api/v1/query` with a range selector returns
the raw samples of the window, on both servers).

Influx line protocol `M f=…` is stored centrally as `M_f` (VictoriaMetrics' mapping), so each
measurement of `inputs.MEASUREMENTS` is fetched with a regex of its own field names and split
back into (measurement, field) without ambiguity (`snmp_ip_traffic` vs `snmp_ip_if_traffic`).
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.parse
import urllib.request
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

from agent.audit.inputs import MEASUREMENTS
from agent.errors import CampusmonError
from agent.localstore import LocalStore
from agent.model import FieldValue, Metric

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
            out.extend(store.query(m, None, start_ns, end_ns))
        return out
    finally:
        store.close()


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
        wanted = sorted(campuses)
        # a regex inside a PromQL string literal: the regex's backslashes are escaped again
        alts = "|".join(re.escape(c).replace("\\", "\\\\").replace('"', '\\"')
                        for c in wanted)
        campus_sel = f',campus=~"{alts}"' if wanted else ""
        rows: list[tuple[str, dict[str, str], str, int, float]] = []
        for meas, fields in MEASUREMENTS.items():
            names = "|".join(f"{meas}_{f}" for f in fields)
            selector = f'{{__name__=~"{names}"{campus_sel}}}'
            for labels, values in self.range_samples(selector, start_ns, end_ns):
                field = labels.get("__name__", "")[len(meas) + 1:]
                tags = {k: v for k, v in labels.items() if k not in _DROP_LABELS}
                for ts, v in values:
                    rows.append((meas, tags, field, ts, v))
        return merge_fields(rows)
