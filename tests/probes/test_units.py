"""Pure pieces: which probes a target gets, HTML links and normalisation, the OUI table."""

from __future__ import annotations

from pathlib import Path

from agent.core.plugin import Target
from inventory.models import Device, DeviceKind
from probes.discovery.oui import OuiTable
from probes.dualstack.config import DualStackConfig
from probes.dualstack.plan import plan_for
from probes.web_ipv6 import html


def test_plan_from_inventory_services_and_static_targets() -> None:
    cfg = DualStackConfig.model_validate({"tcp": {"ports": [8443]},
                                          "dns": {"names": ["edu.cn"]}})
    dev = Device("dns-1", DeviceKind.SERVER, "c", "b", None, ipv4="10.0.0.53",
                 ipv6="2001:db8::53", services=frozenset({"dns", "ssh", "https"}))
    plan = plan_for(Target(id="dns-1", device=dev, ipv4=dev.ipv4, ipv6=dev.ipv6), cfg)
    assert plan.tcp_ports == (22, 53, 443, 8443)
    assert plan.dns_names == ("edu.cn",)
    assert plan.urls == ("https://10.0.0.53/",)
    assert (plan.ipv4, plan.ipv6, plan.icmp) == ("10.0.0.53", "2001:db8::53", True)
    site = plan_for(Target(id="portal", hostname="www.example.edu.cn", port=443), cfg)
    assert site.hostname == "www.example.edu.cn" and site.urls == (
        "https://www.example.edu.cn/",)
    assert site.dns_names == ()
    upstream = plan_for(Target(id="dns", ipv4="223.5.5.5", ipv6="2400:3200::1", port=53), cfg)
    assert upstream.dns_names == ("edu.cn",) and upstream.urls == ()
    literal = plan_for(Target(id="x", hostname="2001:db8::1"), cfg)
    assert literal.ipv6 == "2001:db8::1" and literal.hostname is None
    override = DualStackConfig.model_validate({"http": {"urls": {"portal": "http://a/b"}}})
    assert plan_for(Target(id="portal", hostname="a", port=80), override).urls == (
        "http://a/b",)


def test_in_site_links() -> None:
    page = html.read(b'<a href="/a/">A</a><a href="b.html#x">B</a><a href="#top">T</a>'
                     b'<a href="http://other.example/">O</a><a href="mailto:x@y">M</a>'
                     b'<a href="https://www.s.cn/c">C</a><a href="/a/">dup</a>'
                     b'<a href="javascript:void(0)">J</a><a>no href</a>')
    links = html.in_site_links("https://www.s.cn/dir/index.html", page.links)
    assert links == ["https://www.s.cn/a/", "https://www.s.cn/dir/b.html",
                     "https://www.s.cn/c"]


def test_normalisation_ignores_scripts_whitespace_and_attributes() -> None:
    a = html.read(b"<html><body><h1>Hi  there</h1><script>var t=1;</script>"
                  b'<p class="x" data-nonce="1">text</p></body></html>')
    b = html.read(b"<html>\n<body>\n<h1>Hi there</h1><script>var t=2;</script>"
                  b'<p class="y" data-nonce="2">text</p>\n</body></html>')
    assert a.tokens == b.tokens and html.similarity(a.tokens, b.tokens) == 1.0
    c = html.read(b"<html><body><h1>Hi there</h1><p>other words here</p></body></html>")
    assert html.similarity(a.tokens, c.tokens) < 0.98
    broken = html.read(b"<html><body><p>unclosed <b>tags <<>> &bogus; \xff\xfe")
    assert "unclosed" in broken.tokens  # lenient: no exception on broken markup
    assert html.charset_of("text/html; charset=GBK") == "gbk"
    assert html.charset_of("text/html; charset=nonsense") is None


def test_oui_table(tmp_path: Path) -> None:
    f = tmp_path / "oui.txt"
    f.write_text("00-E0-FC   (hex)\t\tHUAWEI TECHNOLOGIES CO.,LTD\n"
                 "00E0FC     (base 16)\t\tHUAWEI TECHNOLOGIES CO.,LTD\n")
    t = OuiTable(f)
    assert t.vendor("00:E0:FC:12:34:56") == "HUAWEI TECHNOLOGIES CO.,LTD"
    assert t.vendor("00:11:22:33:44:55") is None
    assert t.vendor("02:00:00:00:00:01") == "(locally administered address)"
    missing = OuiTable(tmp_path / "absent.txt")
    assert missing.vendor("00:e0:fc:00:00:01") is None and "ieee-data" in missing.note
