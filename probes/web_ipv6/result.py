"""The website IPv6-support result: a stable JSON document for audits and reports.

Schema `campusmon.web_ipv6/1` (add fields only; renaming or removing one bumps the version).
Items follow docs/standards.md#b-4 (国家IPv6发展监测平台 test items):

    {
      "schema": "campusmon.web_ipv6/1",
      "site": "www.example.edu.cn",          # host name tested
      "url": "https://www.example.edu.cn/",  # homepage URL
      "checked_at": "2026-11-22T19:30:00+00:00",
      "pass": false,                         # every item below passed
      "aaaa":      {"pass", "addresses": [...], "a_addresses": [...], "detail"},
      "homepage":  {"pass", "tries", "successes", "success_ratio", "min_success_ratio",
                    "status", "errors": [...]},                  # 首页IPv6可访问 + 访问成功率
      "ns":        {"pass", "zone", "servers": [{"name", "ipv6": [...]}], "detail"},
                                                                 # 完整的IPv6域名授权体系
      "content":   {"pass", "similarity", "min_similarity", "ipv4_fingerprint",
                    "ipv6_fingerprint", "detail"},               # 首页IPv4/IPv6内容一致性
      "links_l2":  {"pass", "total", "reachable", "ratio", "min_ratio", "failed": [...]},
      "links_l3":  {same as links_l2},                           # 二级/三级内链IPv6支持率
      "latency":   {"pass", "ipv4_seconds", "ipv6_seconds", "ratio", "max_ratio",
                    "dns_ipv4_seconds", "dns_ipv6_seconds"}      # IPv6 vs IPv4 performance
    }

Ratios are null when there was nothing to measure (no in-site links, no IPv4 to compare);
an item with nothing to measure passes (links) or fails (latency without IPv6) as its detail
says. Latencies are medians of the repeated tries, connect + first byte.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any

from agent.core.model import Metric

SCHEMA = "campusmon.web_ipv6/1"


@dataclass(slots=True)
class AaaaItem:
    passed: bool = False
    addresses: list[str] = field(default_factory=list)
    a_addresses: list[str] = field(default_factory=list)
    detail: str = ""


@dataclass(slots=True)
class HomepageItem:
    passed: bool = False
    tries: int = 0
    successes: int = 0
    success_ratio: float = 0.0
    min_success_ratio: float = 1.0
    status: int | None = None
    errors: list[str] = field(default_factory=list)


@dataclass(slots=True)
class NameServer:
    name: str
    ipv6: list[str] = field(default_factory=list)


@dataclass(slots=True)
class NsItem:
    passed: bool = False
    zone: str = ""
    servers: list[NameServer] = field(default_factory=list)
    detail: str = ""


@dataclass(slots=True)
class ContentItem:
    passed: bool = False
    similarity: float | None = None
    min_similarity: float = 0.98
    ipv4_fingerprint: str = ""
    ipv6_fingerprint: str = ""
    detail: str = ""


@dataclass(slots=True)
class LinksItem:
    passed: bool = True
    total: int = 0
    reachable: int = 0
    ratio: float | None = None
    min_ratio: float = 0.9
    failed: list[str] = field(default_factory=list)


@dataclass(slots=True)
class LatencyItem:
    passed: bool = False
    ipv4_seconds: float | None = None
    ipv6_seconds: float | None = None
    ratio: float | None = None
    max_ratio: float = 1.5
    dns_ipv4_seconds: float | None = None
    dns_ipv6_seconds: float | None = None
    detail: str = ""


@dataclass(slots=True)
class WebIpv6Result:
    site: str
    url: str
    checked_at: str
    aaaa: AaaaItem = field(default_factory=AaaaItem)
    homepage: HomepageItem = field(default_factory=HomepageItem)
    ns: NsItem = field(default_factory=NsItem)
    content: ContentItem = field(default_factory=ContentItem)
    links_l2: LinksItem = field(default_factory=LinksItem)
    links_l3: LinksItem = field(default_factory=LinksItem)
    latency: LatencyItem = field(default_factory=LatencyItem)

    @property
    def passed(self) -> bool:
        return all(i.passed for i in (self.aaaa, self.homepage, self.ns, self.content,
                                      self.links_l2, self.links_l3, self.latency))

    def to_json_dict(self) -> dict[str, Any]:
        def conv(obj: Any) -> Any:
            if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
                return {("pass" if f.name == "passed" else f.name): conv(getattr(obj, f.name))
                        for f in dataclasses.fields(obj)}
            if isinstance(obj, list):
                return [conv(x) for x in obj]
            return obj
        d: dict[str, Any] = {"schema": SCHEMA, "site": self.site, "url": self.url,
                             "checked_at": self.checked_at, "pass": self.passed}
        for name in ("aaaa", "homepage", "ns", "content", "links_l2", "links_l3", "latency"):
            d[name] = conv(getattr(self, name))
        return d

    def to_json(self) -> str:
        return json.dumps(self.to_json_dict(), ensure_ascii=False, indent=1)

    def metric(self) -> Metric:
        """`web_ipv6_support`: 0/1 per item, ratios as measured (absent when not measured)."""
        f: dict[str, int | float] = {
            "aaaa": int(self.aaaa.passed),
            "homepage_ipv6": int(self.homepage.successes > 0),
            "success_ratio": self.homepage.success_ratio,
            "ns_ipv6": int(self.ns.passed),
            "content_consistent": int(self.content.passed),
            "pass": int(self.passed),
        }
        for name, value in (("links_l2_ratio", self.links_l2.ratio),
                            ("links_l3_ratio", self.links_l3.ratio),
                            ("latency_ratio", self.latency.ratio),
                            ("content_similarity", self.content.similarity)):
            if value is not None:
                f[name] = value
        return Metric("web_ipv6_support", {"site": self.site}, f)
