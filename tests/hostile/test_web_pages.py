"""Pathological pages for the website IPv6 test: bounded, linear, off the event loop."""

from __future__ import annotations

import asyncio
import random

import pytest

from probes.http import HttpResult
from probes.web_ipv6 import html
from probes.web_ipv6.check import _compare


def _page(rnd: random.Random, n: int) -> bytes:
    words = [f"w{rnd.randrange(50_000)}" for _ in range(n)]
    return ("<html><body>" + "".join(f"<p>{w}</p>" for w in words) + "</body></html>").encode()


def test_charset_base64_is_not_a_text_encoding() -> None:
    assert html.charset_of("text/html; charset=base64") is None
    assert html.charset_of("text/html; charset=rot13") is None
    assert html.read(b"<p>hi</p>", "base64").tokens == ["<p>", "hi", "</p>"]


def test_similarity_keeps_its_meaning() -> None:
    a = [f"t{i}" for i in range(1000)]
    assert html.similarity(a, list(a)) == 1.0
    one_word = [*a[:500], "changed", *a[501:]]
    assert 0.98 < html.similarity(a, one_word) < 1.0
    shuffled = list(a)
    random.Random(1).shuffle(shuffled)
    assert html.similarity(a, shuffled) < 0.1  # same words, other page
    assert html.similarity([], ["x"]) == 0.0


@pytest.mark.timeout(120)
async def test_two_large_different_pages_do_not_stall_the_loop() -> None:
    rnd = random.Random(7)
    # 2 x 100k tokens: quadratic difflib took minutes on a quarter of this
    p4, p6 = _page(rnd, 100_000), _page(rnd, 100_000)
    r4 = HttpResult(url="http://a/", status=200, headers={"content-type": "text/html"}, body=p4,
                    redirects=0)
    r6 = HttpResult(url="http://a/", status=200, headers={"content-type": "text/html"}, body=p6,
                    redirects=0)
    ticks = 0
    done = asyncio.Event()

    async def other_plugin() -> None:
        nonlocal ticks
        while not done.is_set():
            ticks += 1
            await asyncio.sleep(0.001)

    ticker = asyncio.create_task(other_plugin())
    fp4, fp6, sim = await asyncio.to_thread(_compare, r4, r6)
    done.set()
    await ticker
    assert fp4 != fp6 and sim < 0.9  # the tags are common, the words are not
    assert ticks > 1  # the loop kept running other work while the pages were compared


@pytest.mark.timeout(60)
def test_cli_output_lines_are_capped_before_textfsm() -> None:
    from collectors.ssh.parsing import MAX_LINE_CHARS, cap_lines, parse
    from collectors.ssh.platforms import Command, CommandKind, TemplateSource

    # 200k characters in one line: uncapped, ntc's cisco_ios_show_version backtracks for hours
    hostile = "sw1 uptime is " + " " * 200_000 + "y\nProcessor board ID FOC1234X0YZ\n"
    capped = cap_lines(hostile)
    assert max(len(line) for line in capped.split("\n")) == MAX_LINE_CHARS
    assert cap_lines("short\nlines\n") == "short\nlines\n"
    cmd = Command(CommandKind.VERSION, "show version", TemplateSource.NTC,
                  "cisco_ios_show_version.textfsm")
    rows = parse(cmd, hostile)
    assert rows and rows[0]["serial"] == ["FOC1234X0YZ"]
