"""The website IPv6-support test (standards.md b.4) against sites in the namespace lab."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from probes.web_ipv6.check import SiteCheck
from probes.web_ipv6.config import WebIpv6Options
from probes.web_ipv6.result import SCHEMA
from tests.probes.conftest import RESOLVER6, ZONE, DualStackLab

pytestmark = [pytest.mark.root, pytest.mark.timeout(120)]

OPTS = {"resolvers": [RESOLVER6], "tries": 3, "try_interval_secs": 0.0, "timeout_secs": 2.0,
        "dns_timeout_secs": 1.0, "max_latency_ratio": 50.0}


def _check(url: str, **extra: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    async def go() -> tuple[dict[str, Any], dict[str, Any]]:
        res = await SiteCheck(url, WebIpv6Options.model_validate({**OPTS, **extra})).run()
        m = res.metric()
        return json.loads(res.to_json()), {"tags": dict(m.tags), "fields": dict(m.fields)}
    return asyncio.run(go())


def test_site_supporting_ipv6_with_one_broken_deep_link(dslab: DualStackLab) -> None:
    res, metric = dslab.run(_check, f"http://www.{ZONE}/")
    assert res["schema"] == SCHEMA and res["site"] == f"www.{ZONE}"
    assert res["aaaa"]["pass"] and res["aaaa"]["addresses"] == ["fd00:99:1::4"]
    assert res["homepage"] == {**res["homepage"], "pass": True, "tries": 3, "successes": 3,
                               "success_ratio": 1.0, "status": 200}
    assert res["ns"]["pass"] and res["ns"]["zone"] == ZONE
    assert res["ns"]["servers"] == [{"name": f"ns1.{ZONE}", "ipv6": ["fd00:99:1::2"]}]
    assert res["content"]["pass"] and res["content"]["similarity"] == 1.0
    # homepage → /news/, /about/ (the external link, #top and mailto: are not in-site)
    assert res["links_l2"]["total"] == 2 and res["links_l2"]["ratio"] == 1.0
    # 4 third-level pages; news/2.html is missing on the IPv6 server
    assert res["links_l3"]["total"] == 4 and res["links_l3"]["reachable"] == 3
    assert res["links_l3"]["failed"] == [f"http://www.{ZONE}/news/2.html"]
    assert not res["links_l3"]["pass"]
    assert res["latency"]["ratio"] is not None and res["latency"]["pass"]
    assert not res["pass"]
    assert metric["tags"] == {"site": f"www.{ZONE}"}
    f = metric["fields"]
    assert (f["aaaa"], f["homepage_ipv6"], f["ns_ipv6"], f["content_consistent"],
            f["pass"]) == (1, 1, 1, 1, 0)
    assert f["links_l2_ratio"] == 1.0 and f["links_l3_ratio"] == 0.75
    assert f["success_ratio"] == 1.0 and "latency_ratio" in f


def test_different_content_over_ipv6_fails_consistency(dslab: DualStackLab) -> None:
    res, metric = dslab.run(_check, f"http://diff.{ZONE}/")
    assert res["homepage"]["pass"]
    assert not res["content"]["pass"]
    assert res["content"]["similarity"] < 0.98
    assert res["content"]["ipv4_fingerprint"] != res["content"]["ipv6_fingerprint"]
    assert metric["fields"]["content_consistent"] == 0


def test_site_without_ipv6_and_ns_without_aaaa(dslab: DualStackLab) -> None:
    res, metric = dslab.run(_check, f"http://v4only.{ZONE}/")
    assert not res["aaaa"]["pass"] and "no AAAA" in res["aaaa"]["detail"]
    assert res["homepage"]["successes"] == 0 and res["homepage"]["success_ratio"] == 0.0
    assert not res["latency"]["pass"]
    assert metric["fields"]["pass"] == 0 and metric["fields"]["homepage_ipv6"] == 0
    res, _ = dslab.run(_check, f"http://www.legacy.{ZONE}/")
    assert res["ns"]["zone"] == f"legacy.{ZONE}"
    assert res["ns"]["servers"] == [{"name": f"ns.legacy.{ZONE}", "ipv6": []}]
    assert not res["ns"]["pass"]
