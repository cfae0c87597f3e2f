"""The streaming writer: volatile lines per platform, judging an output complete, bounded
memory on a 10 MB configuration."""

from __future__ import annotations

import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest

from collectors.ssh.backup.platforms import BACKUP_PLATFORMS
from collectors.ssh.backup.secrets import PLATFORM_RULES, Masker
from collectors.ssh.backup.writer import ConfigWriter, NotAConfiguration
from collectors.ssh.platforms import Platform

DATA = Path(__file__).resolve().parents[1] / "data"
KEY = b"k" * 32


def writer(tmp_path: Path, platform: Platform) -> ConfigWriter:
    return ConfigWriter(tmp_path / "out.cfg", BACKUP_PLATFORMS[platform],
                        Masker(KEY, PLATFORM_RULES[platform]))


# platform → (a volatile line as the device prints it, a config it appears in)
VOLATILE: dict[Platform, tuple[list[str], str]] = {
    Platform.HUAWEI: (["!Last configuration was updated at 2026-12-01 10:00:00+08:00 by admin",
                       "!Last configuration was saved at 2026-12-01 10:00:05+08:00",
                       "2026-12-01 10:00:07.120 +08:00",
                       "! HUAWEI CE6880-24S4Q2CQ-EI uptime is 412 days, 3 hours, 7 minutes"],
                      "huawei_display_current-configuration.raw"),
    Platform.HP_COMWARE: (["2026-12-01 10:00:07"], "h3c_display_current-configuration.raw"),
    Platform.CISCO_IOS: (["Building configuration...", "Current configuration : 20547 bytes",
                          "! Last configuration change at 10:00:00 CET Tue Dec 1 2026 by ops",
                          "! NVRAM config last updated at 10:00:00 CET Tue Dec 1 2026",
                          "ntp clock-period 17179862",
                          "! LAB-SW123_9200L uptime is 44 weeks, 4 days, 1 hour, 16 minutes"],
                         "cisco_show_running-config.raw"),
    Platform.RUIJIE_OS: (["Current configuration : 21338 bytes"],
                         "ruijie_show_running-config.raw"),
    Platform.ZTE_ZXROS: (["!last configuration change at 11:00:00 Tue Dec 1 2026 by admin",
                          "!configuration was saved at 11:00:00 Tue Dec 1 2026"],
                         "zte_show_running-config.raw"),
}


def _store(tmp_path: Path, platform: Platform, text: str) -> str:
    w = writer(tmp_path, platform)
    w.feed(text)
    w.finish()
    return (tmp_path / "out.cfg").read_text()


@pytest.mark.parametrize("platform", sorted(VOLATILE))
def test_volatile_lines_never_reach_the_file(tmp_path: Path, platform: Platform) -> None:
    lines, sample = VOLATILE[platform]
    base = (DATA / sample).read_text()
    stored = _store(tmp_path, platform, base)
    # the same configuration with other timestamps / counters stores the same bytes
    moved = "\n".join(lines) + "\n\n" + base
    assert _store(tmp_path, platform, moved) == stored
    for line in lines:
        assert line not in stored


def test_output_is_judged_complete(tmp_path: Path) -> None:
    w = writer(tmp_path, Platform.HUAWEI)
    w.feed("#\nsysname X\n#\ninterface Vlanif10\n")  # cut short: no `return`
    with pytest.raises(NotAConfiguration, match="does not end with 'return'"):
        w.finish()
    w.discard()
    assert not (tmp_path / "out.cfg").exists()
    w = writer(tmp_path, Platform.HUAWEI)
    w.feed("\x1b[?25l@@@@ 0x7f3c\n%%%% \x00\x7f\nreturn\n")
    with pytest.raises(NotAConfiguration, match="control characters"):
        w.finish()


def _huge(lines: int) -> Iterator[str]:
    """A VRP configuration of `lines` lines, in 32 KiB pieces cut anywhere."""
    buf = "#\nsysname BIG\n"
    for i in range(lines):
        buf += (f"interface GigabitEthernet{i // 48}/0/{i % 48}\n description to room {i}\n"
                f" local-user u{i} password irreversible-cipher $1a$S{i}$\n#\n")
        if len(buf) > 32768:
            yield buf[:32768]
            buf = buf[32768:]
    yield buf + "return\n"


def test_large_configuration_streams_with_bounded_memory(tmp_path: Path) -> None:
    """A 4 MB configuration goes through in pieces and the writer's own memory stays under a
    quarter of it: it is never held whole, let alone twice (the 10 MB one over SSH is in
    test_backup.py; tracemalloc makes this test slow, so it stays at 4 MB)."""
    w = writer(tmp_path, Platform.HUAWEI)
    total = 0
    tracemalloc.start()
    try:
        for piece in _huge(45_000):
            total += len(piece)
            w.feed(piece)
        written = w.finish()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert total > 4 * 2**20
    assert written.secrets_masked == 45_000
    assert peak < total // 4, f"peak {peak} bytes for a {total}-byte configuration"
    assert (tmp_path / "out.cfg").stat().st_size == written.size_bytes
